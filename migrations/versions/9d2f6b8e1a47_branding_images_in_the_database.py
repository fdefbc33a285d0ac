"""Branding images in the database

Revision ID: 9d2f6b8e1a47
Revises: c4e8f0a1b2d3
Create Date: 2026-12-02 01:19:23.665770

Logos and signatures were files in the instance folder of the host that received the
upload, so a certificate issued on another host or by a queue worker elsewhere printed
without them. They become rows of ``branding_image``. The upgrade reads the files the
partner bodies name from this host's ``instance/branding`` (run it where the uploads were
made, or after copying that folder there); a file that is missing is skipped with a
warning, and that body then prints without it until an administrator uploads it again.
The files are left in place; nothing reads them any more.
"""
import datetime as dt
import hashlib
import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app


# revision identifiers, used by Alembic.
revision = '9d2f6b8e1a47'
down_revision = 'c4e8f0a1b2d3'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.branding_images")

# Frozen copies of the two tables as this migration sees them, not the app's models.
partner_body = sa.table(
    'partner_body',
    sa.column('id', sa.Integer),
    sa.column('short_name', sa.String),
    sa.column('logo_file', sa.String),
    sa.column('signature_file', sa.String),
    sa.column('logo_image_id', sa.Integer),
    sa.column('signature_image_id', sa.Integer),
)
branding_image = sa.Table(
    'branding_image',
    sa.MetaData(),
    sa.Column('id', sa.Integer, primary_key=True),  # so that an insert reports its id
    sa.Column('content', sa.LargeBinary),
    sa.Column('media_type', sa.String),
    sa.Column('sha256', sa.String),
    sa.Column('created_at', sa.DateTime(timezone=True)),
)
MEDIA_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg"}


def _branding_folder():
    return Path(current_app.instance_path) / "branding"


def upgrade():
    op.create_table('branding_image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('media_type', sa.String(length=50), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branding_image'))
    )
    with op.batch_alter_table('branding_image', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_branding_image_sha256'), ['sha256'], unique=False)

    with op.batch_alter_table('partner_body', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo_image_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('signature_image_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_partner_body_logo_image_id_branding_image'), 'branding_image', ['logo_image_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_partner_body_signature_image_id_branding_image'), 'branding_image', ['signature_image_id'], ['id'])

    _move_files_into_the_database()

    with op.batch_alter_table('partner_body', schema=None) as batch_op:
        batch_op.drop_column('logo_file')
        batch_op.drop_column('signature_file')


def _move_files_into_the_database():
    connection = op.get_bind()
    folder = _branding_folder()
    stored = {}  # file name -> branding_image.id
    for body in connection.execute(sa.select(partner_body)).mappings().all():
        changes = {}
        for kind, column in (("logo", "logo_file"), ("signature", "signature_file")):
            name = body[column]
            if not name:
                continue
            if name not in stored:
                path = folder / Path(name).name  # never read outside the folder
                image_id = _store(connection, path)
                if image_id is None:
                    log.warning(
                        "The %s of %s, %s, is missing or not a PNG or JPEG image: skipped."
                        " Upload it again at /admin/branding.",
                        kind, body["short_name"], path,
                    )
                    continue
                stored[name] = image_id
            changes[f"{kind}_image_id"] = stored[name]
        if changes:
            connection.execute(
                partner_body.update().where(partner_body.c.id == body["id"]).values(**changes)
            )


def _store(connection, path):
    """Insert the image at ``path``; its id, or None if there is no usable image there."""
    if not path.is_file():
        return None
    content = path.read_bytes()
    media_type = next((t for magic, t in MEDIA_TYPES.items() if content.startswith(magic)), None)
    if media_type is None:
        return None
    # The file's time is when it was uploaded; the app keeps UTC, naive on SQLite.
    created_at = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    if connection.dialect.name == "sqlite":
        created_at = created_at.replace(tzinfo=None)
    result = connection.execute(
        branding_image.insert().values(
            content=content,
            media_type=media_type,
            sha256=hashlib.sha256(content).hexdigest(),
            created_at=created_at,
        )
    )
    return result.inserted_primary_key[0]


def downgrade():
    with op.batch_alter_table('partner_body', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_file', sa.VARCHAR(length=100), nullable=True))
        batch_op.add_column(sa.Column('logo_file', sa.VARCHAR(length=100), nullable=True))

    _write_files_back()

    with op.batch_alter_table('partner_body', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_partner_body_signature_image_id_branding_image'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_partner_body_logo_image_id_branding_image'), type_='foreignkey')
        batch_op.drop_column('signature_image_id')
        batch_op.drop_column('logo_image_id')

    with op.batch_alter_table('branding_image', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_branding_image_sha256'))

    op.drop_table('branding_image')


def _write_files_back():
    """The images the bodies use now, as files in this host's instance/branding again (the
    earlier uploads no body uses are dropped with the table)."""
    connection = op.get_bind()
    folder = _branding_folder()
    for body in connection.execute(sa.select(partner_body)).mappings().all():
        changes = {}
        for kind in ("logo", "signature"):
            image_id = body[f"{kind}_image_id"]
            if image_id is None:
                continue
            image = connection.execute(
                sa.select(branding_image).where(branding_image.c.id == image_id)
            ).mappings().one()
            name = image["sha256"] + EXTENSIONS.get(image["media_type"], "")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(image["content"])
            changes[f"{kind}_file"] = name
        if changes:
            connection.execute(
                partner_body.update().where(partner_body.c.id == body["id"]).values(**changes)
            )
