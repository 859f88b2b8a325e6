"""Codes from public material no one here wrote, each with where it comes from, and what the station must
make of it (issue 17). The shapes are real; none of them is a Kazakh tobacco code a station will receive,
which is the point for most: they must be told for what they are, never taken for an aggregation code."""

from __future__ import annotations

import pytest

from warehouse import codes
from warehouse.codes import GS, CodeReason, Kind

CORPUS: list[tuple[str, str, Kind, CodeReason | None]] = [
    # Честный ЗНАК's pack code as the README of github.com/li0ard/nechestniy_znak shows it (29 characters).
    ("li0ard/nechestniy_znak README", "00000046209849Uon<TYfACyAJPHJ", Kind.PACK, None),
    ("li0ard/nechestniy_znak README, cut", "00000046209849Uon<TYfACy", Kind.INVALID, CodeReason.PACK_CUT),
    ("li0ard/nechestniy_znak README, overlong", "00000046209849Uon<TYfACyAJPHJJ", Kind.INVALID, CodeReason.PACK_CUT),
    # GS1 General Specifications, figure 4.15.1-2, as zxing-cpp's test/samples/datamatrix-1 and -4 carry it.
    (
        "GS1 Gen. Specs fig. 4.15.1-2 (zxing-cpp samples)",
        f"01095040000591012112345678p901{GS}101234567p{GS}171411208200http://www.gs1.org/demo/",
        Kind.INVALID,
        CodeReason.OTHER_GROUP,
    ),
    # Pharmaceutical symbols of zxing-cpp's issue 794 (test/samples/datamatrix-3, -5): a 20-character serial.
    (
        "zxing-cpp samples, issue 794",
        f"010890381998765921S1ND6MPPFCGG6B869XES{GS}1731063010BNav4Cam2",
        Kind.INVALID,
        CodeReason.OTHER_GROUP,
    ),
    (
        "zxing-cpp samples, issue 794, with its AIM prefix",
        f"]d2010890381998765921XY061M5Z9NHXP10R20NN{GS}1731063010BNav4Cam2",
        Kind.INVALID,
        CodeReason.OTHER_GROUP,
    ),
    # GS1 Digital Link standard's example (GTIN 09506000134352) as a URI and as a bracketed element string.
    (
        "GS1 Digital Link standard",
        "https://id.gs1.org/01/09506000134352/10/ABC123",
        Kind.INVALID,
        CodeReason.DIGITAL_LINK,
    ),
    ("GS1 Digital Link standard, HRI", "(01)09506000134352(17)201225(10)ABC123", Kind.INVALID, CodeReason.GS1_PRODUCT),
    ("GS1 Digital Link standard, GS1-128", "]C1010950600013435217201225", Kind.INVALID, CodeReason.GS1_PRODUCT),
    # The SSCC of GS1 General Specifications' logistic label examples.
    ("GS1 Gen. Specs SSCC", "00106141412345678908", Kind.SSCC, None),
    ("GS1 Gen. Specs SSCC, HRI", "(00)106141412345678908", Kind.SSCC, None),
    ("GS1 Gen. Specs SSCC, no AI", "106141412345678908", Kind.SSCC, None),
    ("GS1 Gen. Specs SSCC, last digit misread", "106141412345678907", Kind.INVALID, CodeReason.BAD_SSCC_CHECK),
    ("GS1 Gen. Specs SSCC, cut", "0010614141234567", Kind.INVALID, CodeReason.TOO_SHORT),
]


@pytest.mark.parametrize(("source", "text", "kind", "reason"), CORPUS, ids=[c[0] for c in CORPUS])
def test_public_codes_are_told_for_what_they_are(source: str, text: str, kind: Kind, reason: CodeReason | None) -> None:
    parsed = codes.parse(text)
    assert parsed.kind is kind, (source, parsed)
    if reason is not None:
        assert parsed.error is not None and parsed.error.reason is reason, (source, parsed)
    assert parsed.kind is not Kind.AGGREGATE  # none of them may pass as a custom aggregation code
    if kind is Kind.SSCC:
        assert parsed.identity == "106141412345678908"
