"""Accounts, one-time set-password links and API tokens."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from certification.extensions import Model
from certification.languages import DEFAULT_LANGUAGE, offered
from certification.types import UTCDateTime, text_enum, utcnow


class Role(enum.StrEnum):
    """Who a person is here. What each role may open in ``/admin`` is decided in one table,
    ``auth.permissions``."""

    # The programme office: catalogue, candidates, records, imports, issuing. It keeps the
    # value the administrators had ("admin"), so that existing accounts, their audit
    # events and their API tokens carry over without a rewrite; in words it is the office.
    OFFICE = "admin"
    # An officer of one partner body (``User.partner_body``): reads everything, edits only
    # that body's branding.
    OFFICER = "officer"
    # Staff of one course provider (``User.provider_id``): see their own courses and the
    # candidates credited on them, and record credits on those courses only.
    PROVIDER = "provider"
    CANDIDATE = "candidate"


# The roles that work in /admin: they log in with the second factor and end idle sessions
# after ADMIN_IDLE_MINUTES.
STAFF_ROLES = frozenset({Role.OFFICE, Role.OFFICER, Role.PROVIDER})
# Those who read every candidate's records and certificates (not provider staff).
READS_ALL_ROLES = frozenset({Role.OFFICE, Role.OFFICER})


class User(UserMixin, Model):
    """A person who logs in: programme office, a partner body's officer, or a candidate."""

    __tablename__ = "user_account"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    full_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    # The name folded for accent-insensitive search (see validation.name_search_key).
    name_key: so.Mapped[str] = so.mapped_column(sa.String(250), index=True, default="")
    country: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    role: so.Mapped[Role] = so.mapped_column(text_enum(Role))
    # An officer's partner body, by its short name (EFRS, EuSoMII); None for everyone else.
    # A plain string: the auth area sits below the certificates' PartnerBody, so the name is
    # checked against the bodies where officers are created.
    partner_body: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    # A provider staff member's provider; None for everyone else. A plain key: the auth area
    # sits below the catalogue, whose services check it.
    provider_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("provider.id"))
    # The language the person reads: pages once logged in, their e-mails and (a candidate's)
    # the second language of their certificates. An ISO 639-1 code among the offered ones;
    # None until chosen, when pages follow the browser and documents are in English.
    language: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Raised to end every session of the user at once (a logout, a new password): a session
    # names the epoch it began in (get_id), and one from an earlier epoch no longer loads.
    session_epoch: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # The second factor (office and officers): a TOTP secret, encrypted with a key derived from
    # SECRET_KEY; set when enrolment starts, in use from totp_enabled_at. totp_last_step is
    # the time step of the last code accepted, so that a code cannot be used twice.
    totp_secret: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    totp_enabled_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)

    @property
    def reads(self) -> str:
        """The language to write to this person in: e-mails, and their certificate's. Theirs
        while the product is offered in it, else English."""
        return offered(self.language) or DEFAULT_LANGUAGE

    @property
    def is_staff(self) -> bool:
        """Works in /admin (office, officer or provider staff): the second factor, the shorter
        idle time."""
        return self.role in STAFF_ROLES

    @property
    def reads_all_records(self) -> bool:
        """The office and the officers: every candidate's records and certificates."""
        return self.role in READS_ALL_ROLES

    @property
    def is_provider_staff(self) -> bool:
        return self.role is Role.PROVIDER

    @property
    def is_office(self) -> bool:
        return self.role is Role.OFFICE

    def is_officer_of(self, body: str) -> bool:
        return self.role is Role.OFFICER and self.partner_body == body

    def get_id(self) -> str:
        """What the session cookie holds: the account and the epoch the session began in."""
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to log in inactive accounts
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class PasswordSetupLink(Model):
    """A one-time link that lets a new candidate choose a password. Only its hash is kept."""

    __tablename__ = "password_setup_link"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    expires_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
    used_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()


class ApiToken(Model):
    """A bearer token for integrators, owned by an administrator. Only its hash is kept."""

    __tablename__ = "api_token"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_used_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    expires_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)  # None: never
    revoked_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])

    def usable_at(self, moment: dt.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or moment < self.expires_at)


class RecoveryCode(Model):
    """A single-use code that stands in for the authenticator app (a lost phone). Only its
    hash is kept."""

    __tablename__ = "recovery_code"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    used_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
