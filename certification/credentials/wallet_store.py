"""The state of wallet offers (OpenID4VCI) in the application's database: openbadgeslib's
``OID4VCIStore`` protocol on SQLAlchemy, for SQLite and PostgreSQL, and for several
stateless hosts sharing one database.

Every decision that must be atomic — burning a nonce, redeeming a code, counting a wrong
transaction code, claiming the issuance — is one conditional statement whose row count says
who won, never a read followed by a write.

Each of them runs and commits on a connection of its own (``db.engine.begin()``), not in
the request's session. The request's transaction may still fail after the decision was made
and a wallet told of it (the credential's signing, the delivery's insert): its rollback must
not hand a burnt nonce or a spent code back for a second use. For the same reason these
calls come before the request's own writes: on SQLite a second connection writing while
the session holds the write lock would wait for it, and on PostgreSQL could wait on a row
the session locked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any, cast

import sqlalchemy as sa
from openbadgeslib.oid4vci.store import (
    CLAIM_CONFLICT,
    CLAIM_GONE,
    CLAIM_OK,
    STATE_INVALIDATED,
    STATE_ISSUED,
    STATE_OFFERED,
    STATE_REDEEMED,
    PreAuthorizedGrant,
    PurgeStats,
)
from sqlalchemy.dialects import postgresql, sqlite

from certification.credentials.models import WalletGrant, WalletNonce, WalletToken
from certification.extensions import db

# The nonce key is the app's SECRET_KEY (the same on every host) put through HMAC with this
# fixed label, so that it is shared without a table of its own and is no other key's twin.
NONCE_KEY_LABEL = b"certification/oid4vci/nonce-hmac/v1"

_grants = cast(sa.Table, WalletGrant.__table__)
_tokens = cast(sa.Table, WalletToken.__table__)
_nonces = cast(sa.Table, WalletNonce.__table__)


def grant_record(grant: PreAuthorizedGrant, certificate_id: int) -> WalletGrant:
    """``grant`` as a row (for the request's session: an offer is made in its transaction)."""
    assert grant.credential_id is not None  # noqa: S101 - the offer always names it
    return WalletGrant(
        grant_id=grant.grant_id,
        code_id=grant.code_id,
        state=grant.state,
        certificate_id=certificate_id,
        configuration_id=grant.credential_configuration_id,
        credential_format=grant.credential_format,
        credential_id=grant.credential_id,
        max_proofs=grant.max_proofs,
        tx_code_kdf=grant.tx_code_kdf,
        tx_code_salt=grant.tx_code_salt,
        tx_code_digest=grant.tx_code_digest,
        tx_code_attempts=grant.tx_code_attempts,
        tx_code_max_attempts=grant.tx_code_max_attempts,
        tx_code_length=grant.tx_code_length,
        tx_code_input_mode=grant.tx_code_input_mode,
        fingerprint=grant.issuance_fingerprint,
        created_at=grant.created_at or dt.datetime.now(dt.UTC),
        expires_at=grant.expires_at,
    )


def _grant(row: Any) -> PreAuthorizedGrant:
    return PreAuthorizedGrant(
        grant_id=row.grant_id,
        code_id=row.code_id,
        badge="certificate",
        credential_configuration_id=row.configuration_id,
        credential_format=row.credential_format,
        # What the grant is for: the certificate (by its id), fixed at offer time.
        recipient=str(row.certificate_id),
        expires_at=row.expires_at,
        state=row.state,
        credential_id=row.credential_id,
        max_proofs=row.max_proofs,
        tx_code_kdf=row.tx_code_kdf,
        tx_code_salt=row.tx_code_salt,
        tx_code_digest=row.tx_code_digest,
        tx_code_attempts=row.tx_code_attempts,
        tx_code_max_attempts=row.tx_code_max_attempts,
        tx_code_length=row.tx_code_length,
        tx_code_input_mode=row.tx_code_input_mode,
        issuance_fingerprint=row.fingerprint,
        created_at=row.created_at,
    )


class DatabaseOID4VCIStore:
    """openbadgeslib's ``OID4VCIStore`` on the application's database."""

    # Safe across workers and hosts: every decision is one statement in the shared database.
    multiprocess_safe = True

    def __init__(self, secret_key: str) -> None:
        self._nonce_secret = hmac.new(secret_key.encode(), NONCE_KEY_LABEL, hashlib.sha256).digest()

    def nonce_secret(self) -> bytes:
        return self._nonce_secret

    # ---------------------------------------------------------------- reads

    def _one(self, statement: sa.Select[Any]) -> PreAuthorizedGrant | None:
        with db.engine.connect() as connection:
            row = connection.execute(statement).first()
        return _grant(row) if row is not None else None

    def find_grant_by_code(self, code_id: str, *, now: dt.datetime) -> PreAuthorizedGrant | None:
        return self._one(
            sa.select(_grants).where(_grants.c.code_id == code_id, _grants.c.expires_at > now)
        )

    def find_grant(self, grant_id: str) -> PreAuthorizedGrant | None:
        return self._one(sa.select(_grants).where(_grants.c.grant_id == grant_id))

    def find_grant_by_credential_id(self, credential_id: str) -> PreAuthorizedGrant | None:
        return self._one(
            sa.select(_grants)
            .where(_grants.c.credential_id == credential_id)
            .order_by(_grants.c.created_at.desc())
            .limit(1)
        )

    def grant_for_token(self, token_id: str, *, now: dt.datetime) -> PreAuthorizedGrant | None:
        return self._one(
            sa.select(_grants)
            .join(_tokens, _tokens.c.grant_id == _grants.c.grant_id)
            .where(
                _tokens.c.token_id == token_id,
                _tokens.c.expires_at > now,
                _grants.c.expires_at > now,
                _grants.c.state.in_((STATE_REDEEMED, STATE_ISSUED)),
            )
        )

    # ---------------------------------------------------------------- decisions

    def save_grant(self, grant: PreAuthorizedGrant) -> None:
        """Insert ``grant`` (its ``recipient`` the certificate's id) at once. The portal's
        offers do not come this way: they are added to the request's transaction with the
        audit event that records them (:func:`grant_record`)."""
        row = grant_record(grant, int(grant.recipient))
        values = {c.key: getattr(row, c.key) for c in _grants.columns}
        with db.engine.begin() as connection:
            connection.execute(sa.insert(_grants).values(values))

    def record_tx_failure(self, grant_id: str) -> int:
        attempts = _grants.c.tx_code_attempts + 1
        with db.engine.begin() as connection:
            count = connection.execute(
                sa.update(_grants)
                .where(_grants.c.grant_id == grant_id)
                .values(
                    tx_code_attempts=attempts,
                    state=sa.case(
                        (attempts >= _grants.c.tx_code_max_attempts, STATE_INVALIDATED),
                        else_=_grants.c.state,
                    ),
                )
                .returning(_grants.c.tx_code_attempts)
            ).scalar()
        return int(count or 0)

    def redeem_grant(self, grant_id: str, *, now: dt.datetime) -> bool:
        with db.engine.begin() as connection:
            won = connection.execute(
                sa.update(_grants)
                .where(
                    _grants.c.grant_id == grant_id,
                    _grants.c.state == STATE_OFFERED,
                    _grants.c.expires_at > now,
                )
                .values(state=STATE_REDEEMED)
            ).rowcount
        return won == 1

    def invalidate_grant(self, grant_id: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(_grants)
                .where(_grants.c.grant_id == grant_id, _grants.c.state != STATE_ISSUED)
                .values(state=STATE_INVALIDATED)
            )
            connection.execute(sa.delete(_tokens).where(_tokens.c.grant_id == grant_id))

    def mint_token(self, token_id: str, grant_id: str, *, expires_at: dt.datetime) -> None:
        with db.engine.begin() as connection:
            connection.execute(
                sa.insert(_tokens).values(
                    token_id=token_id, grant_id=grant_id, expires_at=expires_at
                )
            )
            connection.execute(
                sa.update(_grants)
                .where(_grants.c.grant_id == grant_id, _grants.c.expires_at < expires_at)
                .values(expires_at=expires_at)
            )

    def burn_nonce(self, nonce_id: str, *, expires_at: dt.datetime, now: dt.datetime) -> bool:
        insert = _dialect_insert().values(nonce_id=nonce_id, expires_at=expires_at)
        with db.engine.begin() as connection:
            # RETURNING, not the row count: psycopg reports none for this statement.
            inserted = connection.execute(
                insert.on_conflict_do_nothing(index_elements=["nonce_id"]).returning(
                    _nonces.c.nonce_id
                )
            ).scalar()
        return inserted is not None

    def claim_issuance(self, grant_id: str, fingerprint: str, *, now: dt.datetime) -> str:
        with db.engine.begin() as connection:
            claimed = connection.execute(
                sa.update(_grants)
                .where(
                    _grants.c.grant_id == grant_id,
                    _grants.c.fingerprint.is_(None),
                    _grants.c.state == STATE_REDEEMED,
                    _grants.c.expires_at > now,
                )
                .values(state=STATE_ISSUED, fingerprint=fingerprint)
            ).rowcount
            if claimed == 1:
                return CLAIM_OK
            # Lost, or nothing to claim: a fingerprint once set never changes, so reading
            # it now classifies the answer without another decision.
            row = connection.execute(
                sa.select(_grants.c.state, _grants.c.fingerprint, _grants.c.expires_at).where(
                    _grants.c.grant_id == grant_id
                )
            ).first()
        if row is None or row.state == STATE_INVALIDATED or row.expires_at <= now:
            return CLAIM_GONE
        if row.fingerprint is not None:
            return CLAIM_OK if row.fingerprint == fingerprint else CLAIM_CONFLICT
        return CLAIM_GONE

    def purge_expired(self, *, now: dt.datetime, limit: int = 500) -> PurgeStats:
        """Delete at most ``limit`` expired rows of each table; issued grants are kept
        (their deliveries name them)."""
        removed = []
        with db.engine.begin() as connection:
            for table, key, *kept in (
                (_tokens, _tokens.c.token_id),
                (_nonces, _nonces.c.nonce_id),
                (_grants, _grants.c.grant_id, _grants.c.state != STATE_ISSUED),
            ):
                doomed = (
                    sa.select(key).where(table.c.expires_at <= now, *kept).limit(limit)
                ).scalar_subquery()
                removed.append(connection.execute(sa.delete(table).where(key.in_(doomed))).rowcount)
        tokens, nonces, grants = removed
        return PurgeStats(grants, tokens, nonces, more=max(removed) >= limit)

    def close(self) -> None:
        """Nothing to release: the connections are the application's pool's."""


def _dialect_insert() -> Any:
    """INSERT … ON CONFLICT DO NOTHING, as this database spells it."""
    if db.engine.dialect.name == "postgresql":
        return postgresql.insert(_nonces)
    return sqlite.insert(_nonces)
