"""The one error type of the reports, worded by the catalogs (the renderers and the reporting service share it)."""

from __future__ import annotations

from typing import ClassVar

from warehouse.messages import N_, Phrasebook, WarehouseError


class ReportError(WarehouseError):
    """A report cannot be produced: a kind or language it is not made in, missing fonts, a code no symbol
    can carry. `detail` is technical text for logs (what the encoder said); `message(lang)` is for people."""

    phrasebook: ClassVar[Phrasebook] = Phrasebook(
        "reports",
        {
            "unsupported": N_("This report is not made in that format."),
            "unsupported_language": N_("Reports are made in Russian, Kazakh and English; not in “{lang}”."),
            "empty_code": N_("An empty code has no Data Matrix symbol."),
            "no_symbol": N_("No Data Matrix symbol can hold the code {code}."),
            "encoder_refused": N_("The Data Matrix writer cannot draw the code {code}."),
            "font_missing": N_("The font file {path} is missing: install fonts-dejavu-core or set WAREHOUSE_FONT_DIR."),
        },
    )

    def __init__(self, reason: str, /, detail: str | None = None, **params: object) -> None:
        super().__init__(reason, **params)
        self.detail = detail

    def message(self, lang: str = "en") -> str:
        return super().message(lang)

    def __str__(self) -> str:
        text = self.message("en")
        return f"{text} ({self.detail})" if self.detail else text
