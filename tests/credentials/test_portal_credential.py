"""A holder's credential on /me: the signed JSON to download, its address to copy, and
LinkedIn's form filled in while the certificate is valid; nobody else's."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from certification.catalogue.wording import save_translations
from certification.certificates.services import find_certificate, revoke_certificate
from certification.credentials.linkedin import add_to_profile_url, organisation_name
from certification.extensions import db
from tests.conftest import log_in

SITE = "https://certificates.example.org"
GREEK_TITLE = "Ευρωπαϊκό Πιστοποιητικό στην Πληροφορική Απεικόνισης"
ENGLISH_TITLE = "European Certificate in Imaging Informatics"


def query_of(url: str) -> dict[str, str]:
    """The parameters of ``url``, each given once."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    found = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in found.values()), found
    return {name: values[0] for name, values in found.items()}


# ---------------------------------------------------------------- the link itself


def test_the_linkedin_link_carries_greek_and_diacritics_percent_encoded():
    url = add_to_profile_url(
        name=GREEK_TITLE,
        organisation="Société Européenne & Co = EFRS and EuSoMII",
        issued_on=dt.date(2026, 3, 9),
        expires_on=dt.date(2031, 3, 8),
        certificate_url=f"{SITE}/credentials/EIC-AB12-CD34-EF56-GH78-9",
        certificate_id="EIC-AB12-CD34-EF56-GH78-9",
    )
    assert url.isascii()
    assert " " not in url and "+" not in url
    # UTF-8, byte by byte: "Ε" is CE 95, "é" is C3 A9; the "&" and "=" in a value are escaped.
    assert "name=%CE%95%CF%85%CF%81%CF%89%CF%80%CE%B1%CF%8A%CE%BA%CF%8C%20" in url
    assert "organizationName=Soci%C3%A9t%C3%A9%20Europ%C3%A9enne%20%26%20Co%20%3D%20EFRS" in url
    assert query_of(url) == {
        "startTask": "CERTIFICATION_NAME",
        "name": GREEK_TITLE,
        "organizationName": "Société Européenne & Co = EFRS and EuSoMII",
        "issueYear": "2026",
        "issueMonth": "3",
        "expirationYear": "2031",
        "expirationMonth": "3",
        "certUrl": f"{SITE}/credentials/EIC-AB12-CD34-EF56-GH78-9",
        "certId": "EIC-AB12-CD34-EF56-GH78-9",
    }


def test_a_certificate_that_does_not_expire_gives_linkedin_no_expiry():
    url = add_to_profile_url(
        name="Europäisches Zertifikat — Łódź",
        organisation="EFRS and EuSoMII",
        issued_on=dt.date(2026, 12, 31),
        expires_on=None,
        certificate_url=f"{SITE}/credentials/EIC-1",
        certificate_id="EIC-1",
    )
    assert url.isascii()
    query = query_of(url)
    assert "expirationYear" not in query and "expirationMonth" not in query
    assert (query["name"], query["issueYear"], query["issueMonth"]) == (
        "Europäisches Zertifikat — Łódź",
        "2026",
        "12",
    )
    assert list(query)[:2] == ["startTask", "name"]


@pytest.mark.parametrize(
    ("short_names", "expected"),
    [
        (["EFRS", "EuSoMII"], "EFRS and EuSoMII"),
        (["EuSoMII"], "EuSoMII"),
        (["A", "B", "C"], "A, B and C"),
    ],
)
def test_the_issuers_are_named_as_one_organisation(short_names, expected):
    assert organisation_name(short_names) == expected


# ---------------------------------------------------------------- on the portal


def issued(api, candidate_id: int) -> str:
    response = api.post("/certificates", {"candidate_id": candidate_id, "programme": "EII-C"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["code"]


def offers(response, code: str) -> dict[str, str | None]:
    """The credential's offers on the page, by what they are: the download's and LinkedIn's
    hrefs, and the value of the read-only field labelled "Credential URL" (None if absent)."""
    page = response.get_data(as_text=True)
    found: dict[str, str | None] = {"download": None, "linkedin": None, "copy": None}
    for attributes, text in re.findall(r"<a ([^>]*)>(.*?)</a>", page, re.S):
        href = html.unescape(re.search(r'href="([^"]*)"', attributes)[1])
        if text.startswith("Add to LinkedIn") and code in text:
            assert 'target="_blank"' in attributes
            assert 'rel="noopener noreferrer"' in attributes
            found["linkedin"] = href
        elif "credential (.json)" in text and code in text:
            found["download"] = href
    label = re.search(rf'<label for="(credential-{code})">Credential URL</label>', page)
    if label:
        field = re.search(rf'<input[^>]*id="{label[1]}"[^>]*>', page)
        assert field and "readonly" in field[0]
        found["copy"] = html.unescape(re.search(r'value="([^"]*)"', field[0])[1])
        button = re.search(rf'<button [^>]*data-copy-from="{label[1]}"[^>]*>([^<]*)', page)
        assert button and button[1] == "Copy credential URL"
    return found


def test_a_holder_is_offered_their_credential_its_address_and_linkedin(
    app, client, api, eligible_candidate
):
    code = issued(api, eligible_candidate("Γιώργος Παπαδόπουλος"))
    log_in(client, "eligible1@example.org")
    response = client.get("/me/")
    assert response.status_code == 200
    found = offers(response, code)

    assert found["download"] == f"/api/v1/certificates/{code}/credential"
    assert found["copy"] == f"{SITE}/credentials/{code}"
    with app.app_context():
        certificate = find_certificate(code)
        issued_on, expires_on = certificate.issued_on, certificate.expires_on
    assert expires_on is not None  # EII-C is valid for 60 months
    assert query_of(found["linkedin"]) == {
        "startTask": "CERTIFICATION_NAME",
        "name": ENGLISH_TITLE,  # an English-reading holder's certificate is English alone
        "organizationName": "EFRS and EuSoMII",
        "issueYear": str(issued_on.year),
        "issueMonth": str(issued_on.month),
        "expirationYear": str(expires_on.year),
        "expirationMonth": str(expires_on.month),
        "certUrl": f"{SITE}/credentials/{code}",
        "certId": code,
    }

    download = client.get(found["download"])
    assert download.status_code == 200
    assert download.mimetype == "application/ld+json"
    assert download.headers["Content-Disposition"] == f'attachment; filename="{code}.json"'
    credential = json.loads(download.get_data())
    assert credential["id"] == f"{SITE}/credentials/{code}"
    assert credential["credentialSubject"]["name"] == "Γιώργος Παπαδόπουλος"


def test_another_candidate_sees_none_of_it(app, client, api, eligible_candidate):
    theirs = issued(api, eligible_candidate("Alice Example"))
    eligible_candidate("Bob Example")
    log_in(client, "eligible2@example.org")
    page = client.get("/me/").get_data(as_text=True)
    assert theirs not in page
    assert "credential (.json)" not in page and "linkedin.com" not in page
    assert client.get(f"/api/v1/certificates/{theirs}/credential").status_code == 404


def test_linkedin_gets_the_title_in_the_holders_language(
    app, client, api, eligible_candidate, monkeypatch
):
    monkeypatch.setattr("certification.languages.OFFERED_LANGUAGES", ("en", "el"))
    candidate_id = eligible_candidate("Ελένη Ζωγράφου")
    with app.app_context():
        save_translations("el", {ENGLISH_TITLE: GREEK_TITLE}, None)
        db.session.commit()
    log_in(client, "eligible1@example.org")
    client.post("/account/language", data={"language": "el", "next": "/me/"})
    code = issued(api, candidate_id)
    with app.app_context():
        assert find_certificate(code).translated["award_title"] == GREEK_TITLE

    linkedin = re.search(
        r'href="(https://www\.linkedin\.com/profile/add\?[^"]*)"',
        client.get("/me/").get_data(as_text=True),
    )
    assert linkedin
    url = html.unescape(linkedin[1])
    assert url.isascii()
    assert query_of(url)["name"] == GREEK_TITLE


def test_a_revoked_certificate_offers_its_credential_for_the_records_and_no_linkedin(
    app, client, api, eligible_candidate, today
):
    code = issued(api, eligible_candidate())
    with app.app_context():
        revoke_certificate(find_certificate(code), "Issued in error.", actor=None)
        db.session.commit()
    log_in(client, "eligible1@example.org")
    response = client.get("/me/")
    found = offers(response, code)
    assert found["linkedin"] is None
    assert "linkedin.com" not in response.get_data(as_text=True)
    assert found["copy"] is None  # not offered as if it proved anything
    assert found["download"] == f"/api/v1/certificates/{code}/credential"
    assert "Download the revoked credential (.json), for your records" in response.get_data(
        as_text=True
    )
    assert client.get(found["download"]).status_code == 200
