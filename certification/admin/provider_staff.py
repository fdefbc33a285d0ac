"""What a course provider's staff see in /admin: their provider's courses, the credits
recorded on them, and a form to record one more. Nothing of candidates beyond that."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext
from flask_login import current_user

from certification.admin.blueprint import bp
from certification.admin.forms import ProviderCreditForm
from certification.admin.paging import paginate
from certification.admin.views import Page, _actor, _done, _submit
from certification.catalogue.services import get_provider
from certification.records import services as records
from certification.web import today

CREDITS_PER_PAGE = 50


def _our_courses_page(form: ProviderCreditForm | None = None, status: int = 200) -> tuple[str, int]:
    provider_id = current_user.provider_id
    courses = records.provider_courses(provider_id)
    return render_template(
        "admin/our_courses.html",
        provider=get_provider(provider_id),
        courses=courses,
        page=paginate(records.provider_credits(provider_id), CREDITS_PER_PAGE),
        form=form or ProviderCreditForm(formdata=None, courses=courses),
    ), status


@bp.route("/our-courses")
def our_courses() -> Page:
    return _our_courses_page()


@bp.route("/our-courses/credits", methods=["POST"])
def our_credit_new() -> Page:
    form = ProviderCreditForm(courses=records.provider_courses(current_user.provider_id))
    return _submit(
        form,
        lambda: records.record_provider_credit(
            form.email.data or "",
            form.course.data or "",
            form.completed_on.data,
            actor=_actor(),
            today=today(),
        ),
        lambda record: _done(
            gettext(
                "Recorded %(course)s for %(name)s.",
                course=record.course.code,
                name=record.candidate.full_name,
            ),
            "admin.our_courses",
        ),
    ) or _our_courses_page(form, status=422)
