"""The administrators' reports and exports: the dashboard, certificates expiring soon, CSV
files, and certificates' PDFs merged for printing or zipped as signed.

Thin views: each parses its filters, calls the reports or exports services and sends the
answer. Filters that make no sense come back as the page with a message and status 422.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import (
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext, lazy_gettext, ngettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectField
from wtforms.validators import Optional

from certification.admin.blueprint import bp
from certification.admin.forms import DayField, country_name
from certification.admin.paging import paginate
from certification.catalogue import services as catalogue
from certification.certificates import exports
from certification.certificates.models import Certificate, CertificateStatus
from certification.errors import ServiceError
from certification.extensions import db
from certification.i18n import current_language
from certification.progress import format_decimal
from certification.reports import charts
from certification.reports import services as reports
from certification.web import today

Page = Response | str | tuple[str, int]
CERTIFICATES_PER_PAGE = 100


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["APP_TIMEZONE"])


# ---------------------------------------------------------------- the dashboard


@bp.route("/reports")
def reports_dashboard() -> Page:
    figures = _current_figures()
    return render_template(
        "admin/reports.html",
        figures=figures,
        charts=_dashboard_charts(figures),
        Stage=reports.Stage,
        zone=_zone(),
    )


@bp.route("/reports/refresh", methods=["POST"])
def reports_refresh() -> Response:
    reports.refresh_dashboard(today())
    return redirect(url_for("admin.reports_dashboard"), 303)


def _country_label(code: str | None) -> str:
    return country_name(code) if code else gettext("Not given")


def _current_figures() -> reports.Dashboard:
    max_age = dt.timedelta(seconds=current_app.config["REPORTS_MAX_AGE_SECONDS"])
    return reports.current_dashboard(today(), max_age)


@bp.route("/reports/figures.json")
def reports_figures_json() -> Response:
    """The dashboard's figures (the same kept snapshot) as JSON."""
    return jsonify(reports.figures_data(_current_figures()))


@bp.route("/reports/certificates.csv")
def reports_certificates_csv() -> Response:
    """The dashboard's certificates by status and award, as a CSV file."""
    figures = _current_figures()
    return _csv(
        f"certificates-by-status-{figures.today.isoformat()}.csv",
        exports.csv_lines(reports.STATUS_COLUMNS, reports.status_rows(figures)),
    )


# Each chart is drawn twice: at a desktop's width and at a phone's, where the stylesheet
# shows only the one that fits, so that neither shrinks its text to a squint.
WIDE, NARROW = 640, 360


@dataclass(frozen=True)
class ChartPair:
    wide: Markup
    narrow: Markup


def _both(draw: Callable[[str, int], Markup], chart_id: str) -> ChartPair:
    return ChartPair(draw(chart_id, WIDE), draw(f"{chart_id}-narrow", NARROW))


def _month_name(month: dt.date, pattern: str) -> str:
    """``month`` in the page's language by a CLDR ``pattern``: "Jan" (LLL), "January 2026"
    (LLLL y), "2026" (y)."""
    return format_date(month, pattern, locale=current_language())


def _month_labels(months: tuple[dt.date, ...], *, narrow: bool) -> list[str]:
    """Each month as "Jan" over "2026". On a phone, where twelve would touch, every other
    month is named (the latest always), with the year under the first named in it."""
    labels, year = [], 0
    for i, month in enumerate(months):
        if narrow and (len(months) - 1 - i) % 2:
            labels.append("")
            continue
        name = _month_name(month, "LLL")
        labels.append(
            f"{name}\n{_month_name(month, 'y')}" if not narrow or month.year != year else name
        )
        year = month.year
    return labels


def _dashboard_charts(figures: reports.Dashboard) -> dict[str, Any]:
    """The dashboard's figures drawn as SVG (the same figures as its tables)."""
    issued = figures.issued
    stage_names = [stage.label for stage in reversed(reports.Stage)]
    issued_series = [(f"{s.code} · {s.title}", s.counts) for s in issued.series]
    stage_rows = [
        (f"{s.code} · {s.title}", [s.counts[stage] for stage in reversed(reports.Stage)])
        for s in figures.stages
    ]
    country_rows = [(_country_label(c.code), [c.candidates]) for c in figures.countries]

    def histogram(a: reports.AssessmentFigures) -> ChartPair:
        return _both(
            lambda chart_id, width: charts.histogram(
                chart_id,
                gettext("Scores in %(assessment)s", assessment=a.title),
                gettext(
                    "Attempts at %(assessment)s by score, in ten bins of the maximum score"
                    " %(max_score)s.",
                    assessment=a.title,
                    max_score=format_decimal(a.max_score),
                ),
                a.bin_edges(),
                a.bins,
                width=min(width, 440),
            ),
            f"chart-scores-{a.code}",
        )

    return {
        "issued": _both(
            lambda chart_id, width: charts.column_chart(
                chart_id,
                gettext("Certificates conferred per month"),
                ngettext(
                    "Awards conferred in each of the last %(num)d months, by award; %(total)d in"
                    " all, whatever became of them since. The table below gives the figures.",
                    "Awards conferred in each of the last %(num)d months, by award; %(total)d in"
                    " all, whatever became of them since. The table below gives the figures.",
                    len(issued.months),
                    total=issued.total,
                ),
                _month_labels(issued.months, narrow=width < WIDE),
                issued_series,
                width=width,
                names=[_month_name(m, "LLLL y") for m in issued.months],
            ),
            "chart-issued",
        ),
        "stages": _both(
            lambda chart_id, width: charts.bar_chart(
                chart_id,
                gettext("Candidates by stage, per award"),
                gettext(
                    "For each award, the candidates who hold it, are eligible, are in progress or"
                    " have only registered. The table below gives the figures."
                ),
                stage_rows,
                stage_names,
                width=width,
            ),
            "chart-stages",
        ),
        "countries": _both(
            lambda chart_id, width: charts.bar_chart(
                chart_id,
                gettext("Candidates by country"),
                gettext(
                    "How many candidates come from each country. The table below gives the figures."
                ),
                country_rows,
                width=min(width, 560),
            ),
            "chart-countries",
        ),
        "histograms": {a.code: histogram(a) for a in figures.assessments},
    }


# ---------------------------------------------------------------- expiring soon


@bp.route("/reports/expiring")
def reports_expiring() -> Page:
    day = today()
    certificates = list(db.session.scalars(reports.expiring_soon(day)).unique())
    return render_template(
        "admin/expiring.html",
        certificates=certificates,
        today=day,
        days=reports.EXPIRING_DAYS,
        days_left={c.id: (c.expires_on - day).days for c in certificates if c.expires_on},
    )


@bp.route("/exports/expiring.csv")
def export_expiring() -> Response:
    day = today()
    return _csv(f"expiring-{day.isoformat()}.csv", exports.expiring_csv(reports.expiring_soon(day)))


# ---------------------------------------------------------------- exports


# A certificate's status as the filter names it.
STATUS_LABELS = {
    CertificateStatus.VALID: lazy_gettext("Valid"),
    CertificateStatus.SUSPENDED: lazy_gettext("Suspended"),
    CertificateStatus.REVOKED: lazy_gettext("Revoked"),
    CertificateStatus.EXPIRED: lazy_gettext("Expired"),
    CertificateStatus.SUPERSEDED: lazy_gettext("Superseded"),
}


class CertificateFilterForm(FlaskForm):
    """Which certificates to list or export (a GET form: nothing to protect with CSRF)."""

    class Meta:
        csrf = False

    programme = SelectField(lazy_gettext("Award"), validate_choice=False)
    status = SelectField(lazy_gettext("Status"), validate_choice=False)
    issued_from = DayField(lazy_gettext("Issued from"), validators=[Optional()])
    issued_to = DayField(lazy_gettext("Issued until"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programme.choices = [
            SelectChoice("", gettext("Every award")),
            *(SelectChoice(p.code, f"{p.code} · {p.title}") for p in catalogue.list_programmes()),
        ]
        self.status.choices = [
            SelectChoice("", gettext("Any status")),
            *(SelectChoice(s.value, str(STATUS_LABELS[s])) for s in CertificateStatus),
        ]

    def filters(self) -> exports.CertificateFilter:
        return exports.CertificateFilter(
            programme=self.programme.data or "",
            status=self.status.data or "",
            issued_from=None if self.issued_from.errors else self.issued_from.data,
            issued_to=None if self.issued_to.errors else self.issued_to.data,
        )


def _show_refusal(form: FlaskForm, refusal: ServiceError) -> None:
    """The refusal's messages next to the filters they name, its sentence above the rest."""
    unplaced = not refusal.fields
    for name, message in refusal.fields.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            unplaced = True
    if unplaced:
        form.form_errors.append(refusal.message)


def _exports_page(form: CertificateFilterForm, status: int = 200) -> tuple[str, int]:
    """The exports page: the filter, the certificates it names (to select for PDFs), and
    the links to every CSV file. Shown with 422 when something was refused."""
    filters = form.filters()
    page = None
    if not any(field.errors for field in form):
        try:
            matching = exports.certificates_matching(filters, today())
        except ServiceError as refusal:
            _show_refusal(form, refusal)
            status = 422
        else:
            ids = matching.subquery()
            statement = (
                db.select(Certificate)
                .join(ids, ids.c.id == Certificate.id)
                .order_by(Certificate.issued_on, Certificate.code)
            )
            page = paginate(statement, CERTIFICATES_PER_PAGE)
    return render_template(
        "admin/exports.html",
        form=form,
        page=page,
        filters=filters.as_query_args() if page is not None else {},
        today=today(),
        max_pdfs=exports.MAX_PDFS,
    ), status


def _filter_form() -> tuple[CertificateFilterForm, int]:
    form = CertificateFilterForm(formdata=request.args)
    return form, 200 if form.validate() else 422


@bp.route("/exports")
def exports_page() -> Page:
    form, status = _filter_form()
    return _exports_page(form, status)


def _csv(filename: str, lines: Iterator[str]) -> Response:
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.route("/exports/certificates.csv")
def export_certificates() -> Page:
    form, status = _filter_form()
    if status != 200:
        return _exports_page(form, status)
    try:
        lines = exports.certificates_csv(form.filters(), today(), _zone())
    except ServiceError as refusal:
        _show_refusal(form, refusal)
        return _exports_page(form, 422)
    return _csv(f"certificates-{today().isoformat()}.csv", lines)


@bp.route("/exports/candidates.csv")
def export_candidates() -> Response:
    return _csv(f"candidates-{today().isoformat()}.csv", exports.candidates_csv(today()))


def _selected_ids(form: CertificateFilterForm) -> list[int]:
    """The certificates ticked, or with scope=all every one the (posted) filter names."""
    if request.form.get("scope") == "all":
        return exports.selected_certificates((), form.filters(), today())
    return exports.selected_certificates(request.form.getlist("code"), None, today())


def _pdf_export(kind: str) -> Page:
    form = CertificateFilterForm(formdata=request.form)
    if not form.validate():
        return _exports_page(form, 422)
    try:
        ids = _selected_ids(form)
    except ServiceError as refusal:
        _show_refusal(form, refusal)
        return _exports_page(form, 422)
    stamp = today().isoformat()
    if kind == "pdf":
        body, mimetype, name = exports.merged_pdf(ids), "application/pdf", f"print-{stamp}.pdf"
    else:
        body, mimetype, name = exports.pdf_zip(ids), "application/zip", f"certificates-{stamp}.zip"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/exports/certificates.pdf", methods=["POST"])
def export_certificates_pdf() -> Page:
    return _pdf_export("pdf")


@bp.route("/exports/certificates.zip", methods=["POST"])
def export_certificates_zip() -> Page:
    return _pdf_export("zip")
