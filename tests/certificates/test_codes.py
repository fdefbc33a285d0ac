from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certification.certificates.codes import (
    ALPHABET,
    MalformedCode,
    check_symbol,
    new_code,
    normalise_code,
)

CODE_SHAPE = re.compile(
    r"^EIC-[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}-[0-9A-HJKMNP-TV-Z]$"
)


def test_a_new_code_has_the_prefix_four_groups_and_a_check_symbol():
    code = new_code("EIC")
    assert CODE_SHAPE.match(code), code
    assert normalise_code(code) == code


def test_codes_do_not_repeat():
    assert len({new_code("EIC") for _ in range(2000)}) == 2000


def test_typing_is_forgiving():
    code = new_code("EIC")
    typed = code.lower().replace("-", "").replace("0", "o").replace("1", "l")
    assert normalise_code(f"  {typed} ") == code
    assert normalise_code(code.replace("-", " ")) == code
    assert normalise_code(code.replace("-", "–")) == code  # an en dash from a word processor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "EIC",
        "EIC-1234",
        "1234-5678-9ABC-DEFG-H",
        "EIC-" + "U" * 17,
        "EIC-ABCD-EFGH-JKMN-PQRS-T-EXTRA",
        "<script>",
    ],
)
def test_malformed_text_is_refused(text):
    with pytest.raises(MalformedCode):
        normalise_code(text)


@given(
    st.text(alphabet=ALPHABET, min_size=16, max_size=16),
    st.integers(0, 15),
    st.sampled_from(ALPHABET),
)
def test_every_single_mistyped_symbol_is_caught(body, position, replacement):
    if body[position] == replacement:
        return
    code = "EIC" + body + check_symbol(body)
    typo = "EIC" + body[:position] + replacement + body[position + 1 :] + check_symbol(body)
    assert normalise_code(code)
    with pytest.raises(MalformedCode, match="does not match"):
        normalise_code(typo)


@given(st.text(alphabet=ALPHABET, min_size=16, max_size=16), st.integers(0, 14))
def test_swapped_neighbours_are_caught_except_zero_and_z(body, position):
    a, b = body[position], body[position + 1]
    if a == b or {a, b} == {"0", "Z"}:
        return
    swapped = body[:position] + b + a + body[position + 2 :]
    with pytest.raises(MalformedCode):
        normalise_code("EIC" + swapped + check_symbol(body))


@given(st.text(max_size=60))
def test_any_text_gives_a_canonical_code_or_a_clear_refusal(text):
    # What a verifier may type or paste: a code, a sentence, emoji, a NUL, a whole URL.
    try:
        code = normalise_code(text)
    except MalformedCode as refusal:
        assert str(refusal)
    else:
        assert re.fullmatch(r"[A-Z]{2,5}(-[0-9A-HJKMNP-TV-Z]{4}){4}-[0-9A-HJKMNP-TV-Z]", code)
        assert normalise_code(code) == code
