"""LinkedIn's "Add to profile" link for a certificate: a plain link, no LinkedIn script.

The parameters are those of LinkedIn's add-to-profile page for a licence or certification
(``startTask=CERTIFICATION_NAME``): ``name``, ``organizationName`` (LinkedIn also takes
``organizationId``, a company page's number, which neither body's page is given here),
``issueYear``/``issueMonth``, ``expirationYear``/``expirationMonth``, ``certUrl`` and
``certId``. Pure: it builds the address from what it is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import quote, urlencode

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def add_to_profile_url(
    *,
    name: str,
    organisation: str,
    issued_on: dt.date,
    expires_on: dt.date | None,
    certificate_url: str,
    certificate_id: str,
) -> str:
    """The address that opens LinkedIn's form for a certification, filled in; no expiry
    given when the certificate does not expire. Every value is percent-encoded UTF-8."""
    params: list[tuple[str, str | int]] = [
        ("startTask", "CERTIFICATION_NAME"),
        ("name", name),
        ("organizationName", organisation),
        ("issueYear", issued_on.year),
        ("issueMonth", issued_on.month),
    ]
    if expires_on is not None:
        params += [("expirationYear", expires_on.year), ("expirationMonth", expires_on.month)]
    params += [("certUrl", certificate_url), ("certId", certificate_id)]
    return f"{ADD_TO_PROFILE}?{urlencode(params, quote_via=quote, safe='')}"


def organisation_name(short_names: Sequence[str]) -> str:
    """The issuing bodies as one organisation, as the programme names itself: "EFRS and
    EuSoMII". Proper names, the same in every language, so not translated."""
    if len(short_names) < 2:
        return "".join(short_names)
    return f"{', '.join(short_names[:-1])} and {short_names[-1]}"
