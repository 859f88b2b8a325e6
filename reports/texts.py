"""The languages the reports speak and the words of their closed sets; every word is in the catalogs.

Fixed texts (titles, column heads, notes) are asked where they are printed, with
``say(N_("Acceptance act"), lang)``. The closed sets — levels, discrepancy kinds, decisions, reasons,
statuses, modes, turnovers, basis documents — come from `words(lang)`, one table each, built once per
language: a million-row export looks a word up per row. A value with no word (a new status from the
operator, say) is shown as it is rather than hidden.

Where a report prints another word than the screens for the same English (a report column says
«Наименование», the screens say «Товар»), its msgid carries a " (report)" tag and the English catalog
drops the tag again, so each language prints exactly what the printed forms always said.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from reports.errors import ReportError
from warehouse.messages import N_, say
from warehouse.vocab import ActStatus, BasisType, DiscrepancyKind, Level, ReasonCode, Resolution

Lang = Literal["ru", "kk", "en"]
LANGS: tuple[Lang, ...] = ("ru", "kk", "en")

GTIN: Final = "GTIN"  # the same in every language
NONE: Final = "—"  # an empty value

# Words the reports print that the vocabulary words differently (or has no word for).
_LEVELS_PLURAL: Final[dict[str, str]] = {
    Level.PALLET: N_("Pallets"),
    Level.BOX: N_("Boxes"),
    Level.BLOCK: N_("Blocks"),
    Level.PACK: N_("Packs"),
}
_KINDS: Final = {
    DiscrepancyKind.MISSING: N_("Missing (report)"),
    DiscrepancyKind.DUPLICATE: N_("Duplicate (report)"),
    DiscrepancyKind.WRONG_PRODUCT: N_("Wrong product (report)"),
}
# The decision as a fact on paper ("Принят"), not the button that makes it ("Принять").
_DECISIONS: Final = {
    "accepted": N_("Accepted"),
    "accepted_with_discrepancies": N_("Accepted with discrepancies"),
    "rejected": N_("Rejected"),
}
_REASONS: Final = {
    "wrong_product": N_("wrong product"),
    "mis_sorted": N_("mis-sorted"),
    "not_scanned": N_("never scanned"),
    "already_scanned": N_("already scanned"),
    "inside_credited": N_("already counted in its aggregate"),
    "not_in_act": N_("not in the act"),
    "other_act": N_("from another act"),
    "gtin_not_in_act": N_("GTIN not in the act"),
    "unreadable": N_("not recognised"),
}
# A code's status in the act, and the operator's statuses of a marking code.
_CODE_STATUSES: Final = {
    "credited": N_("credited (report)"),
    "missing": N_("missing"),
    "expected": N_("expected"),
    "EMITTED": N_("emitted"),
    "APPLIED": N_("applied"),
    "INTRODUCED": N_("in circulation"),
    "WRITTEN_OFF": N_("written off"),
    "WITHDRAWN": N_("withdrawn"),
    "DISAGGREGATED": N_("disaggregated"),
}
_MODES: Final = {"trusted": N_("trusted"), "full_check": N_("full check")}
_TURNOVERS: Final = {"sale": N_("sale"), "return": N_("return"), "transfer": N_("transfer")}
NOTES: Final = (
    N_(
        "The column 'Code (exact, ␝ = GS)' holds the code exactly as stored; the invisible GS separator "
        "(0x1D) is shown as ␝ (U+241D) because a spreadsheet cell cannot hold a control character. "
        "Replace ␝ with GS to get the original code."
    ),
    N_(
        "The column 'Code (HRI)' is the GS1 human-readable form (01)…(21)…(8005)…(93)… of block codes "
        "and SSCCs; a '(' inside a value is written as '\\(' and '\\' as '\\\\'. Pack codes and custom "
        "aggregation codes have no HRI form; the column is empty for them."
    ),
    N_("Every value is written as text: cells starting with =, +, - or @ are never formulas."),
    N_(
        "When there are more rows than a sheet holds (1,048,576), the list continues on a sheet with the "
        "same name and a number in brackets."
    ),
)


@dataclass(frozen=True)
class Words:
    """The closed sets of one language: value → the word the reports print (lower case inside a sentence
    or a cell, as the printed forms have it)."""

    levels: Mapping[str, str]
    levels_plural: Mapping[str, str]
    kinds: Mapping[str, str]
    decisions: Mapping[str, str]
    reasons: Mapping[str, str]
    statuses: Mapping[str, str]
    modes: Mapping[str, str]
    turnovers: Mapping[str, str]
    basis_types: Mapping[str, str]
    resolutions: Mapping[str, str]
    notes: tuple[str, ...]


def language(lang: str) -> Lang:
    """`lang` if the reports speak it; ReportError otherwise."""
    for known in LANGS:
        if lang == known:
            return known
    raise ReportError("unsupported_language", lang=lang)


@functools.cache
def words(lang: Lang) -> Words:
    """The words of one language; ReportError for a language the reports do not speak."""
    lang = language(lang)

    def table(msgids: Mapping[str, str]) -> dict[str, str]:
        return {key: say(msgid, lang) for key, msgid in msgids.items()}

    reasons = {r.value: r.label(lang).lower() for r in (ReasonCode.SHORTAGE, ReasonCode.DAMAGE, ReasonCode.SURPLUS)}
    statuses = {s.value: s.label(lang).lower() for s in ActStatus}
    statuses |= table(_CODE_STATUSES)
    statuses["surplus"] = DiscrepancyKind.SURPLUS.label(lang).lower()
    return Words(
        levels={level.value: level.label(lang).lower() for level in Level},
        levels_plural=table(_LEVELS_PLURAL),
        kinds={k.value: say(_KINDS[k], lang) if k in _KINDS else k.label(lang) for k in DiscrepancyKind},
        decisions=table(_DECISIONS),
        reasons=reasons | table(_REASONS),
        statuses=statuses,
        modes=table(_MODES),
        turnovers=table(_TURNOVERS),
        basis_types={b.value: b.label(lang) for b in BasisType},
        resolutions={r.value: r.label(lang) for r in Resolution},
        notes=tuple(say(note, lang) for note in NOTES),
    )


def word(table: Mapping[str, str], key: str | None, default: str = "") -> str:
    """The word for ``key``, the key itself when the table has none, ``default`` for no key."""
    if key is None or key == "":
        return default
    return table.get(key, key)
