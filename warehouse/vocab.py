"""The closed sets of the domain, defined once, each value with the word people read for it.

Models store these as typed columns, services and templates compare members, never bare strings, and
`label(lang)` gives the word from the catalogs (the msgids below are marked for `make i18n`).

>>> Level.BOX.label("ru"), Level("pack").rank, ScanClass.SURPLUS.is_error
('Короб', 0, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from warehouse.messages import N_, say

__all__ = [
    "CONTENT_LEVELS",
    "ActStatus",
    "BasisType",
    "Command",
    "Decision",
    "Direction",
    "DiscrepancyKind",
    "Level",
    "Mode",
    "OperatorDocKind",
    "OutboxState",
    "ReasonCode",
    "Resolution",
    "Role",
    "ScanClass",
    "Scope",
    "contents",
]


class Word(StrEnum):
    """A member of a closed set that people read: its label comes from the catalogs."""

    def label(self, lang: str) -> str:
        return say(_LABELS[type(self)][self.value], lang)

    @classmethod
    def labels(cls) -> dict[str, str]:
        """value → English msgid, for the whole set (the templates' label helpers use it)."""
        return dict(_LABELS[cls])


class Role(Word):
    STAFF = "staff"
    LEAD = "lead"
    ADMIN = "admin"


class Direction(Word):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class Level(Word):
    """Packaging level of a code in an act."""

    PALLET = "pallet"
    BOX = "box"
    BLOCK = "block"
    PACK = "pack"

    @property
    def rank(self) -> int:
        """pallet 3 > box 2 > block 1 > pack 0: a code's rank is below the rank of what contains it."""
        return _RANK[self.value]


_RANK: Final = {"pallet": 3, "box": 2, "block": 1, "pack": 0}
LEVELS: Final = tuple(Level)  # from the top down
CONTENT_LEVELS: Final = (Level.BOX, Level.BLOCK, Level.PACK)  # what an aggregate may hold, from the top down

# What an aggregate holds, level by level ("blocks: 5, packs: 50"): a count after the level's name, so no
# language has to agree a number with a noun. The one wording of contents: receiving, labels, outgoing.
_COUNTS: Final = {Level.BOX: N_("boxes: {n}"), Level.BLOCK: N_("blocks: {n}"), Level.PACK: N_("packs: {n}")}


def contents(held: Mapping[str, int | str], lang: str) -> str:
    """What an aggregate holds, in `lang`, from the top down; levels it holds none of are left out.

    >>> contents({"pack": 50, "block": 5}, "ru"), contents({"box": "2"}, "en"), contents({}, "en")
    ('блоков: 5, пачек: 50', 'boxes: 2', '')
    """
    return ", ".join(
        say(_COUNTS[level], lang, n=held[level.value])
        for level in CONTENT_LEVELS
        if held.get(level.value) and str(held[level.value]) != "0"
    )


class Mode(Word):
    TRUSTED = "trusted"  # an aggregate's label credits its declared contents
    FULL_CHECK = "full_check"  # an aggregate scan opens it; its contents must be scanned


class ActStatus(Word):
    """Statuses of an act. acts.status is 16 characters, so "accepted with discrepancies" of an outgoing act
    is stored as "discrepancies"; the receiver's decision itself is kept whole on the acceptance receipt."""

    IMPORTING = "importing"  # being written in steps by an import: seen by no listing, lookup or match
    NEW = "new"  # incoming: imported, nobody scanned yet
    RECEIVING = "receiving"
    CLOSED = "closed"  # receiving ended; waits for the lead's decision
    DECIDED = "decided"
    SIGNED = "signed"  # incoming: the decision signed; outgoing: the act signed
    DRAFT = "draft"  # outgoing, being built
    SENT = "sent"
    ACCEPTED = "accepted"  # outgoing, once the receiver's signed acceptance is applied
    DISCREPANCIES = "discrepancies"
    REJECTED = "rejected"


INCOMING_STATUSES: Final = (
    ActStatus.NEW,
    ActStatus.RECEIVING,
    ActStatus.CLOSED,
    ActStatus.DECIDED,
    ActStatus.SIGNED,
)
OUTGOING_STATUSES: Final = (
    ActStatus.DRAFT,
    ActStatus.SIGNED,
    ActStatus.SENT,
    ActStatus.ACCEPTED,
    ActStatus.DISCREPANCIES,
    ActStatus.REJECTED,
)


class Decision(Word):
    """The receiver's decision on an incoming act (the acceptance document's `decision`)."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_DISCREPANCIES = "accepted_with_discrepancies"
    REJECTED = "rejected"


class ScanClass(Word):
    MATCHED = "matched"
    DUPLICATE = "duplicate"
    SURPLUS = "surplus"
    FOREIGN = "foreign"
    WRONG_PRODUCT = "wrong_product"
    PRODUCT = "product"
    INVALID = "invalid"
    REVERSED = "reversed"  # an undo: the journal keeps both the scan and its reversal
    COMMAND = "command"  # a printed command code: mode switch, open a box, end receiving
    HELD = "held"  # stop mode: scanned while its device was stopped after an error; counts nothing

    @property
    def is_error(self) -> bool:
        return self not in (ScanClass.MATCHED, ScanClass.REVERSED, ScanClass.COMMAND)


class DiscrepancyKind(Word):
    MISSING = "missing"  # declared in the act, never credited
    SURPLUS = "surplus"  # a valid code found only on the goods
    DUPLICATE = "duplicate"  # scanned again, or inside an aggregate already counted
    FOREIGN = "foreign"  # belongs to another open act
    WRONG_PRODUCT = "wrong_product"  # a GTIN the act does not have
    INVALID = "invalid"  # not a marking code at all
    # The operator's word on a code of an incoming act, checked before accepting (services/operator_checks):
    NOT_OWNED = "not_owned"  # the operator does not have the sender as its owner
    NOT_IN_CIRCULATION = "not_in_circulation"  # not INTRODUCED (written off, withdrawn, not yet applied, unknown)


class Resolution(Word):
    """What the lead decided for one discrepancy line."""

    ACCEPT = "accept"
    REJECT = "reject"
    FOUND_LATER = "found_later"


class ReasonCode(Word):
    """Why a line of the acceptance is not accepted as declared."""

    SHORTAGE = "shortage"
    DAMAGE = "damage"
    SURPLUS = "surplus"
    WRONG_PRODUCT = "wrong_product"
    MIS_SORTED = "mis_sorted"


class Command(Word):
    """Printed command codes (`#WH:<NAME>`) staff scan instead of touching the screen."""

    UNDO = "UNDO"
    FULL_CHECK = "FULL_CHECK"
    TRUSTED = "TRUSTED"
    OPEN = "OPEN"
    CLOSE = "CLOSE"
    REMOVE_LAST = "REMOVE_LAST"  # outgoing act: take off the code this station put on last
    REMOVE_NEXT = "REMOVE_NEXT"  # outgoing act: the station's next scanned code comes off instead of going on
    CONFIRM = "CONFIRM"  # stop mode: the error was seen, scanning goes on


# Which screen each command works on (the printed sheet groups them so); elsewhere it is refused, unchanged.
RECEIVING_COMMANDS: Final = (
    Command.UNDO,
    Command.FULL_CHECK,
    Command.TRUSTED,
    Command.OPEN,
    Command.CLOSE,
    Command.CONFIRM,
)
OUTGOING_COMMANDS: Final = (Command.REMOVE_LAST, Command.REMOVE_NEXT)


class BasisType(Word):
    """The document an outgoing act is based on (the transfer act's `basis[].type`)."""

    ESF = "ESF"  # электронный счёт-фактура
    SNT = "SNT"  # сопроводительная накладная на товары


class Scope(Word):
    """What a handheld's API token may do (`warehouse devices token`): every token scans, into its station's
    acts; importing acts and reading act summaries are granted at issue."""

    SCAN = "scan"
    IMPORT = "import"
    READ = "read"


class OperatorDocKind(Word):
    """What a document of the exchange with the operator is (warehouse/services/operator_outbox.py)."""

    ACCEPTANCE = "acceptance"  # our answer to an incoming shipment
    SHIPMENT = "shipment"  # an outgoing act
    CANCEL = "cancel"  # calls back an outgoing act while it waits for acceptance


class OutboxState(Word):
    """Where a document of the outbox is. queued → sending → sent → a final state; `unknown` when the
    operator may have it (a lost answer, a crash while sending): it is looked up, never sent again blindly."""

    QUEUED = "queued"
    SENDING = "sending"  # written before the request goes out: found so after a crash, it is looked up
    SENT = "sent"  # the operator has it (its id), still checking
    UNKNOWN = "unknown"
    WAITING = "waiting"  # our shipment: checked by the operator, waits for the receiver's acceptance
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    ERROR = "error"  # refused by the operator (its message kept)

    @property
    def final(self) -> bool:
        return self in (OutboxState.ACCEPTED, OutboxState.REJECTED, OutboxState.CANCELLED, OutboxState.ERROR)


_LABELS: Final[dict[type[Word], dict[str, str]]] = {
    BasisType: {"ESF": N_("ESF (electronic invoice)"), "SNT": N_("SNT (goods shipping note)")},
    Role: {"staff": N_("Warehouse staff"), "lead": N_("Logistics lead"), "admin": N_("Administrator")},
    Direction: {"incoming": N_("Incoming"), "outgoing": N_("Outgoing")},
    Level: {"pallet": N_("Pallet"), "box": N_("Box"), "block": N_("Block"), "pack": N_("Pack")},
    Mode: {"trusted": N_("Trusted mode"), "full_check": N_("Full check")},
    ActStatus: {
        "importing": N_("Being imported"),
        "new": N_("New"),
        "receiving": N_("Receiving"),
        "closed": N_("Awaiting decision"),
        "decided": N_("Decided"),
        "signed": N_("Signed"),
        "draft": N_("Draft"),
        "sent": N_("Sent"),
        "accepted": N_("Accepted"),
        "discrepancies": N_("Accepted with discrepancies"),
        "rejected": N_("Rejected"),
    },
    Decision: {
        "accepted": N_("Accept"),
        "accepted_with_discrepancies": N_("Accept with discrepancies"),
        "rejected": N_("Reject the act"),
    },
    ScanClass: {
        "matched": N_("Counted"),
        "duplicate": N_("Duplicate"),
        "surplus": N_("Surplus"),
        "foreign": N_("Another act"),
        "wrong_product": N_("Wrong product"),
        "product": N_("Product barcode"),
        "invalid": N_("Not a marking code"),
        "reversed": N_("Undone"),
        "command": N_("Command"),
        "held": N_("Not counted: stopped"),
    },
    DiscrepancyKind: {
        "missing": N_("Missing"),
        "surplus": N_("Surplus"),
        "duplicate": N_("Duplicate"),
        "foreign": N_("From another act"),
        "wrong_product": N_("Wrong product"),
        "invalid": N_("Not a marking code"),
        "not_owned": N_("Not owned by the sender"),
        "not_in_circulation": N_("Not in circulation"),
    },
    OperatorDocKind: {
        "acceptance": N_("Acceptance"),
        "shipment": N_("Shipment"),
        "cancel": N_("Cancellation"),
    },
    OutboxState: {
        "queued": N_("Waiting to be sent"),
        "sending": N_("Being sent"),
        "sent": N_("Sent, being checked"),
        "unknown": N_("Sent, answer lost: being looked up"),
        "waiting": N_("Waiting for the receiver"),
        "accepted": N_("Accepted by the operator"),
        "rejected": N_("Rejected"),
        "cancelled": N_("Cancelled"),
        "error": N_("Refused by the operator"),
    },
    Resolution: {"accept": N_("Accept as is"), "reject": N_("Reject the line"), "found_later": N_("Found later")},
    ReasonCode: {
        "shortage": N_("Shortage"),
        "damage": N_("Damage"),
        "surplus": N_("Surplus"),
        "wrong_product": N_("Wrong product"),
        "mis_sorted": N_("Mis-sorted"),
    },
    Command: {
        "UNDO": N_("Undo my last scan"),
        "FULL_CHECK": N_("Switch to full check"),
        "TRUSTED": N_("Switch to trusted mode"),
        "OPEN": N_("Open the next box or pallet"),
        "CLOSE": N_("End receiving"),
        "REMOVE_LAST": N_("Take the last code off the act"),
        "REMOVE_NEXT": N_("Take the next scanned code off the act"),
        "CONFIRM": N_("Confirm: the error is seen, go on"),
    },
    Scope: {"scan": N_("Scan into its station's acts"), "import": N_("Import acts"), "read": N_("Read act summaries")},
}
