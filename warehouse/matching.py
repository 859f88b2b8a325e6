"""Receiving rules that need no database: scan classes, outcomes, commands, and which rule applies.

Receiving and outgoing acts share these rules. The receiving service (warehouse/services/receiving)
holds the SQL that applies each rule, under the rule's docstring; this module names the result and
words it, from the catalogs, for the screen, the CLI and the API alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from warehouse.codes import CodeError, CodeReason
from warehouse.layouts import from_layout
from warehouse.messages import DEFAULT_LANG, LANGS, N_, Phrasebook, catalog
from warehouse.vocab import CONTENT_LEVELS, Command, Level, Mode, ScanClass, contents

__all__ = ["COMMAND_PREFIX", "Command", "Outcome", "Reason", "ScanClass", "command_of", "opens", "sound_of"]


class Reason(StrEnum):
    CREDITED = "credited"  # the code and its declared contents are counted
    OPENED = "opened"  # full check: an aggregate's contents must now be scanned one by one
    ALREADY_SCANNED = "already_scanned"
    INSIDE_CREDITED = "inside_credited"  # its box or pallet was already counted
    CONTENTS_SCANNED = "contents_scanned"  # everything inside it was scanned already
    SURPLUS_AGAIN = "surplus_again"
    NOT_IN_ACT = "not_in_act"
    OTHER_ACT = "other_act"
    GTIN_NOT_IN_ACT = "gtin_not_in_act"
    PRODUCT_BARCODE = "product_barcode"
    UNREADABLE = "unreadable"
    UNKNOWN_CODE = "unknown_code"  # a custom aggregation code neither the act, an open act nor the stock knows
    UNDONE = "undone"
    NOTHING_TO_UNDO = "nothing_to_undo"
    MODE_FULL_CHECK = "mode_full_check"
    MODE_TRUSTED = "mode_trusted"
    OPEN_NEXT = "open_next"
    CLOSING = "closing"
    CONFIRMED = "confirmed"  # stop mode: the station's error was seen, its scans go in again
    HELD = "held"  # stop mode: the device is stopped after an error; this scan counts nothing
    OUTGOING_COMMAND = "outgoing_command"  # a command of the outgoing screen, scanned while receiving


# Scans of a code the act does not declare: each is a surplus line of the discrepancy report, and the
# lead's word on it decides whether the code enters stock.
SURPLUS_CLASSES: Final = (ScanClass.SURPLUS, ScanClass.FOREIGN, ScanClass.WRONG_PRODUCT)

SOUND = {  # the three sounds staff can tell apart without looking
    ScanClass.MATCHED: "ok",
    ScanClass.REVERSED: "ok",
    ScanClass.COMMAND: "ok",
    ScanClass.DUPLICATE: "duplicate",
}


def sound_of(scan_class: ScanClass, reason: str | None = None) -> str:
    """The sound of a scan: its class's, except a command that did nothing here (the error buzz)."""
    if reason == Reason.OUTGOING_COMMAND:
        return "error"
    return SOUND.get(scan_class, "error")


# A sentence that names a level has one message per level: Russian and Kazakh decline and agree the word
# («короб вскрыт», «паллета вскрыта», «в составе короба»), so a word is never slotted into a sentence.
MESSAGES: Final = Phrasebook(
    "matching",
    {
        "credited_pallet": N_("Counted: pallet {code}"),
        "credited_box": N_("Counted: box {code}"),
        "credited_block": N_("Counted: block {code}"),
        "credited_pack": N_("Counted: pack {code}"),
        "credited_pallet_inside": N_("Counted: pallet {code} (with {inside} inside)"),
        "credited_box_inside": N_("Counted: box {code} (with {inside} inside)"),
        "credited_block_inside": N_("Counted: block {code} (with {inside} inside)"),
        # What a counted aggregate held, level by level ("5 blocks, 50 packs"), worded by vocab.contents.
        "credited_pallet_contents": N_("Counted: pallet {code} (inside: {contents})"),
        "credited_box_contents": N_("Counted: box {code} (inside: {contents})"),
        "credited_block_contents": N_("Counted: block {code} (inside: {contents})"),
        "opened_pallet": N_("Pallet {code} opened: scan its contents"),
        "opened_box": N_("Box {code} opened: scan its contents"),
        "opened_block": N_("Block {code} opened: scan its contents"),
        Reason.ALREADY_SCANNED: N_("Already counted: this code was scanned at {time}"),
        "inside_credited_pallet": N_("Already counted in pallet {parent}"),
        "inside_credited_box": N_("Already counted in box {parent}"),
        "inside_credited_block": N_("Already counted in block {parent}"),
        Reason.CONTENTS_SCANNED: N_("Already counted: everything inside it was scanned"),
        Reason.SURPLUS_AGAIN: N_("This surplus code is already recorded"),
        Reason.NOT_IN_ACT: N_("This code is not in this act"),
        Reason.OTHER_ACT: N_("Belongs to act № {number} of {date}"),
        Reason.GTIN_NOT_IN_ACT: N_("Product {gtin} is not in this act"),
        Reason.PRODUCT_BARCODE: N_("This is the product barcode: scan the Data Matrix"),
        Reason.UNREADABLE: N_("Code not recognised. {error}"),
        Reason.UNKNOWN_CODE: N_(
            "Unknown code {code}: not a marking code, and neither this act nor the stock knows it. Scan it "
            "again; if it comes back the same, put the item aside for the lead."
        ),
        Reason.UNDONE: N_("Scan of {code} undone: {n} taken off the count"),
        Reason.NOTHING_TO_UNDO: N_("Nothing to undo: this station has no counted scan"),
        Reason.MODE_FULL_CHECK: N_("Full check: boxes and pallets are opened, scan their contents"),
        Reason.MODE_TRUSTED: N_("Trusted mode: a box label counts its declared contents"),
        Reason.OPEN_NEXT: N_("The next box or pallet scanned will be opened"),
        Reason.CLOSING: N_("Receiving ended: the result waits for the decision"),
        Reason.CONFIRMED: N_("Confirmed: scanning goes on"),
        Reason.HELD: N_(
            "Stopped after an error ({code}): this scan was not counted. Look at the item, press Enter or scan "
            "“Confirm”, then scan this code again."
        ),
        Reason.OUTGOING_COMMAND: N_("This command is for outgoing acts: nothing changed"),
    },
)

# Printed command codes a scanner reads (docs/scanners.md). '#' is outside GS1 set 82, so no marking
# code can ever be taken for a command, nor a command for a code.
COMMAND_PREFIX = "#WH:"


def command_of(raw: str) -> Command | None:
    """The command a scan carries, also when a Russian or Kazakh layout typed it (# is № there)."""
    text = raw.strip()
    if not text.startswith(("#", "№", "І")):  # Shift+3 under US, Russian and Kazakh layouts
        return None
    for candidate in (text, from_layout(text, "ru"), from_layout(text, "kk")):
        upper = candidate.upper()
        if upper.startswith(COMMAND_PREFIX):
            try:
                return Command(upper[len(COMMAND_PREFIX) :])
            except ValueError:
                return None
    return None


def opens(mode: str, has_contents: bool, open_requested: Callable[[], bool]) -> bool:
    """An aggregate with declared contents is opened, not counted whole, under full check, or in trusted
    mode when this station scanned OPEN just before it (`open_requested`, asked only then); each of its
    contents must then be scanned."""
    return has_contents and (mode == Mode.FULL_CHECK or open_requested())


def duplicate_reason(same_code: bool, inside: bool) -> Reason:
    """Why a code already counted is a duplicate: it was scanned itself (`same_code`), everything inside
    it was (`inside`: the scan that counted it is of a code it contains), or what contains it was."""
    if same_code:
        return Reason.ALREADY_SCANNED
    return Reason.CONTENTS_SCANNED if inside else Reason.INSIDE_CREDITED


@dataclass(frozen=True)
class Outcome:
    """What one scan did, in words that do not depend on the language yet."""

    scan_class: ScanClass
    reason: Reason
    args: Mapping[str, str] = field(default_factory=dict)

    def message(self, lang: str = DEFAULT_LANG) -> str:
        lang = lang if lang in LANGS else DEFAULT_LANG
        args = _Default(self.args)
        if self.reason == Reason.UNREADABLE:
            args["error"] = _code_error(self.args, lang)
        key = self._key(args)
        if key.endswith("_contents"):
            held = {lv.value: self.args[f"inside_{lv}"] for lv in CONTENT_LEVELS if self.args.get(f"inside_{lv}")}
            args["contents"] = contents(held, lang)
        return catalog(lang).gettext(MESSAGES.messages[key]).format_map(args)

    def _key(self, args: Mapping[str, str]) -> str:
        """The message of this outcome: the reason's own, or its variant for the level it names."""
        if self.reason == Reason.CREDITED:
            level = _level(args.get("level"), Level.PACK)
            inside = int(args.get("inside", "0") or 0)
            if any(args.get(f"inside_{lv}") for lv in CONTENT_LEVELS):  # journaled with its contents by level
                return f"credited_{level}_contents"
            key = f"credited_{level}_inside" if inside else f"credited_{level}"
            return key if key in MESSAGES else f"credited_{level}"
        if self.reason == Reason.OPENED:
            return f"opened_{_level(args.get('level'), Level.BOX, top=True)}"
        if self.reason == Reason.INSIDE_CREDITED:
            return f"inside_credited_{_level(args.get('parent_level'), Level.BOX, top=True)}"
        return self.reason.value


def _code_error(args: Mapping[str, str], lang: str) -> str:
    """Why a read is not a code, in `lang`: from the code error's reason and detail when the scan kept them."""
    try:
        reason = CodeReason(args.get("error_reason", ""))
    except ValueError:
        return args.get("error", "")
    return CodeError(reason, args.get("error_detail", "")).message(lang)


def _level(value: str | None, default: Level, *, top: bool = False) -> str:
    """`value` as a level (`default` when it is none); `top`: only an aggregate (a pack contains nothing)."""
    try:
        level = Level(value) if value else default
    except ValueError:
        level = default
    return default.value if top and level == Level.PACK else level.value


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""
