"""Revoking in bulk: a list of codes (typed, pasted, ticked in the certificates list or a
CSV file) and one reason; a preview of each code's holder, status and what revoking it
would do; then one confirmation that revokes them all, or nothing."""

from __future__ import annotations

import re

from flask import flash, render_template, request
from flask_babel import gettext
from werkzeug.datastructures import FileStorage

from certification.admin.blueprint import bp
from certification.admin.forms import BulkRevokeForm
from certification.admin.views import Page, _actor, _show_refusal
from certification.certificates import bulk_revocation
from certification.certificates.bulk_revocation import BatchChanged, Effect, RevocationRow
from certification.errors import ServiceError
from certification.imports.csvfile import read_codes
from certification.web import today

# Codes typed or pasted: one a line, or separated by commas, semicolons or tabs (a code
# itself may be typed with spaces between its groups).
_SEPARATORS = re.compile(r"[\n\r,;\t]+")


def _form_page(form: BulkRevokeForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin/revoke_many.html", form=form, max_codes=bulk_revocation.MAX_CODES
    ), status


def _preview_page(
    form: BulkRevokeForm, rows: list[RevocationRow], status: int = 200
) -> tuple[str, int]:
    planned = ";".join(f"{row.code} {row.effect.value}" for row in rows if row.revocable)
    return render_template(
        "admin/revoke_many_preview.html",
        form=form,
        rows=rows,
        planned=planned,
        counts={effect: sum(row.effect is effect for row in rows) for effect in Effect},
        today=today(),
    ), status


def _has_file(form: BulkRevokeForm) -> bool:
    return isinstance(form.file.data, FileStorage) and bool(form.file.data.filename)


def _typed_codes(form: BulkRevokeForm) -> list[str] | None:
    """The codes of the text box and of the file; None, with the file's problem on it, if
    the file cannot be read."""
    codes = [part for part in _SEPARATORS.split(form.codes.data or "") if part.strip()]
    if _has_file(form):
        from_file, problems = read_codes(form.file.data.read())
        if problems:
            form.file.errors = [*form.file.errors, *(p.message for p in problems)]
            return None
        codes.extend(from_file)
    return codes


@bp.route("/certificates/revoke-many", methods=["GET", "POST"])
def revoke_many() -> Page:
    """The list and the reason; a valid post answers with the preview (nothing changes)."""
    ticked = request.form.getlist("code")
    if "reason" not in request.form and ("code" in request.form or "scope" in request.form):
        # From the certificates list: the ticked codes, the reason still to be given.
        return _form_page(BulkRevokeForm(formdata=None, codes="\n".join(ticked)))
    form = BulkRevokeForm()
    if form.change.data:
        return _form_page(form)
    if not form.validate_on_submit():
        return _form_page(form, 422 if form.is_submitted() else 200)
    codes = _typed_codes(form)
    if codes is None:
        return _form_page(form, 422)
    if _has_file(form):
        form.codes.data = "\n".join(codes)  # the confirmation posts the file's codes back
    try:
        rows = bulk_revocation.preview_revocations(codes, _actor(), today=today())
    except ServiceError as refusal:
        _show_refusal(form, refusal)
        return _form_page(form, 422)
    return _preview_page(form, rows)


@bp.route("/certificates/revoke-many/confirm", methods=["POST"])
def revoke_many_confirm() -> Page:
    """Revoke what the preview showed, all or nothing: if anything changed meanwhile, the
    preview again (409, nothing revoked) with what changed."""
    form = BulkRevokeForm()
    if form.change.data:
        return _form_page(form)
    if not form.validate_on_submit():
        return _form_page(form, 422)
    expected = _planned(form.planned.data or "")
    try:
        outcome = bulk_revocation.revoke_many(
            list(expected), form.reason.data, _actor(), today=today(), expected=expected
        )
    except BatchChanged as refusal:
        flash(refusal.message, "error")
        return _preview_page(form, refusal.rows, status=refusal.http_status)
    except ServiceError as refusal:
        _show_refusal(form, refusal)
        return _form_page(form, 422)
    flash(
        gettext(
            "Done: %(suspended)d suspended, %(revoked)d revoked.",
            suspended=len(outcome.suspended),
            revoked=len(outcome.revoked),
        ),
        "success",
    )
    return render_template(
        "admin/revoke_many_result.html", outcome=outcome, reason=form.reason.data, today=today()
    )


def _planned(text: str) -> dict[str, Effect]:
    """``CODE effect`` pairs separated by semicolons, as the preview wrote them; anything
    else is left out (and the batch is then refused as empty or changed)."""
    planned: dict[str, Effect] = {}
    for line in re.split(r"[;\n]", text):
        code, _, effect = line.strip().partition(" ")
        if code and effect in (Effect.SUSPEND, Effect.REVOKE):
            planned[code] = Effect(effect)
    return planned
