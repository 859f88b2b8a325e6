"""Why the stock ledger refused an operation, in the catalogs' words (phrasebook "stock")."""

from __future__ import annotations

from typing import ClassVar, Final

from warehouse.messages import N_, LevelledError, Phrasebook

# reason → the parameter whose level picks the message (one message per level: «в коробе», «паллета вскрыта»)
LEVELLED: Final = {
    "contents_unknown": "level",
    "inside_aggregate": "parent_level",
    "not_available": "level",
    "already_opened": "level",
}


class StockError(LevelledError):
    """The stock operation was refused and nothing was written; `reason` is stable."""

    levelled: ClassVar[dict[str, str]] = LEVELLED
    phrasebook: ClassVar[Phrasebook] = Phrasebook(
        "stock",
        {
            "no_act": N_("Act not found"),
            "not_decided": N_("The act has no decision yet: only what was accepted enters the stock"),
            "not_incoming": N_("This is not an incoming act"),
            "not_in_stock": N_("Not in stock: {code}"),
            "not_an_aggregate": N_("A pack cannot be opened: {code}"),
            "contents_unknown.pallet": N_(
                "What is inside pallet {code} is not known (the act did not declare it): it cannot be opened"
            ),
            "contents_unknown.box": N_(
                "What is inside box {code} is not known (the act did not declare it): it cannot be opened"
            ),
            "contents_unknown.block": N_(
                "What is inside block {code} is not known (the act did not declare it): it cannot be opened"
            ),
            "inside_aggregate.pallet": N_("{level} {code} is inside pallet {parent}: open that first"),
            "inside_aggregate.box": N_("{level} {code} is inside box {parent}: open that first"),
            "inside_aggregate.block": N_("{level} {code} is inside block {parent}: open that first"),
            "not_available.pallet": N_("Pallet {code} cannot be opened: it is on outgoing act {act}"),
            "not_available.box": N_("Box {code} cannot be opened: it is on outgoing act {act}"),
            "not_available.block": N_("Block {code} cannot be opened: it is on outgoing act {act}"),
            "already_opened.pallet": N_("Pallet {code} is already open"),
            "already_opened.box": N_("Box {code} is already open"),
            "already_opened.block": N_("Block {code} is already open"),
            "changed": N_("Another station changed this code at the same moment: try again"),
        },
    )
