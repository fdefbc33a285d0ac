"""The administrators' forms: what was typed, turned into Python values for the services.

Parsing lives here (a decimal comma, dates, one domain minimum per line). The rules live in
the services, so that these pages and the JSON API refuse exactly the same values: that is
why the selects below do not check their choices themselves but leave an unknown code to
the service, which names it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from babel import Locale
from flask import request
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.fields.core import Label
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from certification.catalogue.models import Assessment, Course, Level, Programme, Provider
from certification.catalogue.services import (
    AssessmentInput,
    CourseInput,
    ProgrammeInput,
    ProviderInput,
    programme_as_input,
)
from certification.catalogue.wording import source_digest
from certification.certificates.branding import MAX_IMAGE_BYTES, PartnerBodyInput
from certification.certificates.services import REASON_TOO_SHORT, REVOCATION_REASON_MIN
from certification.i18n import current_language, format_number, number_to_edit
from certification.languages import LANGUAGE_NAMES, formatting_locale, offered_languages
from certification.validation import name_search_key

# Digits with at most one decimal point or comma: "2.5", "2,5", "10", ",5". Thousands
# separators are refused rather than guessed at ("1.000,5" is a typo more often than not).
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
NUMBER_MESSAGE = lazy_gettext("Enter a number, such as 2.5 or 2,5.")
DATE_MESSAGE = lazy_gettext("Enter a date as YYYY-MM-DD, such as 2024-05-31.")
WHOLE_NUMBER_MESSAGE = lazy_gettext("Enter a whole number, such as 3.")
DOMAIN_LINE_EXAMPLE = "AI & Data Science: 5"

# European countries by their ISO 3166-1 alpha-2 codes (XK, Kosovo, is the code the EU and
# most registries use). Their names come from the Unicode CLDR through Babel, in the
# reader's language: "Germany", "Niemcy", "Γερμανία", as every language's own usage has it.
EUROPEAN_COUNTRIES = (
    "AD",
    "AL",
    "AM",
    "AT",
    "AZ",
    "BA",
    "BE",
    "BG",
    "BY",
    "CH",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GB",
    "GE",
    "GR",
    "HR",
    "HU",
    "IE",
    "IS",
    "IT",
    "LI",
    "LT",
    "LU",
    "LV",
    "MC",
    "MD",
    "ME",
    "MK",
    "MT",
    "NL",
    "NO",
    "PL",
    "PT",
    "RO",
    "RS",
    "RU",
    "SE",
    "SI",
    "SK",
    "SM",
    "TR",
    "UA",
    "VA",
    "XK",
)


def country_name(code: str | None) -> str:
    """``Poland`` for ``PL`` (in the reader's language); an unlisted code as it is; an empty
    string for none."""
    if not code:
        return ""
    locale = Locale.parse(formatting_locale(current_language()))
    return str(locale.territories.get(code, code))


def parse_number(text: str) -> Decimal | None:
    """A number as a European might type it, ``2.5`` or ``2,5``; None if it is not one."""
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    return Decimal(text.replace(",", "."))


class LocalDecimalField(DecimalField):
    """A decimal typed with a point or a comma; shown back as typed, or as ``2.5``."""

    # A text input, not type=number: browsers in some locales refuse "2,5" in a number input
    # and send an empty value instead, which would read as "This field is required."
    widget = widgets.TextInput()

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs["render_kw"] = {"inputmode": "decimal", **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, places=None, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        self.data = None
        if not str(valuelist[0]).strip():
            return  # empty: InputRequired or Optional decides
        number = parse_number(str(valuelist[0]))
        if number is None:
            raise ValueError(NUMBER_MESSAGE)
        self.data = number

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else number_to_edit(self.data)

    def number(self) -> Decimal:
        """The value for a service. Empty only if no validator required it; NaN then makes
        the service answer "Enter a number." rather than crash."""
        return self.data if self.data is not None else Decimal("NaN")


class WholeNumberField(IntegerField):
    """An integer, with a message a person understands when it is not one."""

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_value_message", WHOLE_NUMBER_MESSAGE)
        super().__init__(label, validators, **kwargs)


class DayField(DateField):
    """A calendar date in ISO form (what ``<input type=date>`` sends)."""

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_value_message", DATE_MESSAGE)
        super().__init__(label, validators, **kwargs)


class DomainMinimumsField(TextAreaField):
    """One ``Domain: credits`` per line, read into a mapping. A bad line is named by number."""

    def process_data(self, value: Any) -> None:
        self.data = dict(value or {})

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        minimums: dict[str, Decimal] = {}
        problems: list[str] = []
        for number, line in enumerate(str(valuelist[0]).splitlines(), start=1):
            if not line.strip():
                continue
            # The last colon: a domain's own name may contain one.
            domain, colon, amount = line.rpartition(":")
            domain = domain.strip()
            credits = parse_number(amount)
            if not colon or not domain:
                problems.append(
                    gettext(
                        "Line %(number)d: write it as “%(example)s”.",
                        number=number,
                        example=DOMAIN_LINE_EXAMPLE,
                    )
                )
            elif credits is None:
                problems.append(
                    gettext(
                        "Line %(number)d: after the colon, enter a number such as 5 or 2,5.",
                        number=number,
                    )
                )
            elif domain in minimums:
                problems.append(
                    gettext(
                        "Line %(number)d: %(domain)s is listed twice.", number=number, domain=domain
                    )
                )
            else:
                minimums[domain] = credits
        self.data = minimums
        if problems:
            raise ValueError(" ".join(problems))

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "\n".join(f"{domain}: {number_to_edit(c)}" for domain, c in self.data.items())


class CheckboxListField(SelectMultipleField):
    """Several choices as checkboxes (rendered inside a fieldset by the template)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# ---------------------------------------------------------------- candidates


def printable(_form: Any, field: Any) -> None:
    """Refuse control characters (a NUL byte cannot even be sent to PostgreSQL)."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in field.data or ""):
        raise ValidationError(gettext("Remove control characters from the search."))


class CandidateSearchForm(FlaskForm):
    """The filters above the candidate list (a GET form: nothing to protect with CSRF)."""

    class Meta:
        csrf = False

    q = SearchField(
        lazy_gettext("Name or e-mail"),
        validators=[printable],
        render_kw={"placeholder": lazy_gettext("e.g. lukasz or example.pl")},
    )
    eligible_for = SelectField(lazy_gettext("Eligible for"), validate_choice=False)

    def __init__(self, *args: Any, programmes: Iterable[Programme], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.eligible_for.choices = [
            SelectChoice("", gettext("Any programme")),
            *(SelectChoice(p.code, f"{p.code} · {p.title}") for p in programmes),
        ]


class CandidateForm(FlaskForm):
    email = EmailField(
        lazy_gettext("E-mail"), validators=[InputRequired()], render_kw={"autocomplete": "off"}
    )
    full_name = StringField(
        lazy_gettext("Full name"),
        validators=[InputRequired()],
        description=lazy_gettext("As it should appear on a certificate, with every accent."),
        render_kw={"autocomplete": "off"},
    )
    country = SelectField(lazy_gettext("Country"), validate_choice=False)
    language = SelectField(
        lazy_gettext("Language"),
        description=lazy_gettext(
            "Their e-mails are written in it, and their certificates print it beside English."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = [SelectChoice("", gettext("Not chosen (English)"))] + [
            SelectChoice(code, LANGUAGE_NAMES[code]) for code in offered_languages()
        ]
        if self.language.data is None:
            self.language.data = ""
        named = sorted(
            ((code, country_name(code)) for code in EUROPEAN_COUNTRIES),
            key=lambda item: name_search_key(item[1]),
        )
        choices = [SelectChoice("", gettext("Not given"))]
        choices += [
            SelectChoice(code, gettext("%(country)s (%(code)s)", country=name, code=code))
            for code, name in named
        ]
        current = self.country.data
        if current and current not in EUROPEAN_COUNTRIES:
            # A code recorded elsewhere (the API takes any ISO code) stays visible and kept.
            choices.append(SelectChoice(current, current))
        self.country.choices = choices

    def values(self) -> dict[str, Any]:
        return {
            "email": _text(self.email.data),
            "full_name": _text(self.full_name.data),
            "country": _text(self.country.data) or None,
        }

    def chosen_language(self) -> str | None:
        return self.language.data or None


class CreditForm(FlaskForm):
    course = SelectField(
        lazy_gettext("Course"), validators=[InputRequired()], validate_choice=False
    )
    completed_on = DayField(lazy_gettext("Completed on"), validators=[InputRequired()])

    def __init__(self, *args: Any, courses: Iterable[Course], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.course.choices = [
            SelectChoice("", gettext("Choose a course…")),
            *(
                SelectChoice(
                    c.code,
                    gettext(
                        "%(code)s · %(title)s (%(credits)s ECTS)",
                        code=c.code,
                        title=c.title,
                        credits=format_number(c.credits),
                    ),
                )
                for c in courses
            ),
        ]


class ProviderCreditForm(CreditForm):
    """Provider staff record a credit on one of their courses, for a candidate they name by
    e-mail (they see no list of everyone)."""

    email = StringField(
        lazy_gettext("Candidate's e-mail"),
        validators=[InputRequired()],
        description=lazy_gettext("As registered with the programme office."),
        render_kw={"autocomplete": "off", "maxlength": 254, "type": "email"},
    )


class ResultForm(FlaskForm):
    assessment = SelectField(
        lazy_gettext("Assessment"), validators=[InputRequired()], validate_choice=False
    )
    score = LocalDecimalField(lazy_gettext("Score"), validators=[InputRequired()])
    taken_on = DayField(lazy_gettext("Taken on"), validators=[InputRequired()])

    def __init__(self, *args: Any, assessments: Iterable[Assessment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.assessment.choices = [
            SelectChoice("", gettext("Choose an assessment…")),
            *(
                SelectChoice(
                    a.code,
                    gettext(
                        "%(code)s · %(title)s (pass mark %(pass_mark)s of %(max_score)s)",
                        code=a.code,
                        title=a.title,
                        pass_mark=format_number(a.pass_mark),
                        max_score=format_number(a.max_score),
                    ),
                )
                for a in assessments
            ),
        ]


# ---------------------------------------------------------------- catalogue

# A programme's level as the select names it.
LEVEL_LABELS = {
    Level.CERTIFICATE: lazy_gettext("Certificate"),
    Level.DIPLOMA: lazy_gettext("Diploma"),
}

CODE_HELP = lazy_gettext("Letters, digits, dots, hyphens or underscores; stored in capitals.")


class CourseForm(FlaskForm):
    code = StringField(lazy_gettext("Code"), validators=[InputRequired()], description=CODE_HELP)
    title = StringField(lazy_gettext("Title"), validators=[InputRequired()])
    credits = LocalDecimalField(
        lazy_gettext("ECTS credits"),
        validators=[InputRequired()],
        description=lazy_gettext("In steps of 0.5, e.g. 2.5."),
    )
    domain = StringField(
        lazy_gettext("Domain"),
        validators=[InputRequired()],
        description=lazy_gettext("Choose an existing domain or type a new one."),
        render_kw={"list": "domain-suggestions", "autocomplete": "off"},
    )
    provider = SelectField(
        lazy_gettext("Provider"),
        validate_choice=False,
        description=lazy_gettext("Providers are added under Catalogue › Providers."),
    )

    def __init__(self, *args: Any, providers: Iterable[Provider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.provider.choices = [
            SelectChoice("", gettext("No provider")),
            *(SelectChoice(p.name, p.name) for p in providers),
        ]

    def to_input(self) -> CourseInput:
        return CourseInput(
            code=_text(self.code.data),
            title=_text(self.title.data),
            credits=self.credits.number(),
            domain=_text(self.domain.data),
            provider=_text(self.provider.data),
        )


class ProviderForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[InputRequired()])
    country = StringField(
        lazy_gettext("Country"),
        description=lazy_gettext("Its English name or two-letter ISO code, e.g. Belgium or BE."),
    )
    accredited_from = DayField(lazy_gettext("Accredited from"), validators=[Optional()])
    accredited_until = DayField(
        lazy_gettext("Accredited until"),
        validators=[Optional()],
        description=lazy_gettext("Leave empty if open-ended."),
    )

    def to_input(self) -> ProviderInput:
        return ProviderInput(
            name=_text(self.name.data),
            country=_text(self.country.data),
            accredited_from=self.accredited_from.data,
            accredited_until=self.accredited_until.data,
        )


class AssessmentForm(FlaskForm):
    code = StringField(lazy_gettext("Code"), validators=[InputRequired()], description=CODE_HELP)
    title = StringField(lazy_gettext("Title"), validators=[InputRequired()])
    pass_mark = LocalDecimalField(lazy_gettext("Pass mark"), validators=[InputRequired()])
    max_score = LocalDecimalField(lazy_gettext("Maximum score"), validators=[InputRequired()])
    max_attempts = WholeNumberField(
        lazy_gettext("Attempts allowed"),
        validators=[InputRequired()],
        render_kw={"min": 1, "max": 20},
    )

    def to_input(self) -> AssessmentInput:
        return AssessmentInput(
            code=_text(self.code.data),
            title=_text(self.title.data),
            pass_mark=self.pass_mark.number(),
            max_score=self.max_score.number(),
            max_attempts=self.max_attempts.data,
        )


class ProgrammeForm(FlaskForm):
    code = StringField(lazy_gettext("Code"), validators=[InputRequired()], description=CODE_HELP)
    title = StringField(lazy_gettext("Title"), validators=[InputRequired()])
    description = TextAreaField(
        lazy_gettext("Description"),
        description=lazy_gettext(
            "What the award is for, in a few sentences: candidates read it beside their progress."
        ),
        render_kw={"rows": 3},
    )
    level = SelectField(
        lazy_gettext("Level"),
        validate_choice=False,
        choices=[SelectChoice(level.value, LEVEL_LABELS[level]) for level in Level],
    )
    eqf_level = WholeNumberField(
        lazy_gettext("EQF level"),
        validators=[Optional()],
        description=lazy_gettext("1 to 8; leave empty if not referenced."),
        render_kw={"min": 1, "max": 8},
    )
    min_total_credits = LocalDecimalField(
        lazy_gettext("Minimum ECTS credits in total"), [InputRequired()]
    )
    domain_minimums = DomainMinimumsField(
        lazy_gettext("Minimum ECTS credits per domain"),
        description=lazy_gettext(
            "One domain per line, e.g. “%(example)s”.", example=DOMAIN_LINE_EXAMPLE
        ),
        render_kw={"rows": 5},
    )
    required_assessments = CheckboxListField(
        lazy_gettext("Assessments to pass"), validate_choice=False
    )
    prerequisite = SelectField(lazy_gettext("Prerequisite"), validate_choice=False)
    validity_months = WholeNumberField(
        lazy_gettext("Certificate valid for (months)"),
        validators=[Optional()],
        description=lazy_gettext("Leave empty if certificates do not expire."),
        render_kw={"min": 1},
    )
    credit_window_months = WholeNumberField(
        lazy_gettext("Credits count for (months)"),
        validators=[Optional()],
        description=lazy_gettext("Only credits completed this recently count; empty: all count."),
        render_kw={"min": 1},
    )
    approval = SelectField(
        lazy_gettext("Who approves each certificate"),
        validate_choice=False,
        choices=[
            SelectChoice(
                "both_bodies",
                lazy_gettext("Both partner bodies: an officer of each, before its seal"),
            ),
            SelectChoice(
                "office", lazy_gettext("The programme office alone (delegated by both bodies)")
            ),
        ],
        default="both_bodies",
    )
    renewal_cpd_points = LocalDecimalField(
        lazy_gettext("CPD points to renew"),
        [Optional()],
        description=lazy_gettext(
            "Earned between a certificate's issue and its expiry, or by the end of its grace"
            " period; empty: certificates are not renewed through CPD."
        ),
    )
    renewal_domain_minimums = DomainMinimumsField(
        lazy_gettext("Minimum CPD points per domain"),
        description=lazy_gettext(
            "Of the CPD points to renew; one domain per line, e.g. “%(example)s”.",
            example=DOMAIN_LINE_EXAMPLE,
        ),
        render_kw={"rows": 3},
    )
    renewal_grace_months = WholeNumberField(
        lazy_gettext("Grace period after expiry (months)"),
        validators=[Optional()],
        description=lazy_gettext(
            "How long an expired certificate can still be renewed, with CPD points earned in"
            " that time counting too; empty: none."
        ),
        render_kw={"min": 0, "max": 60},
    )
    renewal_assessment = SelectField(
        lazy_gettext("Assessment to pass to renew"),
        validate_choice=False,
        description=lazy_gettext(
            "Passed between a certificate's issue and its expiry, or by the end of its grace"
            " period."
        ),
    )

    def __init__(
        self,
        *args: Any,
        assessments: Iterable[Assessment],
        programmes: Iterable[Programme],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.required_assessments.choices = [
            SelectChoice(a.code, f"{a.code} · {a.title}") for a in assessments
        ]
        self.renewal_assessment.choices = [
            # Translators: no assessment is asked for to renew a certificate.
            SelectChoice("", gettext("None")),
            *self.required_assessments.choices,
        ]
        self.prerequisite.choices = [
            # Translators: no prerequisite programme.
            SelectChoice("", gettext("None")),
            *(SelectChoice(p.code, f"{p.code} · {p.title}") for p in programmes),
        ]

    @staticmethod
    def data_of(programme: Programme) -> Mapping[str, Any]:
        """The values an existing programme fills the form with."""
        values = asdict(programme_as_input(programme))
        values["prerequisite"] = values["prerequisite"] or ""  # the "None" choice
        values["renewal_assessment"] = values["renewal_assessment"] or ""
        return values

    def to_input(self) -> ProgrammeInput:
        return ProgrammeInput(
            code=_text(self.code.data),
            title=_text(self.title.data),
            level=_text(self.level.data),
            min_total_credits=self.min_total_credits.number(),
            eqf_level=self.eqf_level.data,
            domain_minimums=self.domain_minimums.data or {},
            required_assessments=tuple(self.required_assessments.data or ()),
            prerequisite=_text(self.prerequisite.data) or None,
            validity_months=self.validity_months.data,
            credit_window_months=self.credit_window_months.data,
            approval=_text(self.approval.data),
            description=_text(self.description.data),
            renewal_cpd_points=self.renewal_cpd_points.data,
            renewal_domain_minimums=self.renewal_domain_minimums.data or {},
            renewal_grace_months=self.renewal_grace_months.data,
            renewal_assessment=_text(self.renewal_assessment.data) or None,
        )


# ---------------------------------------------------------------- certificates


def _one_line(value: Any) -> Any:
    """A reason typed over several lines is kept as one line (it is printed as one)."""
    return " ".join(value.split()) if isinstance(value, str) else value


class HoldLiftForm(FlaskForm):
    reason = TextAreaField(
        lazy_gettext("Why it may be issued again"),
        validators=[InputRequired()],
        filters=[_one_line],
        description=lazy_gettext("Kept in the audit trail with your name."),
        render_kw={"rows": 2, "maxlength": 500},
    )

    def __init__(self, *args: Any, programme: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programme = programme
        _ids_for(self, f"lift-{programme}")


def _ids_for(form: FlaskForm, key: str) -> None:
    """Give the fields ids of their own: the page shows one such form per certificate."""
    for f in form:
        if f.name != "csrf_token":
            f.id = f"{key}-{f.name}"
            f.label = Label(f.id, f.label.text)


def _a_reason_a_verifier_can_read(form: FlaskForm, field: Any) -> None:
    if not field.data:
        raise ValidationError(gettext("This field is required."))
    if len(field.data) < REVOCATION_REASON_MIN:  # the service's rule, before the confirm step
        raise ValidationError(REASON_TOO_SHORT)


class RevokeForm(FlaskForm):
    """Revoking takes two posts: the reason, checked; then, once it is right, the office
    confirms on a page that says it cannot be undone (``confirmed``), without JavaScript."""

    reason = TextAreaField(
        lazy_gettext("Reason for revoking"),
        validators=[InputRequired(), _a_reason_a_verifier_can_read],
        filters=[_one_line],
        description=lazy_gettext("Shown to anyone who verifies this certificate."),
        render_kw={"rows": 2, "maxlength": 500},
    )
    confirmed = HiddenField()
    # The confirmation page's way back to the form, with the reason as typed.
    change = SubmitField(lazy_gettext("Change the reason"))

    def __init__(self, *args: Any, code: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.code = code
        _ids_for(self, f"revoke-{code}")


class DecisionForm(FlaskForm):
    """An officer's decision with a reason: rejecting a request, or reinstating a suspended
    certificate (one form per row: ``action`` and ``code`` keep the ids apart)."""

    reason = TextAreaField(
        lazy_gettext("Reason"),
        validators=[InputRequired(), _a_reason_a_verifier_can_read],
        filters=[_one_line],
        description=lazy_gettext("Kept in the audit trail with your name and your body."),
        render_kw={"rows": 2, "maxlength": 500},
    )

    def __init__(self, *args: Any, action: str, code: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action, self.code = action, code
        _ids_for(self, f"{action}-{code}")


class WithdrawalForm(FlaskForm):
    """Withdraw one credit or result: the transcript shows one per record."""

    reason = TextAreaField(
        lazy_gettext("Why it is withdrawn"),
        validators=[InputRequired()],
        filters=[_one_line],
        description=lazy_gettext(
            "E.g. recorded against the wrong candidate. Kept with the record and in"
            " the audit trail."
        ),
        render_kw={"rows": 2, "maxlength": 500},
    )

    def __init__(self, *args: Any, kind: str, record_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind, self.record_id = kind, record_id
        _ids_for(self, f"withdraw-{kind}-{record_id}")


class ReissueForm(FlaskForm):
    full_name = StringField(
        lazy_gettext("Full name on the new certificate"),
        validators=[InputRequired()],
        description=lazy_gettext(
            "Correct the name if needed; the candidate's record is corrected too."
        ),
        render_kw={"autocomplete": "off", "maxlength": 200},
    )
    # Not sent (an older page, a script): the certificate's own language. The service
    # refuses one that is not offered, next to this field.
    language = SelectField(
        lazy_gettext("Language printed beside English"),
        description=lazy_gettext("A copy in another language is a reissue too."),
        validate_choice=False,
    )

    def __init__(self, *args: Any, code: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.code = code
        self.language.choices = [SelectChoice("en", gettext("English alone"))] + [
            SelectChoice(language, LANGUAGE_NAMES[language])
            for language in offered_languages()
            if language != "en"
        ]
        _ids_for(self, f"reissue-{code}")


class AuditFilterForm(FlaskForm):
    """The filters above the audit trail (a GET form: nothing to protect with CSRF)."""

    class Meta:
        csrf = False

    action = SelectField(lazy_gettext("Action"), validate_choice=False)
    actor = SelectField(lazy_gettext("Who"), validate_choice=False)
    # No description under it: it would push this field out of line with the selects.
    object = SearchField(
        lazy_gettext("Object"),
        validators=[printable],
        render_kw={"placeholder": lazy_gettext("a code or a number")},
    )

    def __init__(
        self, *args: Any, actions: Iterable[str], actor_emails: Iterable[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.action.choices = [SelectChoice("", gettext("Any action")), *actions]
        self.actor.choices = [SelectChoice("", gettext("Anyone")), *actor_emails]


IMAGE_HELP = lazy_gettext("PNG or JPEG, at most 2 MB.")


class PartnerBodyForm(FlaskForm):
    """One partner body as printed. The page shows one per body, each with its own prefix."""

    name = StringField(lazy_gettext("Name"), validators=[InputRequired()])
    signatory_name = StringField(lazy_gettext("Signatory's name"), validators=[InputRequired()])
    signatory_title = StringField(lazy_gettext("Signatory's title"), validators=[InputRequired()])
    logo = FileField(
        lazy_gettext("New logo"),
        validators=[
            FileAllowed(["png", "jpg", "jpeg"], lazy_gettext("Upload a PNG or JPEG image."))
        ],
        description=IMAGE_HELP,
        render_kw={"accept": "image/png,image/jpeg"},
    )
    remove_logo = BooleanField(lazy_gettext("Remove the logo"))
    signature = FileField(
        lazy_gettext("New signature image"),
        validators=[
            FileAllowed(["png", "jpg", "jpeg"], lazy_gettext("Upload a PNG or JPEG image."))
        ],
        description=lazy_gettext(
            "PNG or JPEG, at most 2 MB. A transparent background prints best."
        ),
        render_kw={"accept": "image/png,image/jpeg"},
    )
    remove_signature = BooleanField(lazy_gettext("Remove the signature"))

    def to_input(self) -> PartnerBodyInput:
        return PartnerBodyInput(
            name=_text(self.name.data),
            signatory_name=_text(self.signatory_name.data),
            signatory_title=_text(self.signatory_title.data),
            logo=_upload(self.logo.data),
            signature=_upload(self.signature.data),
            remove_logo=bool(self.remove_logo.data),
            remove_signature=bool(self.remove_signature.data),
            signatory_titles={
                language: _text(self[f"signatory_title_{language}"].data)
                for language in SIGNATORY_TITLE_LANGUAGES
            },
        )

    @staticmethod
    def titles_of(body: Any) -> dict[str, str]:
        """The signatory's title in the other languages, as the form's fields hold it."""
        return {
            f"signatory_title_{language}": title
            for language, title in (body.signatory_titles or {}).items()
        }

    def translated_titles(self) -> list[Any]:
        return [self[f"signatory_title_{language}"] for language in SIGNATORY_TITLE_LANGUAGES]


# A certificate prints the signatory's title in the holder's language too: one field per
# language a catalogue is kept for, each named in itself.
SIGNATORY_TITLE_LANGUAGES = tuple(code for code in LANGUAGE_NAMES if code != "en")
for _code in SIGNATORY_TITLE_LANGUAGES:
    setattr(
        PartnerBodyForm,
        f"signatory_title_{_code}",
        StringField(
            lazy_gettext(
                "Signatory's title in %(language)s (%(code)s)",
                language=LANGUAGE_NAMES[_code],
                code=_code,
            ),
            render_kw={"lang": _code},
        ),
    )


def _upload(storage: Any) -> bytes | None:
    """An uploaded file's bytes; one byte past the limit is enough for the service to refuse."""
    if not storage:
        return None
    data: bytes = storage.read(MAX_IMAGE_BYTES + 1)
    return data


# ---------------------------------------------------------------- catalogue translations


class CatalogueTranslationsForm(FlaskForm):
    """The catalogue's wording in one language: a field per piece of English wording
    (:func:`catalogue_translations_form` adds them), labelled with the English."""

    def typed(self) -> dict[str, str]:
        """What was sent, by the English it translates: only the fields in this
        submission, so that a field the page did not show never erases a translation."""
        return {
            field.source: _text(field.data)
            for field in self
            if field.name.startswith("t_") and field.name in request.form
        }


# How long a translation may be, by what it translates (the English's own limits; a
# translation may run longer, as German and Greek do).
_TRANSLATION_LIMITS = {"programme_description": 3000, "domain": 200}


def catalogue_translations_form(
    wording: Sequence[Any], kept: Mapping[str, str], language: str, **kwargs: Any
) -> CatalogueTranslationsForm:
    """A form with one field per piece of ``wording`` (``catalogue.wording.Wording``),
    filled with the translations into ``language`` that are ``kept`` (English →
    translation). WTForms' way to a form
    whose fields are known only at run time: a subclass with them as attributes."""

    class Form(CatalogueTranslationsForm):
        pass

    by_name = {}
    for item in wording:
        kind = TextAreaField if item.kind == "programme_description" else StringField
        unbound = kind(
            item.source,
            validators=[Length(max=_TRANSLATION_LIMITS.get(item.kind, 400))],
            default=kept.get(item.source, ""),
            render_kw={"lang": language, **({"rows": 3} if kind is TextAreaField else {})},
        )
        name = "t_" + source_digest(item.source)
        setattr(Form, name, unbound)
        by_name[name] = item
    form = Form(**kwargs)
    for name, item in by_name.items():
        form[name].source, form[name].wording = item.source, item
    return form


class BulkRevokeForm(FlaskForm):
    """Many certificates revoked with one reason: their codes typed or pasted, or a CSV file
    (a column ``code``, or one code a line). The confirmation page posts the codes back as
    ``codes``, with the effects it showed as ``planned``."""

    codes = TextAreaField(
        lazy_gettext("Certificate codes"),
        description=lazy_gettext("One a line, or separated by commas or spaces."),
        render_kw={"rows": 8, "autocomplete": "off", "spellcheck": "false"},
    )
    file = FileField(
        lazy_gettext("Or a CSV file"),
        description=lazy_gettext(
            "A column named code (other columns are left out), or one code a line."
        ),
        render_kw={"accept": ".csv,.txt,text/csv,text/plain"},
    )
    reason = TextAreaField(
        lazy_gettext("Reason for revoking"),
        validators=[InputRequired(), _a_reason_a_verifier_can_read],
        filters=[_one_line],
        description=lazy_gettext("Shown to anyone who verifies these certificates."),
        render_kw={"rows": 2, "maxlength": 500},
    )
    planned = HiddenField()
    # The confirmation page's way back to the form, with the codes and reason as typed.
    change = SubmitField(lazy_gettext("Change the list or the reason"))
