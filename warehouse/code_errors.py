"""Why a read is not a code: the stable reasons `warehouse.codes.parse` gives and their words (ru, kk, en).

Pure, as `codes` is; it re-exports both names, so callers keep `codes.CodeReason` and `codes.CodeError`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from warehouse.messages import N_, Phrasebook, WarehouseError

__all__ = ["CodeError", "CodeReason"]


class CodeReason(StrEnum):
    EMPTY = "empty"
    BAD_CHARACTERS = "bad_characters"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    BAD_GTIN_CHECK = "bad_gtin_check"
    BAD_SSCC_CHECK = "bad_sscc_check"
    BAD_PRICE = "bad_price"
    BAD_STRUCTURE = "bad_structure"
    TWO_CODES = "two_codes"
    OTHER_GROUP = "other_group"
    PRODUCT_BARCODE = "product_barcode"
    PACK_CUT = "pack_cut"  # starts as a pack code does, but is not 29 characters long
    BLOCK_CUT = "block_cut"  # starts as a block code does (01 GTIN 21), but does not read as one
    GS1_PRODUCT = "gs1_product"  # a GS1 element string with a GTIN and no serial: a product, not one item
    GS1_OTHER = "gs1_other"  # a GS1 element string with neither a GTIN nor an SSCC
    DIGITAL_LINK = "digital_link"  # a GS1 Digital Link URI
    URL = "url"  # any other web address
    BAD_BRACKETS = "bad_brackets"  # (AI)… printed text that does not read as GS1


class CodeError(WarehouseError):
    """Why a code was rejected; `detail` is filled into the message (a length, a GTIN, characters).

    Built only for a rejected read: the clean codes of a truck never pay for an exception object.
    Two errors are equal when their reason and detail are (parse results compare as values).
    """

    phrasebook: ClassVar[Phrasebook] = Phrasebook(
        "codes",
        {
            CodeReason.EMPTY: N_("Empty scan: no code was received."),
            CodeReason.BAD_CHARACTERS: N_(
                "The code has characters a marking code cannot hold ({detail}): not a marking code, "
                "or the scanner is misconfigured."
            ),
            CodeReason.TOO_SHORT: N_(
                "The code is too short ({detail} characters): it was not read completely. Scan it again."
            ),
            CodeReason.TOO_LONG: N_(
                "The code is too long ({detail} characters): something extra was read. Scan it again."
            ),
            CodeReason.BAD_GTIN_CHECK: N_("Wrong GTIN check digit in {detail}: the code was misread or is damaged."),
            CodeReason.BAD_SSCC_CHECK: N_("Wrong SSCC check digit in {detail}: the label was misread or is damaged."),
            CodeReason.BAD_PRICE: N_("The price in a block code must be digits: “{detail}”."),
            CodeReason.BAD_STRUCTURE: N_("The code does not read as a block, pack or aggregate code: {detail}."),
            CodeReason.TWO_CODES: N_("{detail} codes were read in one scan. Scan the codes one at a time."),
            CodeReason.OTHER_GROUP: N_("This is a marking code of another product group (not tobacco), GTIN {detail}."),
            CodeReason.PRODUCT_BARCODE: N_(
                "This is the product barcode (GTIN {detail}), not a marking code: scan the Data Matrix."
            ),
            CodeReason.PACK_CUT: N_(
                "A pack code read cut short or overlong ({detail} characters; a pack code has 29): scan it again."
            ),
            CodeReason.BLOCK_CUT: N_("A block code read cut short or overlong ({detail}): scan it again."),
            CodeReason.GS1_PRODUCT: N_(
                "This is a GS1 product code (GTIN {detail}) with no serial number, not a marking code: "
                "scan the Data Matrix of the pack or block."
            ),
            CodeReason.GS1_OTHER: N_("This GS1 code ({detail}) is not a marking code of a pack, block or box."),
            CodeReason.DIGITAL_LINK: N_(
                "This is a GS1 Digital Link web address (GTIN {detail}), not a tobacco marking code: "
                "scan the Data Matrix."
            ),
            CodeReason.URL: N_("This is a web address, not a marking code: scan the Data Matrix."),
            CodeReason.BAD_BRACKETS: N_(
                "The printed text in brackets does not read as a GS1 code ({detail}): scan the Data Matrix instead."
            ),
        },
    )

    def __init__(self, reason: CodeReason, detail: str = "") -> None:
        super().__init__(reason, detail=detail)
        self.reason: CodeReason = reason
        self.detail = detail

    def message(self, lang: str = "en") -> str:
        return super().message(lang)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CodeError):
            return NotImplemented
        return (self.reason, self.detail) == (other.reason, other.detail)

    def __hash__(self) -> int:
        return hash((self.reason, self.detail))

    def __repr__(self) -> str:
        return f"CodeError({self.reason!r}, {self.detail!r})"
