"""One verdict on a signed document: what `warehouse verify`, the check page and the signed page all say.

A `Verification` lists problems; a person needs one answer. Three, as a verifier owes them:

- valid: the signature is over exactly these bytes and the certificate is trusted at the signing time;
- unchecked: the signature is over exactly these bytes, but this station could not check the certificate
  against a trusted CA (no trust store, an out-of-date CRL, no CRL of that CA) — `warehouse trust update`
  fixes that, and nothing about the signature itself is wrong;
- invalid: anything else — altered bytes, another document, a broken CMS, a certificate that was checked
  and is untrusted, expired, revoked or not the one the document names.

>>> judge(()).verdict, judge(("no_trust_store",)).verdict, judge(("no_trust_store", "revoked")).verdict
(<Verdict.VALID: 'valid'>, <Verdict.UNCHECKED: 'unchecked'>, <Verdict.INVALID: 'invalid'>)
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

from warehouse.messages import N_, Phrasebook
from warehouse.signing.errors import TRUST_COMMANDS, message

__all__ = ["CANNOT_CHECK", "DEMO_MARK", "Judgement", "Verdict", "demo_mark", "judge"]

# The problems that say the station lacks the means to check the certificate, not that it failed a check.
CANNOT_CHECK: Final = frozenset({"no_trust_store", "crl_outdated", "revocation_unchecked"})


class Verdict(enum.StrEnum):
    VALID = "valid"
    UNCHECKED = "unchecked"
    INVALID = "invalid"


# What is printed and shown on everything signed in demo mode (also in the reports' catalog entries).
DEMO_MARK: Final = N_("DEMO — not legally valid")

PHRASES: Final = Phrasebook(
    "verdict",
    {
        Verdict.VALID: N_("The signature is valid."),
        Verdict.UNCHECKED: N_(
            "The signature matches the document, but the certificate could not be checked against a trusted "
            "certification authority. Run “{command}” (offline: “{offline} FOLDER”) and check again."
        ),
        Verdict.INVALID: N_("The signature is not valid."),
        "demo": DEMO_MARK,
    },
)


@dataclass(frozen=True)
class Judgement:
    """The verdict, and the problems that led to it (the first is the one to tell)."""

    verdict: Verdict
    problems: tuple[str, ...]
    phrases: ClassVar[Phrasebook] = PHRASES

    def headline(self, lang: str) -> str:
        """The one sentence that states the verdict."""
        return PHRASES.say(self.verdict, lang, **TRUST_COMMANDS)

    def reasons(self, lang: str) -> list[str]:
        """Why, in the reader's words (empty when valid). A missing trust store is the headline of
        "unchecked" already; its own sentence ("nothing can be verified") would only contradict it."""
        shown = [p for p in self.problems if not (self.verdict is Verdict.UNCHECKED and p == "no_trust_store")]
        return [message(p, lang) for p in shown]


def judge(problems: Sequence[str]) -> Judgement:
    """The verdict on a verification's `problems` (warehouse.signing.cms.Verification.problems)."""
    found = tuple(problems)
    if not found:
        return Judgement(Verdict.VALID, ())
    if all(p in CANNOT_CHECK for p in found):
        return Judgement(Verdict.UNCHECKED, found)
    # The reasons that make it invalid come first; a missing trust store is then beside the point.
    return Judgement(Verdict.INVALID, tuple(p for p in found if p not in CANNOT_CHECK) or found)


def demo_mark(lang: str) -> str:
    """The demo mark in `lang`: "DEMO — not legally valid"."""
    return PHRASES.say("demo", lang)
