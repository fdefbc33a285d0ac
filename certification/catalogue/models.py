"""Programmes (the awards) and their requirements, courses and assessments."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.extensions import Model, db
from certification.types import ExactDecimal, text_enum


class Level(enum.StrEnum):
    CERTIFICATE = "certificate"
    DIPLOMA = "diploma"


class ApprovalPolicy(enum.StrEnum):
    """Who says yes before a programme's certificate is sealed and issued."""

    # An officer of each partner body, each for their own body's seal: the joint award.
    BOTH_BODIES = "both_bodies"
    # The programme office alone, for programmes the bodies chose to delegate.
    OFFICE = "office"


# ECTS credits are kept to one decimal place (the catalogue allows multiples of 0.5).
Credits = ExactDecimal(6, 1)
# Marks and pass marks are kept to two decimal places.
Marks = ExactDecimal(7, 2)


class Programme(Model):
    """An award and the rules a candidate must meet to earn it."""

    __tablename__ = "programme"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    # What the award is for, in a few sentences a candidate reads beside its progress.
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    level: so.Mapped[Level] = so.mapped_column(text_enum(Level))
    eqf_level: so.Mapped[int | None]
    min_total_credits: so.Mapped[decimal.Decimal] = so.mapped_column(Credits)
    prerequisite_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("programme.id"))
    validity_months: so.Mapped[int | None]
    credit_window_months: so.Mapped[int | None]
    approval: so.Mapped[ApprovalPolicy] = so.mapped_column(
        text_enum(ApprovalPolicy),
        default=ApprovalPolicy.BOTH_BODIES,
        server_default=ApprovalPolicy.BOTH_BODIES.value,
    )
    # The renewal rule: at least this many CPD points earned between a certificate's issue
    # and its expiry renew it (None: the programme's certificates are not renewed by CPD).
    renewal_cpd_points: so.Mapped[decimal.Decimal | None] = so.mapped_column(Marks)
    # Months after expiry during which a lapsed certificate can still be renewed.
    renewal_grace_months: so.Mapped[int | None]
    # An assessment to pass within the validity as well, if the programme asks for one.
    renewal_assessment_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("assessment.id"))

    prerequisite: so.Mapped[Programme | None] = so.relationship(remote_side=[id])
    domain_minimums: so.Mapped[list[DomainMinimum]] = so.relationship(
        back_populates="programme",
        cascade="all, delete-orphan",
        order_by="DomainMinimum.domain",
    )
    required_assessments: so.Mapped[list[Assessment]] = so.relationship(
        secondary="programme_assessment", order_by="Assessment.code"
    )
    renewal_assessment: so.Mapped[Assessment | None] = so.relationship(
        foreign_keys=[renewal_assessment_id]
    )
    renewal_domain_minimums: so.Mapped[list[RenewalDomainMinimum]] = so.relationship(
        back_populates="programme",
        cascade="all, delete-orphan",
        order_by="RenewalDomainMinimum.domain",
    )

    def __repr__(self) -> str:
        return f"<Programme {self.code}>"


class DomainMinimum(Model):
    """At least this many credits must come from courses of one domain."""

    __tablename__ = "domain_minimum"
    __table_args__ = (sa.UniqueConstraint("programme_id", "domain"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programme.id"))
    domain: so.Mapped[str] = so.mapped_column(sa.String(100))
    min_credits: so.Mapped[decimal.Decimal] = so.mapped_column(Credits)

    programme: so.Mapped[Programme] = so.relationship(back_populates="domain_minimums")


class RenewalDomainMinimum(Model):
    """Of a renewal's CPD points, at least this many must be earned in one domain."""

    __tablename__ = "renewal_domain_minimum"
    __table_args__ = (sa.UniqueConstraint("programme_id", "domain"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programme.id"))
    domain: so.Mapped[str] = so.mapped_column(sa.String(100))
    min_points: so.Mapped[decimal.Decimal] = so.mapped_column(Marks)

    programme: so.Mapped[Programme] = so.relationship(back_populates="renewal_domain_minimums")


programme_assessment = sa.Table(
    "programme_assessment",
    db.metadata,
    sa.Column("programme_id", sa.ForeignKey("programme.id"), primary_key=True),
    sa.Column("assessment_id", sa.ForeignKey("assessment.id"), primary_key=True),
)


class Provider(Model):
    """A body that delivers courses: a partner body, a university, an academy. Accredited
    from a day (None: not recorded) until a day (None: open-ended)."""

    __tablename__ = "provider"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    country: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    accredited_from: so.Mapped[dt.date | None]
    accredited_until: so.Mapped[dt.date | None]

    # Read-only: a course names its provider (Course.provided_by), and that is what is written.
    courses: so.Mapped[list[Course]] = so.relationship(viewonly=True, order_by="Course.code")

    def __repr__(self) -> str:
        return f"<Provider {self.name}>"


class Course(Model):
    """A course that earns ECTS credits in one domain, delivered by at most one provider."""

    __tablename__ = "course"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    credits: so.Mapped[decimal.Decimal] = so.mapped_column(Credits)
    domain: so.Mapped[str] = so.mapped_column(sa.String(100), index=True)
    provider_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("provider.id"))

    provided_by: so.Mapped[Provider | None] = so.relationship()

    @property
    def provider(self) -> str:
        """The provider's name, as pages, exports and the API show it ("" for none)."""
        return self.provided_by.name if self.provided_by else ""

    def __repr__(self) -> str:
        return f"<Course {self.code}>"


class Assessment(Model):
    """An examination or other assessment with a pass mark and a limit on attempts."""

    __tablename__ = "assessment"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    pass_mark: so.Mapped[decimal.Decimal] = so.mapped_column(Marks)
    max_score: so.Mapped[decimal.Decimal] = so.mapped_column(Marks)
    max_attempts: so.Mapped[int]

    def __repr__(self) -> str:
        return f"<Assessment {self.code}>"


class CatalogueTranslation(Model):
    """The catalogue's wording in another language: a programme's title or description, a
    course's or an assessment's title, a domain's name, a signatory's title.

    Keyed by the English wording itself, as gettext keys its messages: the same words
    are translated once wherever they appear, and when the English changes its old
    translation no longer applies, so the page falls back to the new English and the
    translations page lists it as missing until someone translates it again.
    """

    __tablename__ = "catalogue_translation"
    # By digest: a description is longer than PostgreSQL indexes whole.
    __table_args__ = (sa.UniqueConstraint("language", "source_sha256"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    language: so.Mapped[str] = so.mapped_column(sa.String(8))
    source: so.Mapped[str] = so.mapped_column(sa.Text)
    source_sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    text: so.Mapped[str] = so.mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<CatalogueTranslation {self.language} {self.source[:30]!r}>"
