"""Why an outgoing act refused an action, and what became of a scan at the dock, in the catalogs' words.

One phrasebook ("shipping") for both: `ShippingError` refuses an action on the act; `AddResult` (draft.py)
tells what a scan did. Where a sentence declines a level («в составе короба», «паллета вскрыта»), there is
one message per level: `reason.<level>`, picked by `one_per_level`.
"""

from __future__ import annotations

from typing import ClassVar, Final

from warehouse.messages import N_, LevelledError, Phrasebook
from warehouse.signing import errors as signing_errors

# reason → the parameter whose level picks the message
LEVELLED: Final = {
    "too_big": "level",
    "opened": "level",
    "inside_on_this_act": "parent_level",
    "inside_aggregate": "parent_level",
    "remove_parent": "parent_level",
}

PHRASEBOOK: Final = Phrasebook(
    "shipping",
    {
        # the act
        "no_act": N_("Act not found"),
        "not_outgoing": N_("This is not an outgoing act"),
        "not_draft": N_("The act is signed: what it holds can no longer change"),
        "bad_bin": N_("BIN/IIN {bin} is not valid: 12 digits with a correct check digit are needed"),
        "no_name": N_("Enter the receiver's name"),
        "own_bin": N_("The receiver is our own company: enter the receiver's BIN/IIN"),
        "no_company": N_(
            "The sending company's name and BIN are not configured (WAREHOUSE_COMPANY_NAME, WAREHOUSE_COMPANY_BIN)"
        ),
        "bad_company_bin": N_("The sending company's BIN {bin} is not valid: check WAREHOUSE_COMPANY_BIN"),
        "bad_basis": N_("Basis document: a type, a number and a YYYY-MM-DD date are needed ({value})"),
        "bad_turnover": N_("Unknown turnover type: {value}"),
        "bad_price": N_("A price is a whole number of tiyn, not negative, for a block or a pack of a 14-digit GTIN"),
        "empty_act": N_("The act holds no code: there is nothing to sign"),
        "too_big.pallet": N_("Pallet {code} holds {count} codes, more than the {max} a document carries: open it"),
        "too_big.box": N_("Box {code} holds {count} codes, more than the {max} a document carries: open it"),
        "too_big.block": N_("Block {code} holds {count} codes, more than the {max} a document carries: open it"),
        "not_signed": N_("The act is not signed yet"),
        "bad_format": N_("Export as .json, .csv or .xlsx"),
        "changed": N_("Another station changed this code at the same moment: try again"),
        # scanning
        "added": N_("Added: {level} {code}"),
        "added_with_contents": N_("Added: {level} {code} (with {inside} inside)"),
        "removed": N_("Taken off the act: {level} {code}"),
        "removed_with_contents": N_("Taken off the act: {level} {code} (with {inside} inside)"),
        # what it held, level by level ("blocks: 5, packs: 50"), worded by vocab.contents as receiving does
        "added_contents": N_("Added: {level} {code} (inside: {contents})"),
        "removed_contents": N_("Taken off the act: {level} {code} (inside: {contents})"),
        "empty": N_("Empty scan"),
        "invalid": N_("Code not recognised. {error}"),
        "product": N_("This is the product barcode: scan the Data Matrix"),
        "not_in_stock": N_("Not in stock: {code}"),
        "already_shipped": N_("Already shipped with act {act}: {level} {code}"),
        "on_other_draft": N_("Already on another outgoing act {act}: {level} {code}"),
        "on_this_act": N_("Already on this act: {level} {code}"),
        "inside_on_this_act.pallet": N_("Already on this act inside pallet {parent}"),
        "inside_on_this_act.box": N_("Already on this act inside box {parent}"),
        "inside_on_this_act.block": N_("Already on this act inside block {parent}"),
        "inside_aggregate.pallet": N_("{level} {code} is inside pallet {parent}: open it first or ship it whole"),
        "inside_aggregate.box": N_("{level} {code} is inside box {parent}: open it first or ship it whole"),
        "inside_aggregate.block": N_("{level} {code} is inside block {parent}: open it first or ship it whole"),
        "opened.pallet": N_("Pallet {code} was opened: scan what was inside it"),
        "opened.box": N_("Box {code} was opened: scan what was inside it"),
        "opened.block": N_("Block {code} was opened: scan what was inside it"),
        "not_on_act": N_("This code is not on the act: {code}"),
        "remove_parent.pallet": N_("{level} {code} is on the act inside pallet {parent}: take that off whole"),
        "remove_parent.box": N_("{level} {code} is on the act inside box {parent}: take that off whole"),
        "remove_parent.block": N_("{level} {code} is on the act inside block {parent}: take that off whole"),
        # command codes (commands.py)
        "remove_next": N_("The next code scanned will be taken off the act"),
        "nothing_to_remove": N_("Nothing to take off: this station has put no code on this act"),
        "receiving_command": N_("This command is for receiving: on an outgoing act it changes nothing"),
        # the receiver's acceptance
        "not_acceptance": N_("The file is not a transfer-act-acceptance/1 document"),
        "wrong_act": N_("The acceptance is for act {number} of {date}, not this one"),
        "unknown_code": N_("The acceptance lists a code that is not on this act: {code}"),
        "already_applied": N_("This part of the acceptance has already been applied"),
        "act_closed": N_("The receiver's answer to this act is already in"),
        "wrong_signer": N_("The document is signed by the organisation with BIN {bin}, but the receiver is {receiver}"),
        # a warning, not a refusal
        "other_file": N_("The receiver imported another export of this act, not the signed JSON"),
    },
)


class ShippingError(LevelledError):
    """The action on an outgoing act was refused and nothing was written; `reason` is stable."""

    phrasebook: ClassVar[Phrasebook] = PHRASEBOOK
    levelled: ClassVar[dict[str, str]] = LEVELLED


def warning_message(warning: str, lang: str) -> str:
    """A warning of signing or applying an acceptance (`ApplyResult.warnings`) in the person's language."""
    if warning in PHRASEBOOK:
        return PHRASEBOOK.say(warning, lang)
    return signing_errors.message(warning, lang)
