"""warehouse.codes: the forms a scanner really sends, written from the domain brief, and their properties."""

from __future__ import annotations

import json
import string

import biip
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from warehouse import codes, layouts
from warehouse.cli.codes import codes_cli
from warehouse.codes import GS, CodeReason, Kind, Repair
from warehouse.identifiers import gs1_check_digit

SET82 = string.digits + string.ascii_letters + "!\"%&'()*+,-./:;<=>?_"


def with_check(digits: str) -> str:
    return digits + str(gs1_check_digit(digits))


GTIN = "0" + with_check("460123456789")  # 14 digits, valid check
BAD_GTIN = GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10)
SERIAL = "x<&\"'z9"  # every character HTML, CSV and XML care about
PACK = GTIN + "aB<&\"'5" + "AbCd=fGh"
BLOCK = f"01{GTIN}21{SERIAL}{GS}8005012000{GS}93Ab1="
BLOCK_NO_PRICE = f"01{GTIN}21{SERIAL}{GS}93Ab1="
SSCC_DIGITS = with_check("48712345000000001")
SSCC = "00" + SSCC_DIGITS

# What a US-QWERTY scanner's keys type under the Russian and the Kazakh Windows layouts.
TO_RU = dict(zip(layouts.US[0] + layouts.US[1], layouts.RU[0] + layouts.RU[1], strict=True))
TO_KZ = dict(zip(layouts.US[0] + layouts.US[1], layouts.KZ[0] + layouts.KZ[1], strict=True))


def typed(text: str, layout: dict[str, str]) -> str:
    return "".join(layout.get(ch, ch) for ch in text)


@pytest.mark.parametrize(
    ("text", "kind", "identity", "normalized", "repairs"),
    [
        (PACK, Kind.PACK, PACK[:21], PACK, ()),
        (BLOCK, Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, ()),
        (BLOCK_NO_PRICE, Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK_NO_PRICE, ()),
        (SSCC, Kind.SSCC, SSCC_DIGITS, SSCC, ()),
        ("]d2" + BLOCK, Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, (Repair.AIM_PREFIX,)),
        ("]d1" + PACK, Kind.PACK, PACK[:21], PACK, (Repair.AIM_PREFIX,)),
        ("]C1" + SSCC, Kind.SSCC, SSCC_DIGITS, SSCC, (Repair.AIM_PREFIX,)),
        ("]Q3" + PACK, Kind.PACK, PACK[:21], PACK, (Repair.AIM_PREFIX,)),
        (GS + BLOCK, Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, (Repair.LEADING_GS,)),
        ("]d2" + GS + BLOCK, Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, (Repair.AIM_PREFIX, Repair.LEADING_GS)),
        (BLOCK.replace(GS, "<GS>"), Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, (Repair.GS_SUBSTITUTE,)),
        (BLOCK.replace(GS, "{GS}"), Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, (Repair.GS_SUBSTITUTE,)),
        (BLOCK.replace(GS, "~"), Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, (Repair.GS_SUBSTITUTE,)),
        (BLOCK.replace(GS, "\u241d"), Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, (Repair.GS_SUBSTITUTE,)),
        (BLOCK.replace(GS, ""), Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, (Repair.GS_RESTORED,)),
        (BLOCK.replace(GS, "", 1), Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, (Repair.GS_RESTORED,)),
        (BLOCK_NO_PRICE.replace(GS, ""), Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK_NO_PRICE, (Repair.GS_RESTORED,)),
        (f"(01){GTIN}(21){SERIAL}(8005)012000(93)Ab1=", Kind.BLOCK, f"01{GTIN}21{SERIAL}", BLOCK, (Repair.BRACKETS,)),
        (f"(00){SSCC_DIGITS}", Kind.SSCC, SSCC_DIGITS, SSCC, (Repair.BRACKETS,)),
        (PACK + "\r\n", Kind.PACK, PACK[:21], PACK, (Repair.WHITESPACE,)),
        (PACK + "\t", Kind.PACK, PACK[:21], PACK, (Repair.WHITESPACE,)),
        ("  " + SSCC + "\n", Kind.SSCC, SSCC_DIGITS, SSCC, (Repair.WHITESPACE,)),
        ("PAL-2026/11:A<B>&C'D\"E", Kind.AGGREGATE, "PAL-2026/11:A<B>&C'D\"E", "PAL-2026/11:A<B>&C'D\"E", ()),
        (
            f"01{GTIN}21{SERIAL}{GS}93Ab1={GS}8005012000",
            Kind.BLOCK,
            f"01{GTIN}21{SERIAL}",
            f"01{GTIN}21{SERIAL}{GS}93Ab1={GS}8005012000",
            (),
        ),
    ],
)
def test_forms_from_the_field(
    text: str, kind: Kind, identity: str, normalized: str, repairs: tuple[Repair, ...]
) -> None:
    parsed = codes.parse(text)
    assert parsed.kind is kind, parsed
    assert parsed.identity == identity
    assert parsed.normalized == normalized
    assert [r for r in parsed.repairs if r is not Repair.GS_RESTORED or Repair.GS_RESTORED in repairs] == list(
        repairs
    ) or set(parsed.repairs) == set(repairs), parsed.repairs
    assert parsed.ok
    assert parsed.error is None
    assert parsed.input == text


def test_fields_of_a_block_and_a_pack() -> None:
    block = codes.parse(BLOCK)
    assert (block.gtin, block.serial, block.price, block.check) == (GTIN, SERIAL, "012000", "Ab1=")
    pack = codes.parse(PACK)
    assert (pack.gtin, pack.serial, pack.check) == (GTIN, "aB<&\"'5", "AbCd=fGh")


@pytest.mark.parametrize("layout", [TO_RU, TO_KZ], ids=["ru", "kk"])
@pytest.mark.parametrize(
    "code", [PACK, BLOCK.replace(GS, "<GS>"), "]d2" + BLOCK.replace(GS, "~"), SSCC, "PAL-2026/11:A<B>&C'D\"E"]
)
def test_keyboard_layout_is_repaired_by_key_position(code: str, layout: dict[str, str]) -> None:
    mangled = typed(code, layout)
    assert mangled != code or (code == SSCC and layout is TO_RU)  # digits survive the Russian layout
    parsed = codes.parse(mangled)
    clean = codes.parse(code)
    assert parsed.kind is clean.kind
    assert parsed.identity == clean.identity
    assert parsed.normalized == clean.normalized
    if mangled != code:
        assert parsed.repairs[0] is Repair.LAYOUT


def test_kazakh_layout_corrupts_gtin_digits_and_still_repairs() -> None:
    mangled = typed(PACK, TO_KZ)
    assert not any(ch.isdigit() for ch in mangled[:14])  # ә і ң ғ ... where the digits were
    assert codes.parse(mangled).identity == PACK[:21]


def test_a_code_valid_as_it_came_is_never_repaired() -> None:
    # <GS> is four legal characters: inside a custom aggregation code it stays as it is.
    code = "BOX<GS>000123456789012"
    parsed = codes.parse(code)
    assert parsed.kind is Kind.AGGREGATE and parsed.normalized == code and parsed.repairs == ()
    # a pack whose serial happens to hold <GS>-like text is a pack
    pack = GTIN + "<GS>abc" + "12345678"
    assert codes.parse(pack).normalized == pack


def test_letter_case_is_never_changed() -> None:
    lower = GTIN + "abcdefg" + "hijklmno"
    upper = GTIN + "ABCDEFG" + "HIJKLMNO"
    assert codes.parse(lower).identity == lower[:21]
    assert codes.parse(upper).identity == upper[:21]
    assert codes.parse(lower).identity != codes.parse(upper).identity


def test_mixed_latin_and_cyrillic_is_not_a_layout() -> None:
    parsed = codes.parse(PACK[:28] + "й")
    assert parsed.kind is Kind.INVALID
    assert parsed.error is not None and parsed.error.reason is CodeReason.BAD_CHARACTERS
    assert "й" in parsed.error.message("ru")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", CodeReason.EMPTY),
        ("\r\n", CodeReason.EMPTY),
        ("hello", CodeReason.TOO_SHORT),
        (BAD_GTIN + PACK[14:], CodeReason.BAD_GTIN_CHECK),
        (BLOCK.replace(GTIN, BAD_GTIN), CodeReason.BAD_GTIN_CHECK),
        (SSCC[:-1] + str((int(SSCC[-1]) + 1) % 10), CodeReason.BAD_SSCC_CHECK),
        (f"01{GTIN}21{SERIAL}{GS}8005012a00{GS}93Ab1=", CodeReason.BAD_PRICE),
        ("A" * 75, CodeReason.TOO_LONG),
        ("код маркировки неверный", CodeReason.BAD_CHARACTERS),
        (f"01{GTIN}21{SERIAL}", CodeReason.BLOCK_CUT),
        (PACK[:25], CodeReason.PACK_CUT),  # issue 17: damaged reads never pass as an aggregate code
        (PACK[:20], CodeReason.PACK_CUT),
        (PACK + "X", CodeReason.PACK_CUT),
        (BLOCK + "X", CodeReason.BLOCK_CUT),
        (f"(01){GTIN}(21){SERIAL}(93)Ab1=(77)x", CodeReason.BAD_BRACKETS),
        (f"]d201{GTIN}10ABC123", CodeReason.GS1_PRODUCT),
        (f"]C101{GTIN}17261231{GS}10L1", CodeReason.GS1_PRODUCT),
        (f"]d210ABC123{GS}17261231", CodeReason.GS1_OTHER),  # a batch and an expiry date, no GTIN
        (f"https://id.gs1.org/01/{GTIN}/21/{SERIAL}", CodeReason.DIGITAL_LINK),
        ("https://example.com/a/b?c=d&e", CodeReason.URL),
        (SSCC[2:-1] + str((int(SSCC[-1]) + 1) % 10), CodeReason.BAD_SSCC_CHECK),  # 18 digits, no AI 00
        (PACK + PACK, CodeReason.TWO_CODES),
        (BLOCK + BLOCK.replace(SERIAL, "y<&\"'z9"), CodeReason.TWO_CODES),
        (PACK + "\n" + BLOCK, CodeReason.TWO_CODES),
        (GTIN, CodeReason.PRODUCT_BARCODE),
        (GTIN[1:], CodeReason.PRODUCT_BARCODE),
        ("01" + GTIN, CodeReason.PRODUCT_BARCODE),
        (f"01{GTIN}21ABCDEF{GS}93xyz1", CodeReason.OTHER_GROUP),  # milk: 6-character serial
        (f"01{GTIN}21ABCDEFGHIJKLM{GS}91EE06{GS}92" + "x" * 44, CodeReason.OTHER_GROUP),  # medicines
        (with_check("4600000"), CodeReason.PRODUCT_BARCODE),
    ],
)
def test_rejections_say_why_in_three_languages(text: str, reason: CodeReason) -> None:
    parsed = codes.parse(text)
    assert not parsed.ok
    assert parsed.error is not None and parsed.error.reason is reason, parsed
    messages = {lang: parsed.error.message(lang) for lang in ("ru", "kk", "en")}
    assert len(set(messages.values())) == 3
    assert all("{" not in m for m in messages.values())


def test_product_barcode_keeps_its_gtin_and_kind() -> None:
    parsed = codes.parse(GTIN[1:])  # EAN-13 as printed on the pack
    assert parsed.kind is Kind.PRODUCT
    assert parsed.gtin == GTIN and parsed.identity == GTIN


def test_two_codes_carry_both_parts() -> None:
    parsed = codes.parse(PACK + BLOCK)
    assert [p.kind for p in parsed.parts] == [Kind.PACK, Kind.BLOCK]
    assert parsed.parts[1].normalized == BLOCK


def test_configured_substitute() -> None:
    text = BLOCK.replace(GS, "|")
    assert codes.parse(text).kind is Kind.INVALID
    parsed = codes.parse(text, gs_substitutes=["|"])
    assert parsed.normalized == BLOCK and Repair.GS_SUBSTITUTE in parsed.repairs


def test_printable_forms() -> None:
    assert codes.hri(BLOCK) == f"(01){GTIN}(21){SERIAL}(8005)012000(93)Ab1="
    assert codes.hri(SSCC) == f"(00){SSCC_DIGITS}"
    assert codes.hri(PACK) == PACK
    assert codes.visible_gs(BLOCK).count("<GS>") == 2
    assert codes.spreadsheet_text("=SUM(A1)") == "'=SUM(A1)"
    assert codes.spreadsheet_text(PACK) == PACK
    assert codes.url_part(BLOCK) == f"01{GTIN}21x%3C%26%22%27z9%1D8005012000%1D93Ab1%3D"
    assert codes.xml_text(BLOCK) == (f"01{GTIN}21x&lt;&amp;&quot;&apos;z9&lt;GS&gt;8005012000&lt;GS&gt;93Ab1=")
    # the printed HRI reads back to the same code
    assert codes.parse(codes.hri(BLOCK)).normalized == BLOCK


# --- properties -----------------------------------------------------------------------------------------------

gtins = st.text("0123456789", min_size=13, max_size=13).map(with_check)
serials = st.text(SET82, min_size=7, max_size=7)
tails = st.text(SET82, min_size=8, max_size=8)
packs = st.builds(lambda g, s, t: g + s + t, gtins, serials, tails)
checks = st.text(SET82, min_size=4, max_size=4)
prices = st.text("0123456789", min_size=6, max_size=6)
blocks = st.builds(
    lambda g, s, p, c: f"01{g}21{s}" + (f"{GS}8005{p}" if p else "") + f"{GS}93{c}",
    gtins,
    serials,
    st.one_of(st.none(), prices),
    checks,
)
ssccs = st.text("0123456789", min_size=17, max_size=17).map(lambda d: "00" + with_check(d))
valid = st.one_of(packs, blocks, ssccs)


ORDER = ["substitute", "tilde", "drop_gs", "fnc1", "aim", "crlf", "layout_ru", "layout_kz"]


def mangle(code: str, how: list[str]) -> str:
    """Apply the steps in the order a scanner does: separators, FNC1, AIM prefix, suffix, then the OS layout."""
    out = code
    for step in sorted(how, key=ORDER.index):
        if step == "substitute":
            out = out.replace(GS, "<GS>")
        elif step == "tilde":
            out = out.replace(GS, "~")
        elif step == "drop_gs" and out.startswith("01"):
            out = out.replace(GS, "")
        elif step == "aim":
            out = "]d2" + out
        elif step == "fnc1":
            out = GS + out
        elif step == "crlf":
            out = out + "\r\n"
        elif step == "layout_ru":
            out = typed(out, TO_RU)
        elif step == "layout_kz":
            out = typed(out, TO_KZ)
    return out


steps = st.lists(st.sampled_from(["substitute", "tilde", "drop_gs", "aim", "fnc1", "crlf"]), max_size=4, unique=True)


@settings(max_examples=300, deadline=None)
@given(valid)
def test_valid_codes_come_back_unchanged(code: str) -> None:
    parsed = codes.parse(code)
    assert parsed.ok and parsed.normalized == code and parsed.repairs == ()


@settings(max_examples=400, deadline=None)
@given(valid, steps, st.sampled_from([None, "layout_ru", "layout_kz"]))
def test_mangled_codes_keep_their_identity(code: str, how: list[str], layout: str | None) -> None:
    clean = codes.parse(code)
    # GS-substitute steps only make sense before a layout mangles the substitute text itself
    mangled = mangle(code, [*how, *([layout] if layout else [])])
    assume(not (layout and not any(ch.isalpha() for ch in code)))  # all-digit codes survive Russian unchanged
    # "<GS>" is four legal characters: a serial or check code that holds them cannot survive a scanner that
    # also sends "<GS>" for GS. That ambiguity is real (the configuration must avoid it), not a parser bug.
    assume(not ("substitute" in how and "<GS>" in code))
    parsed = codes.parse(mangled)
    assert parsed.kind is clean.kind, (mangled, parsed)
    assert parsed.identity == clean.identity
    assert parsed.normalized == clean.normalized
    if mangled != code:
        assert parsed.repairs, mangled
    if layout and mangled != mangle(code, how):
        assert Repair.LAYOUT in parsed.repairs


@settings(max_examples=500, deadline=None)
@given(blocks, st.booleans())
def test_a_block_with_gs_written_as_text_parses_as_the_slow_path_would(code: str, bad_gtin: bool) -> None:
    """The fast path for <GS> (CSV files) gives exactly what the general repair path gives."""
    text = code.replace(GS, "<GS>")
    if bad_gtin:  # a wrong check digit must still be diagnosed by the slow path
        text = text[:15] + str((int(text[15]) + 1) % 10) + text[16:]
    fast = codes.parse(text)
    assert fast == codes._parse_slow(text, tuple(codes.DEFAULT_GS_SUBSTITUTES), True)
    assert fast.ok is not bad_gtin and (bad_gtin or fast.repairs == (Repair.GS_SUBSTITUTE,))


@given(st.text(max_size=120))
def test_random_text_is_classified_never_raises(text: str) -> None:
    parsed = codes.parse(text)
    assert isinstance(parsed.kind, Kind)
    assert parsed.ok == (parsed.error is None and parsed.kind is not Kind.INVALID)
    if parsed.kind is Kind.INVALID:
        assert parsed.error is not None and parsed.error.message("kk")
    json.dumps(parsed.to_json("ru"))


@settings(max_examples=300, deadline=None)
@given(st.text(SET82 + GS, min_size=18, max_size=74))
def test_set82_text_is_aggregate_or_gs1_never_changed_silently(text: str) -> None:
    parsed = codes.parse(text)
    if parsed.kind is Kind.AGGREGATE:
        assert parsed.identity == parsed.normalized
        assert parsed.normalized == text or parsed.repairs


# --- biip cross-check ---------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.one_of(blocks, ssccs))
def test_same_ais_and_values_as_biip(code: str) -> None:
    ours = codes.split_element_string(code)
    theirs = biip.parse(code).gs1_message
    assert ours is not None and theirs is not None
    assert ours == [(es.ai.ai, es.value) for es in theirs.element_strings]
    parsed = codes.parse(code)
    if parsed.kind is Kind.BLOCK:
        values = {es.ai.ai: es.value for es in theirs.element_strings}
        assert (parsed.gtin, parsed.serial, parsed.price, parsed.check) == (
            values["01"],
            values["21"],
            values.get("8005"),
            values["93"],
        )
    else:
        assert parsed.identity == theirs.element_strings[0].value


# --- CLI ------------------------------------------------------------------------------------------------------


def test_cli_json_fields_in_input_order() -> None:
    result = CliRunner().invoke(codes_cli, ["parse", "--json", "--", "]d2" + BLOCK.replace(GS, "<GS>"), "junk", PACK])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["kind"] for r in rows] == ["block", "invalid", "pack"]
    assert rows[0]["normalized"] == BLOCK and rows[0]["identity"] == f"01{GTIN}21{SERIAL}"
    assert rows[0]["repairs"] == ["aim_prefix", "gs_substitute"] and rows[0]["error"] is None
    assert rows[0]["gtin"] == GTIN and rows[0]["serial"] == SERIAL
    assert rows[1]["error"] and rows[1]["identity"] is None
    assert rows[2]["input"] == PACK


def test_cli_reads_stdin_and_speaks_russian() -> None:
    result = CliRunner().invoke(codes_cli, ["parse", "--json", "--lang", "ru"], input=f"{PACK}\nabc\n")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["kind"] for r in rows] == ["pack", "invalid"]
    assert "короткий" in rows[1]["error"]


def test_cli_text_output_shows_gs() -> None:
    result = CliRunner().invoke(codes_cli, ["parse", BLOCK])
    assert result.exit_code == 0
    assert result.output.split("\t")[:3] == ["block", f"01{GTIN}21{SERIAL}", codes.visible_gs(BLOCK)]


# --- issue 17: nothing damaged passes as a code ---------------------------------------------------------------


def _another_whole_code(original: str, parsed: codes.ParsedCode) -> bool:
    """The damaged text is itself a well-formed code of another kind, read as it stands."""
    return parsed.ok and parsed.repairs == () and parsed.kind is not codes.parse(original).kind


cuts = st.one_of(packs, blocks, ssccs).flatmap(lambda c: st.tuples(st.just(c), st.integers(1, len(c) - 1)))
extensions = st.tuples(st.one_of(packs, blocks, ssccs), st.text(SET82, min_size=1, max_size=15), st.booleans())


@settings(max_examples=500, deadline=None)
@given(cuts)
def test_every_truncation_of_a_valid_code_is_refused(cut: tuple[str, int]) -> None:
    code, keep = cut
    parsed = codes.parse(code[:keep])
    # A pack whose first 20 characters are "00" and 18 digits with a right check digit starts with a real
    # SSCC: that prefix is a well-formed code of another kind, not a damaged read.
    assume(not _another_whole_code(code, parsed))
    assert not parsed.ok, (code[:keep], parsed)
    assert parsed.kind is not Kind.AGGREGATE


@settings(max_examples=500, deadline=None)
@given(extensions)
def test_every_extension_of_a_valid_code_is_refused(extension: tuple[str, str, bool]) -> None:
    code, extra, separated = extension
    text = code + (GS if separated else "") + extra
    parsed = codes.parse(text)
    if parsed.kind is Kind.INVALID and parsed.error is not None and parsed.error.reason is CodeReason.TWO_CODES:
        return  # the extra characters happened to be a code of their own: two codes in one read, refused
    assume(not _another_whole_code(code, parsed))  # an SSCC and nine digits can make a pack of digits
    assert not parsed.ok, (text, parsed)
    assert parsed.kind is not Kind.AGGREGATE


@settings(max_examples=300, deadline=None)
@given(blocks, st.sampled_from(["]d2", "]C1", "]Q3", "]e0"]), st.sampled_from(["", "\r", "\n", "\t", "\r\n"]))
def test_a_block_in_every_form_a_scanner_sends_it(code: str, aim: str, suffix: str) -> None:
    """AIM identifiers of any GS1 symbology, the bracketed human-readable text, any suffix: one identity."""
    clean = codes.parse(code)
    for form in (aim + code + suffix, codes.hri(code) + suffix, aim + codes.hri(code)):
        parsed = codes.parse(form)
        assert parsed.ok and parsed.kind is Kind.BLOCK, (form, parsed)
        assert parsed.identity == clean.identity and parsed.normalized == clean.normalized
