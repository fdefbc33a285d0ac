"""The catalogue: programmes with their rules, courses and assessments.

Faces parse input into Python values (``Decimal``, ``int``, ``str``); these functions check
the rules, write, flush and record an audit event. They never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import gettext, ngettext

from certification.audit import record_event
from certification.auth.models import User
from certification.catalogue.models import (
    ApprovalPolicy,
    Assessment,
    Course,
    DomainMinimum,
    Level,
    Programme,
    Provider,
    RenewalDomainMinimum,
    programme_assessment,
)
from certification.errors import Duplicate, Forbidden, NotFound, RuleViolation
from certification.extensions import db
from certification.progress import (
    AssessmentRule,
    Name,
    ProgrammeRules,
    RenewalRule,
    format_decimal,
)
from certification.records.models import AssessmentAttempt, CreditRecord
from certification.unique import add_unique
from certification.validation import (
    FieldErrors,
    as_code,
    check_code,
    check_credits,
    check_marks,
    check_text,
    check_whole_number,
    clean_text,
    country_code,
)

_signals = Namespace()
#: Sent with the programme and ``today`` when a programme is created or its rules change,
#: in the same transaction: whoever keeps figures derived from the rules works them out
#: again (the records area's standings). A signal, because the records area sits above
#: the catalogue and the catalogue may not call it.
programme_rules_changed = _signals.signal("programme-rules-changed")

# ---------------------------------------------------------------- look-ups


def list_programmes() -> list[Programme]:
    return list(db.session.scalars(sa.select(Programme).order_by(Programme.level, Programme.code)))


def list_courses() -> list[Course]:
    return list(db.session.scalars(sa.select(Course).order_by(Course.code)))


def list_assessments() -> list[Assessment]:
    return list(db.session.scalars(sa.select(Assessment).order_by(Assessment.code)))


def list_domains() -> list[str]:
    """Every domain named by a course or a programme rule, for suggestions in forms."""
    names = set(db.session.scalars(sa.select(Course.domain).distinct()))
    names |= set(db.session.scalars(sa.select(DomainMinimum.domain).distinct()))
    return sorted(names)


CatalogueItem = TypeVar("CatalogueItem", Programme, Course, Assessment)


def _find_by_code(model: type[CatalogueItem], code: str) -> CatalogueItem | None:
    """The item whose code ``code`` is, as typed (any case, spaces around); None if none."""
    lookup = as_code(code)
    return db.session.scalar(sa.select(model).where(model.code == lookup)) if lookup else None


def _by_code(model: type[CatalogueItem], code: str, missing: Callable[[str], str]) -> CatalogueItem:
    """The item with ``code``; else NotFound with ``missing``'s sentence for the code."""
    found = _find_by_code(model, code)
    if found is None:
        raise NotFound(missing(repr(code)))
    return found


def get_programme(code: str) -> Programme:
    return _by_code(
        Programme,
        code,
        lambda typed: gettext("There is no programme with the code %(code)s.", code=typed),
    )


def get_course(code: str) -> Course:
    return _by_code(
        Course,
        code,
        lambda typed: gettext("There is no course with the code %(code)s.", code=typed),
    )


def get_assessment(code: str) -> Assessment:
    return _by_code(
        Assessment,
        code,
        lambda typed: gettext("There is no assessment with the code %(code)s.", code=typed),
    )


def _taken(code: str) -> Duplicate:
    return Duplicate(
        gettext("The code %(code)s is already in use.", code=code),
        {"code": gettext("Already in use.")},
    )


def _refuse_taken_code(
    model: type[Programme] | type[Course] | type[Assessment], code: str, current_id: int | None
) -> None:
    existing = db.session.scalar(sa.select(model.id).where(model.code == code))
    if existing is not None and existing != current_id:
        raise _taken(code)


def _count(condition: sa.ColumnElement[bool]) -> int:
    """How many rows meet ``condition`` (credits or results recorded against an item)."""
    return db.session.scalar(sa.select(sa.func.count()).where(condition)) or 0


# ---------------------------------------------------------------- writing, with its audit

# The function that gives an item's editable values (``course_as_input``…): what its
# audit events record.
AsInput = Callable[[Any], "CourseInput | AssessmentInput | ProgrammeInput"]


def _for_audit(values: CourseInput | AssessmentInput | ProgrammeInput) -> dict[str, Any]:
    """The values as JSON for an audit event, numbers written exactly as strings."""

    def exact(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {key: exact(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [exact(item) for item in value]
        return value

    return {key: exact(value) for key, value in asdict(values).items()}


def _insert(item: CatalogueItem, kind: str, as_input: AsInput, actor: User | None) -> CatalogueItem:
    """Add a new programme, course or assessment (``kind``) and record that it was created."""
    add_unique(item, _taken(item.code))
    record_event(actor, f"{kind}.created", kind, item.code, after=_for_audit(as_input(item)))
    return item


def _record_update(
    item: Programme | Course | Assessment,
    kind: str,
    as_input: AsInput,
    actor: User | None,
    before: dict[str, Any],
) -> None:
    """Record that a programme, course or assessment changed from ``before``."""
    record_event(
        actor, f"{kind}.updated", kind, item.code, before=before, after=_for_audit(as_input(item))
    )


def _overwrite(
    item: Course | Assessment,
    data: CourseInput | AssessmentInput,
    kind: str,
    as_input: AsInput,
    actor: User | None,
) -> None:
    """Write checked values onto a course or assessment and record the change."""
    before = _for_audit(as_input(item))
    for key, value in vars(data).items():
        setattr(item, key, value)
    db.session.flush()
    _record_update(item, kind, as_input, actor, before)


def _cannot_delete(message: str) -> RuleViolation:
    """Refuse a deletion with ``message``, one sentence naming the item and the reason."""
    return RuleViolation(message, slug="in_use")


def _remove(item: Course | Assessment, kind: str, as_input: AsInput, actor: User | None) -> None:
    """Delete a course or assessment nothing depends on, and record what it was."""
    before = _for_audit(as_input(item))
    db.session.delete(item)
    db.session.flush()
    record_event(actor, f"{kind}.deleted", kind, before["code"], before=before)


# ---------------------------------------------------------------- providers


@dataclass
class ProviderInput:
    name: str
    country: str  # an ISO code or an English country name; "" for none
    accredited_from: dt.date | None
    accredited_until: dt.date | None


def provider_as_input(provider: Provider) -> ProviderInput:
    return ProviderInput(
        provider.name, provider.country or "", provider.accredited_from, provider.accredited_until
    )


def _provider_for_audit(provider: Provider) -> dict[str, Any]:
    values = asdict(provider_as_input(provider))
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


def list_providers() -> list[Provider]:
    return list(db.session.scalars(sa.select(Provider).order_by(sa.func.lower(Provider.name))))


def get_provider(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise NotFound(gettext("There is no such provider."))
    return provider


def find_provider(name: str) -> Provider | None:
    """The provider of this name, in any case; None if there is none."""
    wanted = clean_text(name).casefold()
    if not wanted:
        return None
    provider = db.session.scalars(
        sa.select(Provider).where(sa.func.lower(Provider.name) == wanted.lower())
    ).first()
    if provider is not None:
        return provider
    # Letters SQL's lower() does not fold the way Python does (ß, non-ASCII on SQLite).
    return next((p for p in list_providers() if p.name.casefold() == wanted), None)


def _check_provider(data: ProviderInput, current_id: int | None) -> ProviderInput:
    errors = FieldErrors()
    name = check_text(errors, "name", clean_text(data.name), 200)
    typed_country = clean_text(data.country)
    country = ""
    if typed_country:
        country = country_code(typed_country) or ""
        if not country:
            errors.add(
                "country",
                gettext(
                    "Not a country we know. Write its English name or its two-letter ISO code,"
                    " e.g. Germany or DE."
                ),
            )
    if (
        data.accredited_from
        and data.accredited_until
        and data.accredited_until < data.accredited_from
    ):
        errors.add("accredited_until", gettext("Must be on or after the day accreditation starts."))
    errors.raise_if_any()
    same_name = find_provider(name)
    if same_name is not None and same_name.id != current_id:
        raise Duplicate(
            gettext("There is already a provider named %(name)s.", name=same_name.name),
            {"name": gettext("Already in use.")},
        )
    return ProviderInput(name, country, data.accredited_from, data.accredited_until)


def _write_provider(provider: Provider, data: ProviderInput) -> None:
    provider.name = data.name
    provider.country = data.country or None
    provider.accredited_from = data.accredited_from
    provider.accredited_until = data.accredited_until


def create_provider(data: ProviderInput, actor: User | None) -> Provider:
    data = _check_provider(data, None)
    provider = Provider()
    _write_provider(provider, data)
    add_unique(
        provider,
        Duplicate(gettext("That name is already in use."), {"name": gettext("Already in use.")}),
    )
    record_event(
        actor, "provider.created", "provider", provider.name, after=_provider_for_audit(provider)
    )
    return provider


def update_provider(provider: Provider, data: ProviderInput, actor: User | None) -> Provider:
    data = _check_provider(data, provider.id)
    before = _provider_for_audit(provider)
    _write_provider(provider, data)
    db.session.flush()
    record_event(
        actor,
        "provider.updated",
        "provider",
        provider.name,
        before=before,
        after=_provider_for_audit(provider),
    )
    return provider


# ---------------------------------------------------------------- courses


@dataclass
class CourseInput:
    code: str
    title: str
    credits: Decimal
    domain: str
    provider: str  # the name of a provider in the catalogue, in any case; "" for none


def course_as_input(course: Course) -> CourseInput:
    """A course's editable values, as a form or the API would send them."""
    return CourseInput(course.code, course.title, course.credits, course.domain, course.provider)


def _check_course(data: CourseInput) -> CourseInput:
    errors = FieldErrors()
    checked = CourseInput(
        code=check_code(errors, "code", data.code),
        title=check_text(errors, "title", clean_text(data.title), 200),
        credits=check_credits(errors, "credits", data.credits),
        domain=check_text(errors, "domain", clean_text(data.domain), 100),
        provider="",
    )
    if typed := clean_text(data.provider):
        # Only a provider the office has put in the catalogue: a typo must not create one.
        if (provider := find_provider(typed)) is None:
            errors.add(
                "provider",
                gettext(
                    "There is no provider named %(name)s in the catalogue;"
                    " the programme office adds providers.",
                    name=typed[:60],
                ),
            )
        else:
            checked.provider = provider.name
    errors.raise_if_any()
    return checked


def _course_values(data: CourseInput) -> dict[str, Any]:
    """A checked course's values as the model's columns: the provider by its row."""
    values = {key: value for key, value in vars(data).items() if key != "provider"}
    values["provided_by"] = find_provider(data.provider) if data.provider else None
    return values


def create_course(data: CourseInput, actor: User | None) -> Course:
    data = _check_course(data)
    _refuse_taken_code(Course, data.code, None)
    return _insert(Course(**_course_values(data)), "course", course_as_input, actor)


def _count_credit_records(course: Course) -> int:
    return _count(CreditRecord.course_id == course.id)


def update_course(course: Course, data: CourseInput, actor: User | None) -> Course:
    data = _check_course(data)
    _refuse_taken_code(Course, data.code, course.id)
    in_use = _count_credit_records(course)
    if in_use and (data.credits != course.credits or data.domain != course.domain):
        # Credits already awarded were awarded on these terms; changing them would silently
        # rewrite every holder's progress.
        raise RuleViolation(
            ngettext(
                "%(num)d credit records use this course, so its credits and domain are fixed."
                " Create a new course instead.",
                "%(num)d credit records use this course, so its credits and domain are fixed."
                " Create a new course instead.",
                in_use,
            ),
            {
                "credits" if data.credits != course.credits else "domain": gettext(
                    "Fixed once recorded."
                )
            },
            slug="in_use",
        )
    before = _for_audit(course_as_input(course))
    for key, value in _course_values(data).items():
        setattr(course, key, value)
    db.session.flush()
    _record_update(course, "course", course_as_input, actor, before)
    return course


def delete_course(course: Course, actor: User | None) -> None:
    if in_use := _count_credit_records(course):
        raise _cannot_delete(
            ngettext(
                "%(code)s cannot be deleted: %(num)d candidates have credits for it.",
                "%(code)s cannot be deleted: %(num)d candidates have credits for it.",
                in_use,
                code=course.code,
            )
        )
    _remove(course, "course", course_as_input, actor)


# ---------------------------------------------------------------- assessments


@dataclass
class AssessmentInput:
    code: str
    title: str
    pass_mark: Decimal
    max_score: Decimal
    max_attempts: int


def assessment_as_input(assessment: Assessment) -> AssessmentInput:
    """An assessment's editable values, as a form or the API would send them."""
    return AssessmentInput(
        assessment.code,
        assessment.title,
        assessment.pass_mark,
        assessment.max_score,
        assessment.max_attempts,
    )


def _check_assessment(data: AssessmentInput) -> AssessmentInput:
    errors = FieldErrors()
    checked = AssessmentInput(
        code=check_code(errors, "code", data.code),
        title=check_text(errors, "title", clean_text(data.title), 200),
        pass_mark=check_marks(errors, "pass_mark", data.pass_mark),
        max_score=check_marks(errors, "max_score", data.max_score),
        max_attempts=check_whole_number(errors, "max_attempts", data.max_attempts, 1, 20) or 0,
    )
    if "max_score" not in errors.messages and checked.max_score <= 0:
        errors.add("max_score", gettext("Must be more than 0."))
    if not errors.messages and checked.pass_mark > checked.max_score:
        errors.add("pass_mark", gettext("The pass mark cannot be above the maximum score."))
    errors.raise_if_any()
    return checked


def create_assessment(data: AssessmentInput, actor: User | None) -> Assessment:
    data = _check_assessment(data)
    _refuse_taken_code(Assessment, data.code, None)
    return _insert(Assessment(**vars(data)), "assessment", assessment_as_input, actor)


def update_assessment(
    assessment: Assessment, data: AssessmentInput, actor: User | None
) -> Assessment:
    data = _check_assessment(data)
    _refuse_taken_code(Assessment, data.code, assessment.id)
    best = db.session.scalar(
        sa.select(sa.func.max(AssessmentAttempt.score)).where(
            AssessmentAttempt.assessment_id == assessment.id
        )
    )
    # The most attempts one candidate has made that count (a withdrawn one does not).
    per_candidate = (
        sa.select(sa.func.count().label("made"))
        .where(
            AssessmentAttempt.assessment_id == assessment.id,
            AssessmentAttempt.withdrawn_at.is_(None),
        )
        .group_by(AssessmentAttempt.candidate_id)
        .subquery()
    )
    attempts_max = db.session.scalar(sa.select(sa.func.max(per_candidate.c.made))) or 0
    if best is not None:
        # Results already recorded were marked against this pass mark and scale.
        if data.pass_mark != assessment.pass_mark:
            raise RuleViolation(
                gettext(
                    "Results have been recorded for this assessment, so its pass mark is fixed."
                ),
                {"pass_mark": gettext("Fixed once results are recorded.")},
                slug="in_use",
            )
        if data.max_score < Decimal(str(best)):
            raise RuleViolation(
                gettext(
                    "A recorded score of %(score)s is above that maximum.",
                    score=format_decimal(Decimal(str(best))),
                ),
                {"max_score": gettext("Below a recorded score.")},
                slug="in_use",
            )
        if data.max_attempts < attempts_max:
            raise RuleViolation(
                ngettext(
                    "A candidate has already made %(num)d attempts.",
                    "A candidate has already made %(num)d attempts.",
                    attempts_max,
                ),
                {"max_attempts": gettext("Below attempts already made.")},
                slug="in_use",
            )
    _overwrite(assessment, data, "assessment", assessment_as_input, actor)
    return assessment


def delete_assessment(assessment: Assessment, actor: User | None) -> None:
    if attempts := _count(AssessmentAttempt.assessment_id == assessment.id):
        raise _cannot_delete(
            ngettext(
                "%(code)s cannot be deleted: %(num)d results are recorded for it.",
                "%(code)s cannot be deleted: %(num)d results are recorded for it.",
                attempts,
                code=assessment.code,
            )
        )
    requiring = list(
        db.session.scalars(
            sa.select(Programme.code)
            .join(programme_assessment, programme_assessment.c.programme_id == Programme.id)
            .where(programme_assessment.c.assessment_id == assessment.id)
        )
    )
    requiring += db.session.scalars(
        sa.select(Programme.code).where(Programme.renewal_assessment_id == assessment.id)
    )
    if requiring:
        raise _cannot_delete(
            gettext(
                "%(code)s cannot be deleted: programme %(programmes)s requires it.",
                code=assessment.code,
                programmes=", ".join(sorted(set(requiring))),
            )
        )
    _remove(assessment, "assessment", assessment_as_input, actor)


# ---------------------------------------------------------------- programmes


@dataclass
class ProgrammeInput:
    code: str
    title: str
    level: str
    min_total_credits: Decimal
    eqf_level: int | None = None
    domain_minimums: Mapping[str, Decimal] = field(default_factory=dict)
    required_assessments: Sequence[str] = ()
    prerequisite: str | None = None
    validity_months: int | None = None
    credit_window_months: int | None = None
    approval: str = ApprovalPolicy.BOTH_BODIES.value
    description: str = ""
    # The renewal rule (None: certificates are not renewed through CPD).
    renewal_cpd_points: Decimal | None = None
    renewal_domain_minimums: Mapping[str, Decimal] = field(default_factory=dict)
    renewal_grace_months: int | None = None
    # The code of an assessment to pass within the validity as well (None: none).
    renewal_assessment: str | None = None


def programme_as_input(programme: Programme) -> ProgrammeInput:
    """A programme's editable values, as a form or the API would send them."""
    return ProgrammeInput(
        code=programme.code,
        title=programme.title,
        level=programme.level.value,
        eqf_level=programme.eqf_level,
        min_total_credits=programme.min_total_credits,
        domain_minimums={m.domain: m.min_credits for m in programme.domain_minimums},
        required_assessments=[a.code for a in programme.required_assessments],
        prerequisite=programme.prerequisite.code if programme.prerequisite else None,
        validity_months=programme.validity_months,
        credit_window_months=programme.credit_window_months,
        approval=programme.approval.value,
        description=programme.description,
        renewal_cpd_points=programme.renewal_cpd_points,
        renewal_domain_minimums={m.domain: m.min_points for m in programme.renewal_domain_minimums},
        renewal_grace_months=programme.renewal_grace_months,
        renewal_assessment=(
            programme.renewal_assessment.code if programme.renewal_assessment else None
        ),
    )


# A description is a paragraph of a few sentences, not a page.
DESCRIPTION_MAX = 2000


def _apply_programme(programme: Programme, data: ProgrammeInput) -> None:
    """Check ``data`` and write it onto ``programme`` (new or existing)."""
    errors = FieldErrors()
    code = check_code(errors, "code", data.code)
    title = check_text(errors, "title", clean_text(data.title), 200)
    # One paragraph: line breaks typed in the form's box are spaces.
    description = " ".join(clean_text(data.description).split())
    if description:
        check_text(errors, "description", description, DESCRIPTION_MAX)
    try:
        level = Level(clean_text(data.level).lower())
    except ValueError:
        errors.add("level", gettext("Choose certificate or diploma."))
    min_total = check_credits(errors, "min_total_credits", data.min_total_credits, allow_zero=True)
    eqf_level = check_whole_number(errors, "eqf_level", data.eqf_level, 1, 8)
    validity = check_whole_number(errors, "validity_months", data.validity_months, 1, 600)
    window = check_whole_number(errors, "credit_window_months", data.credit_window_months, 1, 600)
    try:
        approval = ApprovalPolicy(clean_text(data.approval).lower())
    except ValueError:
        errors.add("approval", gettext("Choose both_bodies or office."))

    minimums = _domain_minimums(errors, "domain_minimums", data.domain_minimums, _credits_check)
    if (
        sum(minimums.values(), Decimal(0)) > min_total
        and "min_total_credits" not in errors.messages
    ):
        errors.add("domain_minimums", gettext("The domain minimums add up to more than the total."))

    renewal_points, renewal_minimums, grace = _check_renewal_rule(errors, data, validity)
    renewal_assessment = _renewal_assessment(errors, data)

    assessments: list[Assessment] = []
    for raw_code in data.required_assessments:
        found = _find_by_code(Assessment, raw_code)
        if found is None:
            errors.add(
                "required_assessments",
                gettext("There is no assessment %(code)s.", code=repr(raw_code)),
            )
        elif found not in assessments:
            assessments.append(found)

    prerequisite: Programme | None = None
    if data.prerequisite:
        prerequisite = _find_by_code(Programme, data.prerequisite)
        if prerequisite is None:
            errors.add(
                "prerequisite",
                gettext("There is no programme %(code)s.", code=repr(data.prerequisite)),
            )
        elif programme.id is not None and _depends_on(prerequisite, programme):
            errors.add(
                "prerequisite", gettext("A programme cannot require itself, even indirectly.")
            )
    errors.raise_if_any()
    _refuse_taken_code(Programme, code, programme.id)

    programme.code, programme.title, programme.level = code, title, level
    programme.description = description
    programme.min_total_credits, programme.eqf_level = min_total, eqf_level
    programme.validity_months, programme.credit_window_months = validity, window
    programme.approval = approval
    programme.prerequisite = prerequisite
    programme.required_assessments = assessments
    existing = {m.domain: m for m in programme.domain_minimums}
    programme.domain_minimums = [
        _set_min(existing.get(domain) or DomainMinimum(domain=domain), credits)
        for domain, credits in sorted(minimums.items())
    ]
    programme.renewal_cpd_points, programme.renewal_grace_months = renewal_points, grace
    programme.renewal_assessment = renewal_assessment
    existing_renewal = {m.domain: m for m in programme.renewal_domain_minimums}
    programme.renewal_domain_minimums = [
        _set_renewal_min(
            existing_renewal.get(domain) or RenewalDomainMinimum(domain=domain), points
        )
        for domain, points in sorted(renewal_minimums.items())
    ]


def _domain_minimums(
    errors: FieldErrors,
    field: str,
    entries: Mapping[str, Decimal],
    check_amount: Callable[[FieldErrors, Decimal], None],
) -> dict[str, Decimal]:
    """A list of minimums per domain (the award's credits, the renewal's CPD points),
    checked: each domain named, each amount as ``check_amount`` wants it, none twice; every
    problem said under ``field``, with the domain it is about."""
    minimums: dict[str, Decimal] = {}
    for raw_domain, amount in entries.items():
        domain = clean_text(raw_domain)
        sub = FieldErrors()
        check_text(sub, "domain", domain, 100)
        check_amount(sub, amount)
        if sub.messages:
            errors.add(
                field,
                gettext(
                    "%(domain)s: %(problems)s",
                    domain=raw_domain or gettext("(blank)"),
                    problems=" ".join(sub.messages.values()),
                ),
            )
        elif domain in minimums:
            errors.add(field, gettext("%(domain)s is listed twice.", domain=domain))
        else:
            minimums[domain] = amount
    return minimums


def _credits_check(errors: FieldErrors, credits: Decimal) -> None:
    check_credits(errors, "credits", credits)


def _points_check(errors: FieldErrors, points: Decimal) -> None:
    check_marks(errors, "points", points)
    if not errors.messages and points <= 0:
        errors.add("points", gettext("Must be more than 0."))


def _check_renewal_rule(
    errors: FieldErrors, data: ProgrammeInput, validity: int | None
) -> tuple[Decimal | None, dict[str, Decimal], int | None]:
    """The renewal rule's points, its minimum per domain and its grace period, checked.

    A rule needs a validity (a certificate that never expires is never renewed), and its
    domain minimums and grace period need the rule's points (they qualify them)."""
    points = data.renewal_cpd_points
    if points is not None:
        check_marks(errors, "renewal_cpd_points", points)
        if points.is_finite() and points <= 0:
            errors.add("renewal_cpd_points", gettext("Must be more than 0."))
        elif validity is None and "validity_months" not in errors.messages:
            errors.add(
                "renewal_cpd_points",
                gettext(
                    "A renewal rule needs a validity: certificates that never expire are not"
                    " renewed."
                ),
            )
    grace = check_whole_number(errors, "renewal_grace_months", data.renewal_grace_months, 0, 60)
    if grace is not None and points is None:
        errors.add(
            "renewal_grace_months",
            gettext("A grace period needs the CPD points the renewal asks for."),
        )
    minimums = _domain_minimums(
        errors, "renewal_domain_minimums", data.renewal_domain_minimums, _points_check
    )
    if minimums and points is None:
        errors.add(
            "renewal_domain_minimums",
            gettext("Minimums per domain need the CPD points the renewal asks for."),
        )
    elif (
        points is not None
        and points.is_finite()
        and sum(minimums.values(), Decimal(0)) > points
        and "renewal_cpd_points" not in errors.messages
    ):
        errors.add(
            "renewal_domain_minimums",
            gettext("The renewal's domain minimums add up to more than its CPD points."),
        )
    return points, minimums, grace


def _renewal_assessment(errors: FieldErrors, data: ProgrammeInput) -> Assessment | None:
    """The renewal assessment ``data`` names, if any; it qualifies the rule's points."""
    if not data.renewal_assessment:
        return None
    found = _find_by_code(Assessment, data.renewal_assessment)
    if found is None:
        errors.add(
            "renewal_assessment",
            gettext("There is no assessment %(code)s.", code=repr(data.renewal_assessment)),
        )
    elif data.renewal_cpd_points is None:
        errors.add(
            "renewal_assessment",
            gettext("A renewal assessment needs the CPD points the renewal asks for."),
        )
    return found


def _set_renewal_min(minimum: RenewalDomainMinimum, points: Decimal) -> RenewalDomainMinimum:
    minimum.min_points = points
    return minimum


def _set_min(minimum: DomainMinimum, credits: Decimal) -> DomainMinimum:
    minimum.min_credits = credits
    return minimum


def _depends_on(programme: Programme, target: Programme) -> bool:
    """True if ``programme`` is ``target`` or requires it through a chain of prerequisites."""
    seen: set[int] = set()
    current: Programme | None = programme
    while current is not None and current.id not in seen:
        if current.id == target.id:
            return True
        seen.add(current.id)
        current = current.prerequisite
    return False


def _refuse_delegation_by_a_person(
    before: ApprovalPolicy | None, programme: Programme, actor: User | None
) -> None:
    """Only the partner bodies delegate an award to the programme office: through the web or
    the API nobody sets ``office`` on a programme that was not (the office would otherwise
    switch an award to itself and issue with both seals). Operators do it, on the bodies'
    written decision, with ``flask set-approval`` (actor None), audited."""
    if (
        actor is not None
        and programme.approval is ApprovalPolicy.OFFICE
        and before is not (ApprovalPolicy.OFFICE)
    ):
        raise Forbidden(
            gettext(
                "Delegating an award to the programme office is the partner bodies' decision;"
                " an operator records it with flask set-approval."
            ),
            {"approval": gettext("Only both partner bodies delegate an award.")},
            field="approval",
        )


def create_programme(data: ProgrammeInput, actor: User | None, *, today: dt.date) -> Programme:
    """A new programme; every candidate's progress towards it is worked out as of ``today``."""
    programme = Programme()
    _apply_programme(programme, data)
    _refuse_delegation_by_a_person(None, programme, actor)
    _insert(programme, "programme", programme_as_input, actor)
    programme_rules_changed.send(programme, today=today)
    return programme


def update_programme(
    programme: Programme, data: ProgrammeInput, actor: User | None, *, today: dt.date
) -> Programme:
    """Change a programme; if its rules changed, every candidate's progress towards it is
    worked out again as of ``today``."""
    before = _for_audit(programme_as_input(programme))
    rules_before = _rules_of(programme)
    policy_before = programme.approval
    _apply_programme(programme, data)
    _refuse_delegation_by_a_person(policy_before, programme, actor)
    db.session.flush()
    if _rules_of(programme) != rules_before:
        programme_rules_changed.send(programme, today=today)
    _record_update(programme, "programme", programme_as_input, actor, before)
    return programme


def _rules_of(programme: Programme) -> tuple[Any, ...]:
    """What decides who meets a programme's own requirements (not its title or validity,
    nor its prerequisite, which is judged when asked)."""
    return (
        programme.min_total_credits,
        tuple((m.domain, m.min_credits) for m in programme.domain_minimums),
        tuple(a.id for a in programme.required_assessments),
        programme.credit_window_months,
    )


def programme_rules(programme: Programme) -> ProgrammeRules:
    """The plain-data rules the progress engine reads, prerequisites included."""
    return ProgrammeRules(
        code=programme.code,
        # Names, which a page prints in its reader's language.
        title=Name(programme.title),
        min_total_credits=programme.min_total_credits,
        domain_minimums={Name(m.domain): m.min_credits for m in programme.domain_minimums},
        required_assessments=tuple(
            AssessmentRule(a.code, Name(a.title), a.pass_mark, a.max_attempts)
            for a in programme.required_assessments
        ),
        prerequisite=programme_rules(programme.prerequisite) if programme.prerequisite else None,
        credit_window_months=programme.credit_window_months,
    )


def renewal_rule(programme: Programme) -> RenewalRule | None:
    """The plain-data renewal rule the progress engine reads; None if the programme's
    certificates are not renewed through CPD."""
    if programme.renewal_cpd_points is None:
        return None
    assessment = programme.renewal_assessment
    return RenewalRule(
        min_points=programme.renewal_cpd_points,
        domain_minimums={Name(m.domain): m.min_points for m in programme.renewal_domain_minimums},
        assessment=AssessmentRule(
            assessment.code, Name(assessment.title), assessment.pass_mark, assessment.max_attempts
        )
        if assessment
        else None,
    )
