"""Marking codes: parse, repair and validate whatever a scanner, a file or a person sends.

Pure: no Flask, no database. `parse` never raises: every input comes back classified, with the repairs
that were made and, for a rejection, a reason a warehouse worker understands in Russian, Kazakh and English.

Order of work, and why:
1. Fast paths for a clean pack, block or SSCC (the million-pack truck is mostly clean codes).
2. Strict reading of the text as it came: a code that is valid as it came is never "repaired".
3. Repairs that only remove what cannot be part of a code (whitespace, AIM prefix, leading FNC1),
   then GS substitutes, bracketed text, missing GS restored from the fixed field lengths.
4. Keyboard layout: Cyrillic or Kazakh letters mapped back to US-QWERTY by key position, then all of the above.
5. Only then a custom aggregation code (18-74 characters of the allowed set): it is the catch-all, so it must
   not swallow a GS1 code that a repair would have recovered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Final, NamedTuple
from urllib.parse import quote
from xml.sax.saxutils import escape as _xml_escape

from warehouse.code_errors import CodeError as CodeError  # re-exported: one name for callers
from warehouse.code_errors import CodeReason as CodeReason
from warehouse.identifiers import gs1_key_ok
from warehouse.layouts import from_layout, likely_layouts

GS: Final = "\x1d"
GS_PICTURE: Final = "\u241d"  # "␝": what some tools print for GS; never part of a real code
DEFAULT_GS_SUBSTITUTES: Final[tuple[str, ...]] = ("<GS>", "{GS}", "~")

# GS1 "set 82": the characters a serial, a check code or a custom aggregation code may hold.
SET82: Final = "0-9A-Za-z!\"%&'()*+,\\-./:;<=>?_"
_SET82_CHARS: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!\"%&'()*+,-./:;<=>?_")
AGGREGATE_MIN: Final = 18
AGGREGATE_MAX: Final = 74
PACK_LENGTH: Final = 29


class Kind(StrEnum):
    PACK = "pack"
    BLOCK = "block"
    SSCC = "sscc"
    AGGREGATE = "aggregate"
    PRODUCT = "product"
    INVALID = "invalid"


class Repair(StrEnum):
    WHITESPACE = "whitespace"  # CR, LF, Tab or spaces around the code
    AIM_PREFIX = "aim_prefix"  # ]d2, ]d1, ]C1, ]Q3 ...
    LEADING_GS = "leading_gs"  # FNC1 sent as a leading GS
    GS_SUBSTITUTE = "gs_substitute"  # <GS>, {GS}, ~, ␝ ... turned back into GS
    GS_RESTORED = "gs_restored"  # separators put back from the fixed field lengths
    BRACKETS = "brackets"  # (01)...(21)... human-readable text
    TRAILING_GS = "trailing_gs"  # a GS after the last field
    LAYOUT = "layout"  # Russian or Kazakh keyboard layout mapped back to US-QWERTY


class ParsedCode(NamedTuple):
    """One input, classified. A NamedTuple: parse runs a million times per truck and this is the cheapest."""

    input: str
    kind: Kind
    gtin: str | None = None
    serial: str | None = None
    price: str | None = None  # block: AI 8005, tiyn, digits
    check: str | None = None  # block: AI 93; pack: characters 22-29, opaque
    identity: str | None = None
    normalized: str | None = None
    repairs: tuple[Repair, ...] = ()
    error: CodeError | None = None
    parts: tuple[ParsedCode, ...] = ()  # two codes caught in one read

    @property
    def ok(self) -> bool:
        """A marking or aggregation code that can be matched (a product barcode is not one)."""
        return self.error is None and self.kind is not Kind.INVALID

    @property
    def is_aggregate(self) -> bool:
        return self.kind is Kind.SSCC or self.kind is Kind.AGGREGATE

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        return {
            "input": self.input,
            "kind": self.kind.value,
            "gtin": self.gtin,
            "serial": self.serial,
            "price": self.price,
            "check": self.check,
            "identity": self.identity,
            "normalized": self.normalized,
            "hri": hri(self.normalized) if self.normalized else None,
            "repairs": [r.value for r in self.repairs],
            "error": self.error.message(lang) if self.error else None,
            "reason": self.error.reason.value if self.error else None,
            "parts": [p.to_json(lang) for p in self.parts],
        }


# --- check digits -------------------------------------------------------------------------------------------


_GTIN_OK: dict[str, bool] = {}  # a truck carries a handful of GTINs: memoise, it is most of a pack's parse


def gtin_ok(gtin: str) -> bool:
    ok = _GTIN_OK.get(gtin)
    if ok is None:
        ok = gs1_key_ok(gtin)
        if len(_GTIN_OK) > 100_000:  # random input must not grow it forever
            _GTIN_OK.clear()
        _GTIN_OK[gtin] = ok
    return ok


def gtin14(digits: str) -> str:
    return digits.zfill(14)


# --- patterns -----------------------------------------------------------------------------------------------

_S = f"[{SET82}]"
_PACK_RE: Final = re.compile(rf"(\d{{14}})({_S}{{7}})({_S}{{8}})")
# Tobacco block, GS in place (43 or 33 characters): the fast path.
_BLOCK_GS_RE: Final = re.compile(rf"01(\d{{14}})21({_S}{{7}})(?:\x1d8005(\d{{6}}))?\x1d93({_S}{{4}})")
# Tobacco block with every GS removed: fixed lengths tell where the fields are.
_BLOCK_BARE_RE: Final = re.compile(rf"01(\d{{14}})21({_S}{{7}})(?:8005({_S}{{6}}))?93({_S}{{4}})")
_SSCC_RE: Final = re.compile(r"00(\d{18})")
_AIM_RE: Final = re.compile(r"\][A-Za-z][0-9]")
_BRACKET_AI_RE: Final = re.compile(r"\((\d{2,4})\)")
# One code inside a read that caught several (separators between them are optional).
_ONE_CODE_RE: Final = re.compile(
    rf"(01\d{{14}}21{_S}{{7}}\x1d?(?:8005\d{{6}}\x1d?)?93{_S}{{4}}|00\d{{18}}|\d{{14}}{_S}{{15}})[\x1d\s]*"
)

# GS1 application identifiers we read, with (fixed length or None for variable, max length, numeric).
_AIS: Final[dict[str, tuple[int | None, int, bool]]] = {
    "00": (18, 18, True),
    "01": (14, 14, True),
    "02": (14, 14, True),
    "10": (None, 20, False),
    "11": (6, 6, True),
    "13": (6, 6, True),
    "15": (6, 6, True),
    "17": (6, 6, True),
    "21": (None, 20, False),
    "240": (None, 30, False),
    "8005": (6, 6, False),
    "91": (None, 90, False),
    "92": (None, 90, False),
    "93": (None, 90, False),
    "8200": (None, 70, False),  # the product's URL (GS1 General Specifications' example symbols carry one)
}


# --- parsing --------------------------------------------------------------------------------------------------


def parse(
    text: str, *, gs_substitutes: Sequence[str] = DEFAULT_GS_SUBSTITUTES, repair_layout: bool = True
) -> ParsedCode:
    """Classify one read. Never raises."""
    n = len(text)
    if n == PACK_LENGTH:
        m = _PACK_RE.fullmatch(text)
        if m is not None and gtin_ok(m[1]):
            return ParsedCode(text, Kind.PACK, m[1], m[2], None, m[3], text[:21], text)
    elif n == 43 or n == 33:
        m = _BLOCK_GS_RE.fullmatch(text)
        if m is not None and gtin_ok(m[1]):
            return _block(text, m[1], m[2], m[3], m[4], ())
    elif n == 20:
        m = _SSCC_RE.fullmatch(text)
        if m is not None and gs1_key_ok(m[1]):
            return ParsedCode(text, Kind.SSCC, identity=m[1], normalized=text)
    elif (n == 49 or n == 36) and "<GS>" in gs_substitutes:
        # A block with <GS> for GS, as CSV act files and many scanner setups write it: what the slow
        # path would make of it (nothing but the substitute to repair), a tenth of the time.
        m = _BLOCK_GS_RE.fullmatch(text.replace("<GS>", GS))
        if m is not None and gtin_ok(m[1]):
            return _block(text, m[1], m[2], m[3], m[4], _GS_SUBSTITUTED)
    return _parse_slow(text, tuple(gs_substitutes), repair_layout)


_GS_SUBSTITUTED: Final = (Repair.GS_SUBSTITUTE,)
_OPERATOR_PACK_RE: Final = re.compile(rf"(\d{{14}})({_S}{{7}})")
_OPERATOR_BLOCK_RE: Final = re.compile(rf"01(\d{{14}})21({_S}{{7}})(?:\x1d8005(\d{{6}}))?")


def parse_operator_form(text: str) -> ParsedCode | None:
    """A code in the operator's form, as its API gives a document's codes (no crypto tail): a pack as GTIN +
    serial (21 characters), a block as 01 GTIN 21 serial, maybe with GS 8005 and its price. Only act files
    use it (an act fetched from the operator has nothing more); a scanner's read of 21 characters is still a
    pack read cut short. None for anything else.

    >>> parse_operator_form("04600439931256JgXJ5.T").identity, parse_operator_form("04600439931256JgXJ5.") is None
    ('04600439931256JgXJ5.T', True)
    """
    m = _OPERATOR_PACK_RE.fullmatch(text)
    if m is not None and gtin_ok(m[1]):
        return ParsedCode(text, Kind.PACK, m[1], m[2], None, None, text, text)
    m = _OPERATOR_BLOCK_RE.fullmatch(text)
    if m is not None and gtin_ok(m[1]):
        return ParsedCode(text, Kind.BLOCK, m[1], m[2], m[3], None, f"01{m[1]}21{m[2]}", text)
    return None


def _block(
    source: str, gtin: str, serial: str, price: str | None, check: str | None, repairs: tuple[Repair, ...]
) -> ParsedCode:
    identity = f"01{gtin}21{serial}"
    normalized = identity
    if price is not None:
        normalized += f"{GS}8005{price}"
    if check is not None:
        normalized += f"{GS}93{check}"
    return ParsedCode(source, Kind.BLOCK, gtin, serial, price, check, identity, normalized, repairs)


def _invalid(
    source: str, reason: CodeReason, detail: str = "", repairs: tuple[Repair, ...] = (), **fields: Any
) -> ParsedCode:
    return ParsedCode(source, Kind.INVALID, repairs=repairs, error=CodeError(reason, detail), **fields)


def _parse_slow(source: str, substitutes: tuple[str, ...], repair_layout: bool) -> ParsedCode:
    text, repairs = _strip_envelope(source)
    if not text:
        return _invalid(source, CodeReason.EMPTY, repairs=repairs)
    found = _strict(source, text, repairs)
    if found is not None:
        return found
    found = _repaired(source, text, repairs, substitutes)
    if found is not None:
        return found
    if repair_layout:
        for layout in likely_layouts(text):
            fixed = _parse_slow(from_layout(source, layout), substitutes, repair_layout=False)
            if fixed.kind is not Kind.INVALID or (
                fixed.error is not None and fixed.error.reason in _FOUND_UNDER_A_LAYOUT
            ):
                return fixed._replace(input=source, repairs=(Repair.LAYOUT, *fixed.repairs))
    several = _several(source, text, repairs, substitutes)
    if several is not None:
        return several
    damaged = _not_an_aggregate(source, text, repairs)
    if damaged is not None:
        return damaged
    aggregate = _aggregate(source, text, repairs)
    if aggregate is not None:
        return aggregate
    return _diagnose(source, text, repairs)


# Diagnoses worth a layout repair: the read was a code once its keys are mapped back to US-QWERTY.
_FOUND_UNDER_A_LAYOUT: Final = frozenset(
    {
        CodeReason.BAD_GTIN_CHECK,
        CodeReason.BAD_SSCC_CHECK,
        CodeReason.TWO_CODES,
        CodeReason.PACK_CUT,
        CodeReason.BLOCK_CUT,
        CodeReason.GS1_PRODUCT,
        CodeReason.OTHER_GROUP,
    }
)
# AIM symbology identifiers that declare GS1 data: GS1 Data Matrix, GS1-128, GS1 QR, DataBar, DotCode.
_GS1_AIMS: Final = frozenset({"]d2", "]C1", "]Q3", "]e0", "]J1"})
PACK_CUT_MAX: Final = 44  # longer, a read starting with a GTIN is no longer taken for one pack
BLOCK_CUT_MAX: Final = 56  # 01 GTIN 21 with no separator: up to here taken for one block (41 at most whole)


def _not_an_aggregate(source: str, text: str, repairs: tuple[Repair, ...]) -> ParsedCode | None:
    """The rule of the catch-all (docs/codes.md): a read becomes a custom aggregation code only when it
    cannot be a damaged pack, block or SSCC, nor another kind of code. Those are told here, precisely.

    - a web address: a GS1 Digital Link (`…/01/<GTIN>/…`) or any other URL;
    - printed text in brackets, `(01)…`, that did not read as GS1 above;
    - GS1 data declared by the AIM prefix (`]d2`, `]C1`, `]Q3` …), or an element string starting `01`
      with a valid GTIN: a product code with no serial, another product group, or a damaged block;
    - 14 digits of a valid GTIN at the start of a read of 15 to 44 characters: a pack cut or overlong
      (before the SSCC rule: a refusal, asking for a rescan, is safer than a wrong identity);
    - `00` and fewer than 18 more digits: an SSCC cut short; 18 digits: an SSCC without its `00`, checked.
    """
    n = len(text)
    aim = _aim_of(source)
    gtin = text[2:16] if text.startswith("01") and text[2:16].isdigit() and n >= 16 else None
    if aim in _GS1_AIMS or (gtin is not None and gtin_ok(gtin)):  # GS1 data, a URL in AI 8200 included
        told = _gs1_elements(source, text, repairs)
        if told is not None:
            return told
    lowered = text[:8].lower()
    if "://" in text or lowered.startswith("www."):
        link = re.search(r"/01/(\d{14})(?:/|$|\?)", text)
        if link is not None and gtin_ok(link[1]):
            return _invalid(source, CodeReason.DIGITAL_LINK, link[1], repairs)
        return _invalid(source, CodeReason.URL, "", repairs)
    if _BRACKET_AI_RE.match(text):
        flat = _from_brackets(text)  # GS1 text that reads, but is no tobacco code: told as what it is
        told = _gs1_elements(source, flat, (*repairs, Repair.BRACKETS)) if flat else None
        return told or _invalid(source, CodeReason.BAD_BRACKETS, _shown(text), repairs)
    if text[:14].isdigit() and gtin_ok(text[:14]) and PACK_LENGTH != n <= PACK_CUT_MAX:
        return _invalid(source, CodeReason.PACK_CUT, str(n), repairs, gtin=text[:14])
    if text.isdigit() and text.startswith("00") and n < 20:  # an SSCC with its AI, cut short
        return _invalid(source, CodeReason.TOO_SHORT, str(n), repairs)
    if n == 18 and text.isdigit():
        if not gs1_key_ok(text):
            return _invalid(source, CodeReason.BAD_SSCC_CHECK, text, repairs)
        return ParsedCode(source, Kind.SSCC, identity=text, normalized="00" + text, repairs=repairs)
    return None


def _aim_of(source: str) -> str | None:
    text = source.strip(" \t\r\n\x00")
    return text[:3] if _AIM_RE.match(text) else None


def _gs1_elements(source: str, text: str, repairs: tuple[Repair, ...]) -> ParsedCode | None:
    """GS1 data that is no tobacco code (the strict and repaired readings failed): what it is instead."""
    n = len(text)
    if GS not in text and text.startswith("01") and text[16:18] == "21" and n <= BLOCK_CUT_MAX:
        # 01 GTIN 21 and no separator: a block read cut short or overlong (fields cannot be told apart)
        return _invalid(source, CodeReason.BLOCK_CUT, _shown(text), repairs, gtin=text[2:16])
    fields = split_element_string(text)
    if fields:
        ais = dict(fields)
        gtin = ais.get("01") or ais.get("02")
        if gtin is not None and "21" in ais:
            if text.startswith("01") and "93" in ais and set(ais) <= {"01", "21", "8005", "93"}:
                return _invalid(source, CodeReason.BLOCK_CUT, _shown(text), repairs, gtin=gtin)
            return _invalid(source, CodeReason.OTHER_GROUP, gtin, repairs, gtin=gtin, serial=ais["21"])
        if gtin is not None:
            return _invalid(source, CodeReason.GS1_PRODUCT, gtin, repairs, gtin=gtin)
        return _invalid(source, CodeReason.GS1_OTHER, hri(text), repairs)
    if text.startswith("01") and text[2:16].isdigit():
        if text[16:18] == "21":
            serial = text[18:].split(GS)[0]
            if GS in text and len(serial) != 7:  # a serial of another length, fields after it: not tobacco
                return _invalid(source, CodeReason.OTHER_GROUP, text[2:16], repairs, gtin=text[2:16])
            return _invalid(source, CodeReason.BLOCK_CUT, _shown(text), repairs, gtin=text[2:16])
        return _invalid(source, CodeReason.GS1_PRODUCT, text[2:16], repairs, gtin=text[2:16])
    return None


def _strip_envelope(source: str) -> tuple[str, tuple[Repair, ...]]:
    """Remove what can never be part of a code: surrounding whitespace, the AIM prefix, a leading FNC1."""
    repairs: list[Repair] = []
    text = source.strip(" \t\r\n\x00")
    if text != source:
        repairs.append(Repair.WHITESPACE)
    if _AIM_RE.match(text):
        text = text[3:]
        repairs.append(Repair.AIM_PREFIX)
    if text.startswith((GS, GS_PICTURE)):
        text = text.lstrip(GS + GS_PICTURE)
        repairs.append(Repair.LEADING_GS)
    if text.endswith(GS):  # some scanners end the last variable-length field with GS too
        text = text.rstrip(GS)
        repairs.append(Repair.TRAILING_GS)
    return text, tuple(repairs)


def _strict(source: str, text: str, repairs: tuple[Repair, ...]) -> ParsedCode | None:
    """A GS1 kind read exactly as it stands (no content changed)."""
    n = len(text)
    if n == PACK_LENGTH:
        m = _PACK_RE.fullmatch(text)
        if m is not None:
            if not gtin_ok(m[1]):
                return _invalid(source, CodeReason.BAD_GTIN_CHECK, m[1], repairs)
            return ParsedCode(source, Kind.PACK, m[1], m[2], None, m[3], text[:21], text, repairs)
    if text.startswith("00") and n == 20 and text.isdigit():
        if not gs1_key_ok(text[2:]):
            return _invalid(source, CodeReason.BAD_SSCC_CHECK, text[2:], repairs)
        return ParsedCode(source, Kind.SSCC, identity=text[2:], normalized=text, repairs=repairs)
    if (text.isdigit() and n in (8, 12, 13, 14)) or (n == 16 and text.startswith("01") and text.isdigit()):
        gtin = text[2:] if n == 16 else text
        if not gs1_key_ok(gtin):
            return _invalid(source, CodeReason.BAD_GTIN_CHECK, gtin, repairs)
        g = gtin14(gtin)
        return ParsedCode(
            source,
            Kind.PRODUCT,
            g,
            identity=g,
            normalized=text,
            repairs=repairs,
            error=CodeError(CodeReason.PRODUCT_BARCODE, g),
        )
    if text.startswith("01"):
        m = _BLOCK_GS_RE.fullmatch(text)
        if m is not None:
            return _checked_block(source, m, repairs)
    return None


def _checked_block(source: str, m: re.Match[str], repairs: tuple[Repair, ...]) -> ParsedCode:
    gtin, serial, price, check = m[1], m[2], m[3], m[4]
    if not gtin_ok(gtin):
        return _invalid(source, CodeReason.BAD_GTIN_CHECK, gtin, repairs)
    if price is not None and not price.isdigit():
        return _invalid(source, CodeReason.BAD_PRICE, price, repairs)
    return _block(source, gtin, serial, price, check, repairs)


def _repaired(source: str, text: str, repairs: tuple[Repair, ...], substitutes: tuple[str, ...]) -> ParsedCode | None:
    """GS substitutes, bracketed text and missing GS, in that order; None when nothing GS1 comes out."""
    subs = [s for s in (*substitutes, GS_PICTURE) if s and s in text]
    found = _repaired_with(source, text, repairs, subs)
    if found is None and len(subs) > 1:
        # "<GS>" is also four characters a check code may hold: with two kinds of substitute in one read,
        # one of them may be part of the code rather than a separator.
        for s in subs:
            alone = _strict(source, text.replace(s, GS).strip(GS), (*repairs, Repair.GS_SUBSTITUTE))
            if alone is not None and alone.ok:
                return alone
    return found


def _repaired_with(source: str, text: str, repairs: tuple[Repair, ...], subs: list[str]) -> ParsedCode | None:
    work = text
    done = list(repairs)
    if subs:
        for s in subs:
            work = work.replace(s, GS)
        work = work.strip(GS)
        done.append(Repair.GS_SUBSTITUTE)
        found = _strict(source, work, tuple(done))
        if found is not None:
            return found
    if work.startswith(("(00)", "(01)")):
        flat = _from_brackets(work)
        if flat is not None:
            done.append(Repair.BRACKETS)
            found = _strict(source, flat, tuple(done))
            if found is not None:
                return found
            work = flat
    if work.startswith("01"):
        bare = work.replace(GS, "")
        m = _BLOCK_BARE_RE.fullmatch(bare)
        if m is not None:
            return _checked_block(source, m, (*done, Repair.GS_RESTORED))
        if GS in work:
            return _element_string(source, work, tuple(done))
    elif work.startswith("00") and GS in work:
        return _element_string(source, work, tuple(done))
    return None


def _from_brackets(text: str) -> str | None:
    """(01)…(21)…(8005)…(93)… to an element string with GS after every variable-length field."""
    pieces = _BRACKET_AI_RE.split(text)
    if pieces[0] != "" or len(pieces) < 3:
        return None
    out: list[str] = []
    for ai, value in zip(pieces[1::2], pieces[2::2], strict=True):
        spec = _AIS.get(ai)
        if spec is None:
            return None
        out.append(ai + value)
        if spec[0] is None:
            out.append(GS)
    return "".join(out).rstrip(GS)


def split_element_string(text: str) -> list[tuple[str, str]] | None:
    """Application identifiers and values of a GS-separated element string; None when it does not read."""
    fields: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == GS:
            i += 1
            continue
        for width in (2, 3, 4):
            ai = text[i : i + width]
            spec = _AIS.get(ai)
            if spec is not None:
                break
        else:
            return None
        fixed, longest, numeric = spec
        start = i + len(ai)
        if fixed is not None:
            end = start + fixed
            if end > n:
                return None
        else:
            end = text.find(GS, start)
            end = n if end < 0 else end
            if end - start > longest:
                return None
        value = text[start:end]
        if not value or GS in value or (numeric and not value.isdigit()) or not all(ch in _SET82_CHARS for ch in value):
            return None
        fields.append((ai, value))
        i = end
    return fields


def _element_string(source: str, text: str, repairs: tuple[Repair, ...]) -> ParsedCode | None:
    """General GS1 reading for codes outside the tobacco fixed lengths (another serial length, extra AIs)."""
    fields = split_element_string(text)
    if not fields:
        return None
    ais = dict(fields)
    if len(ais) != len(fields):
        return None
    if "00" in ais:
        if len(ais) != 1:
            return None
        sscc = ais["00"]
        if not gs1_key_ok(sscc):
            return _invalid(source, CodeReason.BAD_SSCC_CHECK, sscc, repairs)
        return ParsedCode(source, Kind.SSCC, identity=sscc, normalized="00" + sscc, repairs=repairs)
    gtin = ais.get("01")
    if gtin is None or "21" not in ais:
        return None
    if not gtin_ok(gtin):
        return _invalid(source, CodeReason.BAD_GTIN_CHECK, gtin, repairs)
    serial = ais["21"]
    price = ais.get("8005")
    check = ais.get("93")
    tobacco_ais = set(ais) <= {"01", "21", "8005", "93"}
    if len(serial) == 7 and tobacco_ais and (check is None or len(check) != 4):
        # a block's fields, its check code missing or of the wrong length: a read cut short or overlong
        return _invalid(source, CodeReason.BLOCK_CUT, _shown(text), repairs, gtin=gtin, serial=serial)
    if len(serial) != 7 or check is None or len(check) != 4 or not tobacco_ais:
        # milk, shoes, medicines: a real marking code, but not a tobacco block
        return _invalid(source, CodeReason.OTHER_GROUP, gtin, repairs, gtin=gtin, serial=serial)
    if price is not None and not price.isdigit():
        return _invalid(source, CodeReason.BAD_PRICE, price, repairs)
    normalized = GS.join(ai + value for ai, value in fields)
    # Fixed-length fields need no GS after them: drop those, as a printer encoding FNC1 would.
    parts: list[str] = []
    for ai, value in fields:
        parts.append(ai + value)
        if _AIS[ai][0] is None:
            parts.append(GS)
    normalized = "".join(parts).rstrip(GS)
    return ParsedCode(source, Kind.BLOCK, gtin, serial, price, check, f"01{gtin}21{serial}", normalized, repairs)


def _aggregate(source: str, text: str, repairs: tuple[Repair, ...]) -> ParsedCode | None:
    if not AGGREGATE_MIN <= len(text) <= AGGREGATE_MAX or not all(ch in _SET82_CHARS for ch in text):
        return None
    if _looks_gs1(text):
        return None
    return ParsedCode(source, Kind.AGGREGATE, identity=text, normalized=text, repairs=repairs)


def _looks_gs1(text: str) -> bool:
    """Shapes that are a damaged GS1 code rather than a custom aggregation code."""
    n = len(text)
    if text[:16].isdigit() and text.startswith("01") and n > 16 and text[16:18] == "21":
        return True
    if n == PACK_LENGTH and text[:14].isdigit():
        return True
    return text.startswith("00") and text[:20].isdigit() and n >= 20


def _several(source: str, text: str, repairs: tuple[Repair, ...], substitutes: tuple[str, ...]) -> ParsedCode | None:
    """Two or more codes caught in one read (a wide scanner beam over neighbouring packs)."""
    work = text
    for s in (*substitutes, GS_PICTURE):
        if s:
            work = work.replace(s, GS)
    pieces: list[str] = []
    pos = 0
    while pos < len(work):
        m = _ONE_CODE_RE.match(work, pos)
        if m is None:
            return None
        pieces.append(m[1])
        pos = m.end()
    if len(pieces) < 2:
        return None
    parts = tuple(parse(p, gs_substitutes=substitutes, repair_layout=False) for p in pieces)
    if not all(p.ok for p in parts):
        return None
    return _invalid(source, CodeReason.TWO_CODES, str(len(parts)), repairs, parts=parts)


def _diagnose(source: str, text: str, repairs: tuple[Repair, ...]) -> ParsedCode:
    """The most useful reason for a read nothing could make sense of."""
    bad = sorted({ch for ch in text if ch not in _SET82_CHARS and ch != GS})
    if bad:
        shown = " ".join(_show_char(ch) for ch in bad[:8])
        return _invalid(source, CodeReason.BAD_CHARACTERS, shown, repairs)
    n = len(text)
    if text.startswith("01") and text[2:16].isdigit() and n >= 16:
        if not gtin_ok(text[2:16]):
            return _invalid(source, CodeReason.BAD_GTIN_CHECK, text[2:16], repairs)
        if n < 31:
            return _invalid(source, CodeReason.TOO_SHORT, str(n), repairs)
        return _invalid(source, CodeReason.BAD_STRUCTURE, _shown(text), repairs)
    if n == PACK_LENGTH and text[:14].isdigit():
        return _invalid(source, CodeReason.BAD_GTIN_CHECK, text[:14], repairs)
    if n < AGGREGATE_MIN:
        return _invalid(source, CodeReason.TOO_SHORT, str(n), repairs)
    if n > AGGREGATE_MAX:
        return _invalid(source, CodeReason.TOO_LONG, str(n), repairs)
    return _invalid(source, CodeReason.BAD_STRUCTURE, _shown(text), repairs)


def _shown(text: str) -> str:
    shown = visible_gs(text)
    return shown if len(shown) <= 80 else shown[:77] + "…"


def _show_char(ch: str) -> str:
    return ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"


# --- printable forms ------------------------------------------------------------------------------------------


def hri(code: str) -> str:
    """The human-readable form people read and type: (01)…(21)…(8005)…(93)… for GS1 element strings,
    the code itself otherwise (a pack, a custom aggregation code)."""
    if len(code) == 20 and code.startswith("00") and code.isdigit():
        return f"(00){code[2:]}"
    if code.startswith("01"):
        bare = _BLOCK_BARE_RE.fullmatch(code.replace(GS, ""))
        if bare is not None:
            price = f"(8005){bare[3]}" if bare[3] is not None else ""
            return f"(01){bare[1]}(21){bare[2]}{price}(93){bare[4]}"
        fields = split_element_string(code) if GS in code else None
        if fields:
            return "".join(f"({ai}){value}" for ai, value in fields)
    return visible_gs(code)


def visible_gs(code: str, mark: str = "<GS>") -> str:
    """GS has no glyph: show it as a mark people and spreadsheets can carry."""
    return code.replace(GS, mark)


def spreadsheet_text(text: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV opened in Excel): a leading quote, as Excel does."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def url_part(code: str) -> str:
    """One path or query component: every reserved character, GS included, percent-encoded."""
    return quote(code, safe="")


def xml_text(code: str) -> str:
    """XML 1.0 cannot hold U+001D even as a reference: GS becomes its visible mark, then the usual escapes."""
    return _xml_escape(visible_gs(code), {'"': "&quot;", "'": "&apos;"})
