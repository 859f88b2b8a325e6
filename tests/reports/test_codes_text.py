"""HRI and visible-separator forms: what a person reads and a spreadsheet keeps, both reversible."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import reports.codes_text
from reports.codes_text import (
    GS,
    gs1_hri,
    hri,
    hri_parts,
    is_gs1,
    raw_from_hri,
    raw_from_visible,
    split_ai,
    visible_gs,
)
from tests.factories import SET82, block, gtin, pack, serial, sscc, sscc_code

serials = st.text(alphabet=SET82, min_size=1, max_size=20)


def test_module_examples_hold() -> None:
    assert doctest.testmod(reports.codes_text).failed == 0


def test_block_code_splits_into_its_four_elements() -> None:
    code = block(gtin(1001), "A(b)<&>", check="Ab1+")
    assert split_ai(code) == (("01", gtin(1001)), ("21", "A(b)<&>"), ("8005", "112000"), ("93", "Ab1+"))
    assert hri(code) == f"(01){gtin(1001)}(21)A(b)<&>(8005)112000(93)Ab1+"
    assert hri_parts(code) == [f"(01){gtin(1001)}", "(21)A(b)<&>", "(8005)112000", "(93)Ab1+"]


def test_sscc_is_one_fixed_length_element() -> None:
    assert split_ai(sscc_code(5)) == (("00", sscc(5)),)
    assert hri(sscc_code(5)) == "(00)" + sscc(5)


@pytest.mark.parametrize(
    "code",
    [
        pack(gtin(1001), serial(1)),  # 29 characters, no AIs
        "04600439931256JgXJ5.T1120AbC9",
        "MY-CUSTOM-AGGREGATE-0001",
        "",
        "0012345",  # SSCC too short
        "01" + gtin(1)[:-1] + "A21X",  # GTIN not digits
        "21ABC" + GS,  # trailing GS
        GS + "21ABC",  # leading GS
        "00" + "1" * 18 + GS + "21X",  # redundant GS after a fixed-length value
        "21AB\u0416C",  # not ASCII
    ],
)
def test_codes_that_are_not_gs1_element_strings_print_as_they_are(code: str) -> None:
    assert split_ai(code) is None
    assert gs1_hri(code) is None
    assert hri(code) == code


def test_a_pack_is_never_gs1_even_when_its_digits_look_like_ais() -> None:
    lookalike = "10" + "1" * 27  # parses as AI 10 (batch) by shape
    assert is_gs1(lookalike)
    assert not is_gs1(lookalike, "pack")
    assert hri(lookalike, "pack") == lookalike


@given(ser=serials, price=st.integers(0, 999999), check=st.text(alphabet=SET82, min_size=4, max_size=4))
def test_escaped_hri_gives_the_exact_code_back(ser: str, price: int, check: str) -> None:
    code = block(gtin(1001), ser, price, check)
    assert raw_from_hri(hri(code, escape=True)) == code


def test_escaping_resolves_what_plain_hri_cannot() -> None:
    tricky = block(gtin(1001), "A(93)B")
    assert hri(tricky) == f"(01){gtin(1001)}(21)A(93)B(8005)112000(93)Ab1+"
    assert hri(tricky, escape=True) == f"(01){gtin(1001)}(21)A\\(93)B(8005)112000(93)Ab1+"
    assert raw_from_hri(hri(tricky, escape=True)) == tricky


@pytest.mark.parametrize("text", ["", "01234", "(0)1", "(99999)x", "(01"])
def test_raw_from_hri_refuses_what_is_not_hri(text: str) -> None:
    with pytest.raises(ValueError):
        raw_from_hri(text)


def test_visible_gs_shows_every_control_and_nothing_else() -> None:
    code = block(gtin(1001), "x&y")
    assert visible_gs(code) == code.replace(GS, "␝")
    assert visible_gs("a\x00b\x1fc\x7fd") == "a\u2400b\u241fc\u2421d"
    assert visible_gs(pack(gtin(1001), serial(2))) == pack(gtin(1001), serial(2))


@given(
    st.text(
        alphabet=st.characters(
            blacklist_categories=["Cs"], blacklist_characters=[chr(c) for c in (*range(0x2400, 0x2420), 0x2421)]
        )
    )
)
def test_visible_gs_round_trips_any_text_without_control_pictures(text: str) -> None:
    shown = visible_gs(text)
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in shown)
    assert raw_from_visible(shown) == text
