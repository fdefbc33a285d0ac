"""The partner bodies as printed on certificates: names, signatories, logos, signatures.

Images are uploaded by administrators, checked by their content (not their name),
re-encoded through Pillow as PNG (which drops anything hidden in the original), and kept
in the database (``branding_image``), not in an instance folder: a certificate issued on
any host or by any queue worker prints them. Only PNG and JPEG are taken: SVG can carry
scripts, and reportlab draws raster images directly.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext
from PIL import Image, UnidentifiedImageError

from certification.audit import record_event
from certification.auth.models import User
from certification.certificates.models import BrandingImage, PartnerBody
from certification.errors import InvalidInput
from certification.extensions import db
from certification.validation import FieldErrors, check_text, clean_text

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_PIXELS = 4000 * 4000
ACCEPTED_FORMATS = {"PNG", "JPEG"}

# The two bodies as they stand before an administrator sets them up. The initial
# migration inserts the same rows; tests that build the schema without migrations use this.
DEFAULT_PARTNER_BODIES = (
    {
        "position": 1,
        "short_name": "EFRS",
        "name": "European Federation of Radiographer Societies",
        "signatory_name": "Signatory to be appointed",
        "signatory_title": "President",
    },
    {
        "position": 2,
        "short_name": "EuSoMII",
        "name": "European Society of Medical Imaging Informatics",
        "signatory_name": "Signatory to be appointed",
        "signatory_title": "President",
    },
)


@dataclass
class PartnerBodyInput:
    name: str
    signatory_name: str
    signatory_title: str
    logo: bytes | None = None  # a new upload; None keeps the current image
    signature: bytes | None = None
    remove_logo: bool = False
    remove_signature: bool = False
    # The signatory's title in other languages, by language code; "" for none (English).
    signatory_titles: Mapping[str, str] = field(default_factory=dict)


def image_contents(digests: Iterable[str | None]) -> dict[str, bytes]:
    """The stored images with these SHA-256 hashes, by hash, in one query."""
    wanted = {d for d in digests if d}
    if not wanted:
        return {}
    rows = db.session.execute(
        sa.select(BrandingImage.sha256, BrandingImage.content).where(
            BrandingImage.sha256.in_(wanted)
        )
    )
    return {digest: content for digest, content in rows}


def clean_image(data: bytes, field: str) -> bytes:
    """Check an uploaded image by its content and return it re-encoded as PNG."""
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput.for_fields({field: gettext("Images may be at most 2 MB.")})
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise InvalidInput.for_fields({field: gettext("Upload a PNG or JPEG image.")})
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise InvalidInput.for_fields({field: gettext("The image is too large (pixels).")})
            image.load()
            converted = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidInput.for_fields(
            {field: gettext("This file is not a PNG or JPEG image.")}
        ) from None
    output = io.BytesIO()
    converted.save(output, format="PNG", optimize=True)
    return output.getvalue()


def _store(png: bytes) -> BrandingImage:
    image = BrandingImage(
        content=png, media_type="image/png", sha256=hashlib.sha256(png).hexdigest()
    )
    db.session.add(image)
    return image


def update_partner_body(body: PartnerBody, data: PartnerBodyInput, actor: User | None) -> None:
    """Change how a body appears on certificates issued from now on (issued ones keep theirs)."""
    errors = FieldErrors()
    name = check_text(errors, "name", clean_text(data.name), 200)
    signatory_name = check_text(errors, "signatory_name", clean_text(data.signatory_name), 200)
    signatory_title = check_text(errors, "signatory_title", clean_text(data.signatory_title), 200)
    titles = {}
    for language, typed in data.signatory_titles.items():
        if clean_text(typed):
            field_name = f"signatory_title_{language}"
            titles[language] = check_text(errors, field_name, clean_text(typed), 200)
    errors.raise_if_any()
    logo = clean_image(data.logo, "logo") if data.logo else None
    signature = clean_image(data.signature, "signature") if data.signature else None
    before = partner_snapshot(body)
    body.name, body.signatory_name, body.signatory_title = name, signatory_name, signatory_title
    body.signatory_titles = titles
    if logo is not None:
        body.logo_image = _store(logo)
    elif data.remove_logo:
        body.logo_image = None
    if signature is not None:
        body.signature_image = _store(signature)
    elif data.remove_signature:
        body.signature_image = None
    db.session.flush()
    record_event(
        actor,
        "partner_body.updated",
        "partner_body",
        body.short_name,
        before=before,
        after=partner_snapshot(body),
    )


def partner_snapshot(body: PartnerBody) -> dict[str, object]:
    return {
        "name": body.name,
        "signatory_name": body.signatory_name,
        "signatory_title": body.signatory_title,
        "signatory_titles": dict(body.signatory_titles or {}),
        "logo_sha256": body.logo_image.sha256 if body.logo_image else None,
        "signature_sha256": body.signature_image.sha256 if body.signature_image else None,
    }
