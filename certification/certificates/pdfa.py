"""PDF/A-3b: the renderer's PDF made fit for the archive, carrying the files it vouches for.

A pure step from bytes to bytes (pikepdf): it adds what ISO 19005-3 asks of a document
that must still be readable decades from now, and nothing that depends on the clock or
the database, so the same input still gives the same bytes:

- an sRGB output intent, the ICC profile embedded (``static/icc``), which the page's
  DeviceRGB colours and the logos' transparency need;
- XMP metadata saying "PDF/A-3, conformance B", written from the Info dictionary so that
  the two agree, as PDF/A requires;
- each attachment as an associated file (``/AF``): the signed credential travels inside
  the certificate, and the seals applied afterwards cover it;
- a trailer ``/ID`` computed from the content.

The fonts are the renderer's business: it embeds every one (a subset of DejaVu).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, NameTree, String

ICC_PROFILE = Path(__file__).resolve().parents[2] / "static" / "icc" / "sRGB-LittleCMS.icc"
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
# ISO 32000-2, 14.13.2: what an associated file is to the document.
RELATIONSHIPS = frozenset(
    (
        "Source",
        "Data",
        "Alternative",
        "Supplement",
        "EncryptedPayload",
        "FormData",
        "Schema",
        "Unspecified",
    )
)


@dataclass(frozen=True)
class Attachment:
    """A file the certificate carries (PDF/A-3 associated file)."""

    filename: str  # e.g. "EUCII-XXXX.credential.json"
    data: bytes
    media_type: str  # e.g. "application/ld+json"
    description: str  # e.g. "Open Badges 3.0 credential, signed by EFRS and EuSoMII"
    relationship: str = "Data"  # the /AFRelationship name


def make_pdf_a3b(pdf: bytes, made_at: dt.datetime, attachments: Sequence[Attachment] = ()) -> bytes:
    """``pdf`` as a PDF/A-3b document carrying ``attachments``; ``made_at`` dates them."""
    for attachment in attachments:
        if attachment.relationship not in RELATIONSHIPS:
            raise ValueError(f"Unknown AFRelationship {attachment.relationship!r}.")
    names = [attachment.filename for attachment in attachments]
    if len(set(names)) != len(names):
        # A reader lists attachments by name: a second file of one name would be hidden.
        raise ValueError(f"Two attachments share a file name: {sorted(names)}.")
    with pikepdf.open(io.BytesIO(pdf)) as document:
        # PDF/A wants Info and XMP to agree; reportlab's /Trapped has no plain XMP twin.
        if "/Trapped" in document.docinfo:
            del document.docinfo["/Trapped"]
        _add_output_intent(document)
        if attachments:
            _associate(document, attachments, made_at)
        with document.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            xmp.load_from_docinfo(document.docinfo)
            xmp["pdfaid:part"] = "3"
            xmp["pdfaid:conformance"] = "B"
        # reportlab's invariant mode gives every document the same /ID; without one, qpdf
        # makes both halves from the content: the same snapshot, the same ID, and another
        # certificate, another ID.
        if "/ID" in document.trailer:
            del document.trailer["/ID"]
        output = io.BytesIO()
        # PDF/A-3 is built on PDF 1.7. reportlab's streams are compressed already: letting
        # qpdf compress (it decodes and encodes them all again) would cost 5 ms a page for
        # nothing. The streams added here are compressed as they are made, the XMP left
        # legible as PDF/A asks.
        document.save(output, min_version="1.7", deterministic_id=True, compress_streams=False)
    return output.getvalue()


@functools.cache
def _srgb_profile() -> bytes:
    return ICC_PROFILE.read_bytes()


def _add_output_intent(document: pikepdf.Pdf) -> None:
    profile = _compressed_stream(document, _srgb_profile())
    profile.N = 3  # red, green, blue
    intent = Dictionary(
        Type=Name.OutputIntent,
        S=Name.GTS_PDFA1,
        OutputConditionIdentifier=String(OUTPUT_CONDITION),
        Info=String(OUTPUT_CONDITION),
        RegistryName=String("http://www.color.org"),
        DestOutputProfile=document.make_indirect(profile),
    )
    document.Root.OutputIntents = Array([document.make_indirect(intent)])


def _associate(
    document: pikepdf.Pdf, attachments: Sequence[Attachment], made_at: dt.datetime
) -> None:
    """Embed each file, list it under the catalogue's EmbeddedFiles (where readers show
    attachments) and in its ``/AF`` (what makes it a PDF/A-3 associated file)."""
    modified = _pdf_date(made_at)
    tree = NameTree.new(document)
    specs = []
    for attachment in attachments:
        stream = _compressed_stream(document, attachment.data)
        stream.Type = Name.EmbeddedFile
        stream.Subtype = Name("/" + attachment.media_type)
        stream.Params = Dictionary(
            Size=len(attachment.data),
            ModDate=String(modified),
            # An integrity check for readers (ISO 32000-1, table 46), not a security measure.
            CheckSum=String(hashlib.md5(attachment.data, usedforsecurity=False).digest()),
        )
        spec = document.make_indirect(
            Dictionary(
                Type=Name.Filespec,
                F=String(attachment.filename),
                UF=String(attachment.filename),
                Desc=String(attachment.description),
                AFRelationship=Name("/" + attachment.relationship),
                EF=Dictionary(F=stream, UF=stream),
            )
        )
        tree[attachment.filename] = spec
        specs.append(spec)
    document.Root.Names = Dictionary(EmbeddedFiles=tree.obj)
    document.Root.AF = Array(specs)


def _compressed_stream(document: pikepdf.Pdf, data: bytes) -> pikepdf.Stream:
    stream = pikepdf.Stream(document, b"")
    stream.write(zlib.compress(data, 9), filter=Name.FlateDecode)
    return stream


def _pdf_date(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
