"""Audit events are append-only: triggers refuse UPDATE and DELETE

Revision ID: b7e4a1c2d9f0
Revises: f5bb7d292778
Create Date: 2026-12-01 22:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e4a1c2d9f0'
down_revision = 'f5bb7d292778'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """CREATE OR REPLACE FUNCTION audit_event_is_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$"""
        )
        op.execute(
            """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
            FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only()"""
        )
    elif op.get_bind().dialect.name == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"""CREATE TRIGGER audit_event_no_{operation.lower()} BEFORE {operation}
                ON audit_event
                BEGIN SELECT RAISE(ABORT, 'audit events are append-only: {operation} refused'); END"""
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_is_append_only()")
    elif op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
