"""The partner bodies as printed on certificates: names, signatories, logos, signatures.

Images are uploaded by administrators, checked by their content (not their name),
re-encoded through Pillow as PNG (which drops anything hidden in the original), and kept
under generated names in ``instance/branding``. Only PNG and JPEG are taken: SVG can carry
scripts, and reportlab draws raster images directly.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError

from certification.audit import record_event
from certification.auth.models import User
from certification.certificates.models import PartnerBody
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


def branding_folder() -> Path:
    return Path(current_app.instance_path) / "branding"


def read_branding_image(name: str) -> bytes | None:
    path = branding_folder() / Path(name).name  # never leave the folder
    return path.read_bytes() if path.is_file() else None


def clean_image(data: bytes, field: str) -> bytes:
    """Check an uploaded image by its content and return it re-encoded as PNG."""
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput.for_fields({field: "Images may be at most 2 MB."})
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise InvalidInput.for_fields({field: "Upload a PNG or JPEG image."})
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise InvalidInput.for_fields({field: "The image is too large (pixels)."})
            image.load()
            converted = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidInput.for_fields({field: "This file is not a PNG or JPEG image."}) from None
    output = io.BytesIO()
    converted.save(output, format="PNG", optimize=True)
    return output.getvalue()


def _store(data: bytes) -> str:
    folder = branding_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(12)}.png"
    (folder / name).write_bytes(data)
    return name


def update_partner_body(body: PartnerBody, data: PartnerBodyInput, actor: User | None) -> None:
    """Change how a body appears on certificates issued from now on (issued ones keep theirs)."""
    errors = FieldErrors()
    name = check_text(errors, "name", clean_text(data.name), 200)
    signatory_name = check_text(errors, "signatory_name", clean_text(data.signatory_name), 200)
    signatory_title = check_text(errors, "signatory_title", clean_text(data.signatory_title), 200)
    errors.raise_if_any()
    logo = clean_image(data.logo, "logo") if data.logo else None
    signature = clean_image(data.signature, "signature") if data.signature else None
    before = partner_snapshot(body)
    body.name, body.signatory_name, body.signatory_title = name, signatory_name, signatory_title
    if logo is not None:
        body.logo_file = _store(logo)
    elif data.remove_logo:
        body.logo_file = None
    if signature is not None:
        body.signature_file = _store(signature)
    elif data.remove_signature:
        body.signature_file = None
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
        "logo_file": body.logo_file,
        "signature_file": body.signature_file,
    }
