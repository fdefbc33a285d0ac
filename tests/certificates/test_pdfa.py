"""The certificate as an archival document: PDF/A-3b, carrying its signed credential.

What a PDF/A validator and a reader's attachment pane look at, checked with pikepdf:
the XMP identification, the sRGB output intent, the fonts, the associated file, and that
all of it survives the bodies' seals.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image, ImageChops, ImageCms

from certification.certificates import pdf as renderer
from certification.certificates.pdf import Attachment, render_certificate_pdf
from certification.certificates.pdfa import make_pdf_a3b
from certification.certificates.signing import (
    SealKey,
    check_seals,
    load_signer,
    load_trust_roots,
    seal_pdf,
)
from tests.certificates.test_pdf import snapshot

ISSUED_AT = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
CREDENTIAL = json.dumps(
    {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "European Certificate in Imaging Informatics — Łukasz Żółkiewski",
        "proof": [{"type": "DataIntegrityProof", "proofValue": "z3FXQjecWufY46yg"}],
    },
    ensure_ascii=False,
).encode()


def credential(code: str, data: bytes = CREDENTIAL, **changes: Any) -> Attachment:
    values: dict[str, Any] = {
        "filename": f"{code}.credential.json",
        "data": data,
        "media_type": "application/ld+json",
        "description": "Open Badges 3.0 credential, signed by EFRS and EuSoMII",
    }
    values.update(changes)
    return Attachment(**values)


def carrying(name: str = "Łukasz Żółkiewski", **changes: Any) -> renderer.CertificateSnapshot:
    """A snapshot whose PDF carries its credential."""
    sheet = snapshot(name, **changes)
    return dataclasses.replace(sheet, attachments=(credential(sheet.code),))


def open_pdf(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def test_the_xmp_says_pdf_a_3b_and_agrees_with_the_info_dictionary():
    sheet = carrying("Jón Þórðarson")
    document = open_pdf(render_certificate_pdf(sheet))
    xmp = document.open_metadata()
    assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("3", "B")
    info = document.docinfo
    assert xmp["dc:title"] == str(info.Title) == f"{sheet.award_title} — Jón Þórðarson"
    assert xmp["dc:creator"] == [str(info.Author)]
    assert xmp["dc:description"] == str(info.Subject)
    assert xmp["pdf:Producer"] == str(info.Producer)
    assert xmp["xmp:CreatorTool"] == str(info.Creator)
    # The dates are the snapshot's, never the clock's, in both places.
    assert xmp["xmp:CreateDate"] == xmp["xmp:ModifyDate"] == "2026-11-28T09:30:00+00:00"
    assert str(info.CreationDate) == str(info.ModDate) == "D:20261128093000+00'00'"
    assert "/Trapped" not in info  # it has no plain XMP twin to agree with
    metadata = document.Root.Metadata
    assert (metadata.Type, metadata.Subtype) == (pikepdf.Name.Metadata, pikepdf.Name.XML)
    assert "/Filter" not in metadata  # legible to any archive tool
    assert b"bytes=" not in metadata.read_bytes().split(b"?>")[0]  # PDF/A bars it


def test_the_file_is_pdf_1_7_with_a_binary_marker_and_an_id():
    data = render_certificate_pdf(carrying())
    assert data.startswith(b"%PDF-1.7\n%")
    assert all(byte > 127 for byte in data[10:14])
    identifier = open_pdf(data).trailer.ID
    assert len(identifier) == 2 and all(len(bytes(part)) == 16 for part in identifier)


def test_the_output_intent_embeds_an_srgb_monitor_profile():
    document = open_pdf(render_certificate_pdf(carrying()))
    (intent,) = document.Root.OutputIntents
    assert intent.Type == pikepdf.Name.OutputIntent
    assert intent.S == pikepdf.Name.GTS_PDFA1
    assert str(intent.OutputConditionIdentifier) == "sRGB IEC61966-2.1"
    profile = intent.DestOutputProfile
    assert profile.N == 3
    icc = profile.read_bytes()
    assert struct.unpack(">I", icc[:4])[0] == len(icc)
    assert (icc[12:16], icc[16:20], icc[36:40]) == (b"mntr", b"RGB ", b"acsp")
    assert icc[8] < 5  # ICC major version: PDF 1.7 knows up to v4
    parsed = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile
    assert "sRGB" in parsed.profile_description


def _fonts(resources: pikepdf.Dictionary) -> list[pikepdf.Dictionary]:
    """Every font of ``resources`` and of the form XObjects it draws, however deep."""
    fonts = list(resources.get("/Font", {}).values())
    for xobject in resources.get("/XObject", {}).values():
        if xobject.get("/Subtype") == pikepdf.Name.Form and "/Resources" in xobject:
            fonts += _fonts(xobject.Resources)
    return fonts


def _cmap_subtables(font_program: bytes) -> int:
    """How many encodings the TrueType program's 'cmap' table holds."""
    (tables,) = struct.unpack(">H", font_program[4:6])
    for index in range(tables):
        tag, _, offset, _ = struct.unpack(">4sIII", font_program[12 + 16 * index : 28 + 16 * index])
        if tag == b"cmap":
            return int(struct.unpack(">H", font_program[offset + 2 : offset + 4])[0])
    raise AssertionError("no cmap table")


def test_every_font_is_embedded_none_left_to_the_reader():
    sheet = carrying("Αικατερίνη Παπαδοπούλου")
    document = open_pdf(render_certificate_pdf(sheet))
    (page,) = document.pages
    fonts = _fonts(page.Resources)
    assert {str(font.BaseFont).split("+", 1)[1] for font in fonts} >= {
        "DejaVuSans",
        "DejaVuSerif-Bold",
    }
    for font in fonts:
        assert font.Subtype == pikepdf.Name.TrueType, font.BaseFont  # no base-14 Helvetica
        descriptor = font.FontDescriptor
        assert "/FontFile2" in descriptor, font.BaseFont
        # A symbolic TrueType font: no /Encoding, and one encoding in its cmap (PDF/A-2/3,
        # 6.2.11.6), so every reader maps the codes to the same glyphs.
        assert descriptor.Flags & 4 and not descriptor.Flags & 32
        assert "/Encoding" not in font
        assert _cmap_subtables(descriptor.FontFile2.read_bytes()) == 1


def test_the_credential_comes_back_out_byte_for_byte_as_an_associated_file():
    sheet = carrying()
    document = open_pdf(render_certificate_pdf(sheet))
    filename = f"{sheet.code}.credential.json"
    # Listed where readers show attachments ...
    assert list(document.attachments) == [filename]
    assert document.attachments[filename].get_file().read_bytes() == CREDENTIAL
    # ... and associated with the document, as PDF/A-3 requires.
    (spec,) = document.Root.AF
    assert spec.objgen == document.attachments[filename].obj.objgen
    assert spec.Type == pikepdf.Name.Filespec
    assert spec.AFRelationship == pikepdf.Name.Data
    assert str(spec.F) == str(spec.UF) == filename
    assert str(spec.Desc) == "Open Badges 3.0 credential, signed by EFRS and EuSoMII"
    embedded = spec.EF.F
    assert embedded.objgen == spec.EF.UF.objgen
    assert embedded.Type == pikepdf.Name.EmbeddedFile
    assert embedded.Subtype == pikepdf.Name("/application/ld+json")
    assert embedded.read_bytes() == CREDENTIAL
    params = embedded.Params
    assert params.Size == len(CREDENTIAL)
    assert str(params.ModDate) == "D:20261128093000+00'00'"
    assert bytes(params.CheckSum) == hashlib.md5(CREDENTIAL, usedforsecurity=False).digest()


def test_several_files_keep_their_own_names_and_relationships():
    sheet = snapshot("Kateřina Dvořáková")
    schema = credential(
        sheet.code,
        data=b'{"$schema": "https://json-schema.org/draft/2020-12/schema"}',
        filename="credential.schema.json",
        media_type="application/schema+json",
        description="The credential's JSON Schema",
        relationship="Schema",
    )
    both = dataclasses.replace(sheet, attachments=(credential(sheet.code), schema))
    document = open_pdf(render_certificate_pdf(both))
    assert sorted(document.attachments) == sorted(
        [f"{sheet.code}.credential.json", "credential.schema.json"]
    )
    relationships = {str(spec.UF): spec.AFRelationship for spec in document.Root.AF}
    assert relationships == {
        f"{sheet.code}.credential.json": pikepdf.Name.Data,
        "credential.schema.json": pikepdf.Name.Schema,
    }
    assert document.attachments["credential.schema.json"].get_file().read_bytes() == schema.data


def test_a_certificate_without_attachments_is_still_pdf_a_and_lists_none():
    document = open_pdf(render_certificate_pdf(snapshot("Siobhán Ní Bhriain")))
    assert document.open_metadata()["pdfaid:part"] == "3"
    assert "/OutputIntents" in document.Root
    assert "/AF" not in document.Root and "/Names" not in document.Root


def test_an_unknown_relationship_is_refused():
    sheet = snapshot("Anna")
    odd = dataclasses.replace(sheet, attachments=(credential(sheet.code, relationship="Proof"),))
    with pytest.raises(ValueError, match="Proof"):
        render_certificate_pdf(odd)


def test_two_files_of_one_name_are_refused_rather_than_one_hidden():
    sheet = snapshot("Anna")
    twice = dataclasses.replace(
        sheet, attachments=(credential(sheet.code), credential(sheet.code, data=b"{}"))
    )
    with pytest.raises(ValueError, match="share a file name"):
        render_certificate_pdf(twice)


def _pdf_without_an_id() -> bytes:
    """The smallest one-page PDF, written by hand: nothing adds an /ID to its trailer."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
    ]
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = b"xref\n0 4\n0000000000 65535 f \n" + b"".join(
        b"%010d 00000 n \n" % offset for offset in offsets
    )
    trailer = b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % len(body)
    return body + xref + trailer


def test_the_archival_step_also_takes_a_pdf_without_an_id():
    source = _pdf_without_an_id()
    assert "/ID" not in open_pdf(source).trailer
    archival = open_pdf(make_pdf_a3b(source, ISSUED_AT))
    assert len(archival.trailer.ID) == 2
    assert archival.open_metadata()["pdfaid:part"] == "3"


def test_the_same_snapshot_gives_the_same_bytes_and_another_credential_others():
    sheet = carrying("Nguyễn Thị Minh Khai")
    first = render_certificate_pdf(sheet)
    assert render_certificate_pdf(sheet) == first
    other = dataclasses.replace(
        sheet, attachments=(credential(sheet.code, data=CREDENTIAL.replace(b"z3F", b"z4F")),)
    )
    changed = render_certificate_pdf(other)
    assert changed != first
    # Both halves of the ID hash the content: another credential, another ID.
    assert open_pdf(changed).trailer.ID[0] != open_pdf(first).trailer.ID[0]
    assert (
        open_pdf(first).trailer.ID[0] != open_pdf(render_certificate_pdf(carrying())).trailer.ID[0]
    )


def test_nothing_is_encrypted_and_nothing_runs():
    document = open_pdf(render_certificate_pdf(carrying()))
    assert not document.is_encrypted
    forbidden = {"/JS", "/JavaScript", "/OpenAction", "/AA", "/Launch"}
    for item in document.objects:
        if isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
            assert not forbidden & set(item.keys()), item.objgen
    assert "/JavaScript" not in document.Root.get("/Names", {})


def _logo(colour: tuple[int, int, int, int]) -> bytes:
    """A PNG with a transparent border, as the branding pages store logos (RGBA)."""
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste(colour, (8, 8, 56, 56))
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def test_a_transparent_logo_is_drawn_in_rgb_with_its_soft_mask():
    left, right = snapshot("Anna").issuers
    issuers = (
        dataclasses.replace(left, logo=_logo((31, 78, 121, 255))),
        dataclasses.replace(right, logo=_logo((15, 118, 110, 200))),
    )
    document = open_pdf(render_certificate_pdf(carrying(issuers=issuers)))
    images = [
        xobject
        for xobject in document.pages[0].Resources.XObject.values()
        if xobject.Subtype == pikepdf.Name.Image
    ]
    assert len(images) == 2
    for image in images:
        # DeviceRGB is covered by the sRGB output intent; PDF/A-2 and 3 allow soft masks.
        assert image.ColorSpace == pikepdf.Name.DeviceRGB
        assert image.SMask.ColorSpace == pikepdf.Name.DeviceGray


@pytest.fixture
def sealers(seal_keys: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (body, load_signer(SealKey(body, Path(key["pkcs12"]))))
        for body, key in seal_keys["SEAL_KEYS"].items()
    ]


def test_the_seals_cover_the_credential_and_leave_the_pdf_a_intact(sealers, seal_keys):
    sheet = carrying()
    unsealed = render_certificate_pdf(sheet)
    sealed = seal_pdf(unsealed, sealers)
    # Each seal is an update appended to the file: the credential sits in the bytes both
    # seals sign, so changing it breaks them.
    assert sealed.startswith(unsealed)
    roots = load_trust_roots([Path(path) for path in seal_keys["SIGNING_TRUST_ROOTS"]])
    checks = check_seals(sealed, roots)
    assert [check.field for check in checks] == ["EFRS", "EuSoMII"]
    assert all(check.ok for check in checks)
    assert checks[-1].covers_whole_file
    # What made it PDF/A-3b is all still there, as read from the sealed file.
    document = open_pdf(sealed)
    xmp = document.open_metadata()
    assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("3", "B")
    assert document.Root.OutputIntents[0].DestOutputProfile.N == 3
    (spec,) = document.Root.AF
    assert spec.AFRelationship == pikepdf.Name.Data
    assert spec.EF.F.read_bytes() == CREDENTIAL
    assert document.attachments[f"{sheet.code}.credential.json"].get_file().read_bytes() == (
        CREDENTIAL
    )


def test_a_changed_credential_inside_a_sealed_pdf_breaks_both_seals(sealers, seal_keys):
    sealed = seal_pdf(render_certificate_pdf(carrying()), sealers)
    document = open_pdf(sealed)
    (spec,) = document.Root.AF
    stored = spec.EF.F.read_raw_bytes()  # the credential as the file holds it (compressed)
    assert sealed.count(stored) == 1
    at = sealed.index(stored) + len(stored) // 2
    tampered = sealed[:at] + bytes([sealed[at] ^ 1]) + sealed[at + 1 :]
    roots = load_trust_roots([Path(path) for path in seal_keys["SIGNING_TRUST_ROOTS"]])
    checks = check_seals(tampered, roots)
    assert [check.intact for check in checks] == [False, False]


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils")
def test_the_archival_step_does_not_change_a_pixel(tmp_path, monkeypatch):
    """The page as drawn and the page as PDF/A-3b render identically."""
    monkeypatch.setattr(renderer, "make_pdf_a3b", lambda pdf, made_at, attachments: pdf)
    sheet = carrying("Σωκράτης Αλεξίου")
    drawn = render_certificate_pdf(sheet)
    archival = make_pdf_a3b(drawn, ISSUED_AT, sheet.attachments)
    assert archival != drawn
    pages = []
    for name, data in (("drawn", drawn), ("archival", archival)):
        (tmp_path / f"{name}.pdf").write_bytes(data)
        subprocess.run(  # noqa: S603 - fixed arguments, our own files
            ["pdftoppm", "-png", "-r", "50", "-singlefile", f"{name}.pdf", name],  # noqa: S607
            cwd=tmp_path,
            check=True,
        )
        pages.append(Image.open(tmp_path / f"{name}.png").convert("RGB"))
    assert ImageChops.difference(*pages).getbbox() is None
