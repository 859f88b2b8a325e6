"""The acceptance document `transfer-act-acceptance/1`: what the receiver signs about an incoming act.

Pure: plain data in, the exact bytes to sign out (canonical JSON, `warehouse.canonical`). One part:

    {"format": "transfer-act-acceptance/1", "part": 1, "parts": 1, "codes": 3,
     "act": {"number": "ТА-000123", "date": "2026-11-20", "sender": {"name": "…", "bin": "…"},
             "receiver": {…}, "basis": [{"type": "ESF", "number": "…", "date": "…"}], "turnover": "sale",
             "source_sha256": "…" | null},
     "decision": "accepted_with_discrepancies", "reason": "shortage" | null, "comment": "…" | null,
     "decided_at": "2026-11-21T09:30:00Z", "decided_by": "lead", "created_at": "2026-11-21T09:41:07Z",
     "products": [{"code": "00…", "level": "pallet", "accepted": false, "children": [
         {"code": "00…", "level": "box", "accepted": true},
         {"code": "00…", "level": "box", "accepted": false, "reason": "shortage", "comment": "…"}]}],
     "surplus": [{"code": "…", "kind": "pack", "class": "surplus", "accepted": false}],
     "signer": {"user": "lead", "user_name": "…", "certificate": {"name": …, "iin": …, …} | null}}

The tree is the act's own tree, collapsed: `accepted: true` on a code means the code and everything
declared inside it are accepted, `accepted: false` without `children` means none of it is, and a code
is listed with `children` exactly when its contents differ (its own flag is then false: it is not
accepted as a whole) or when a code inside carries a reason or comment. A fully accepted pallet of
50,000 packs is one line.

Above `max_codes` listed codes (the operator takes about 30,000 per document) the document is split in
parts that each stand alone: every code appears in exactly one part, and an aggregate whose listed
contents are split is repeated, with `children`, in each part that holds some of them.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final, NamedTuple

from warehouse import canonical
from warehouse.signing.certs import CertificateInfo
from warehouse.vocab import Decision, Resolution

__all__ = [
    "DECISIONS",
    "FORMAT",
    "MAX_CODES",
    "AcceptanceDocument",
    "ActRef",
    "BasisDoc",
    "CodeLine",
    "DecisionInfo",
    "DocumentSummary",
    "Party",
    "SignerRef",
    "SurplusLine",
    "build",
    "code_accepted",
    "is_demo",
    "read_summary",
    "surplus_accepted",
]

FORMAT: Final = "transfer-act-acceptance/1"
MAX_CODES: Final = 30_000
MAX_BYTES: Final = 30 * 1024 * 1024  # the operator's limit per document
DECISIONS: Final = tuple(Decision)
_ACCEPTING_RESOLUTIONS: Final = (Resolution.ACCEPT, Resolution.FOUND_LATER)
CodeText = Callable[[list[int]], Mapping[int, str]]  # code ids -> their code text


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    bin: str


@dataclass(frozen=True, slots=True)
class BasisDoc:
    type: str
    number: str
    date: str | None = None


@dataclass(frozen=True, slots=True)
class ActRef:
    number: str
    date: date
    sender: Party
    receiver: Party
    basis: tuple[BasisDoc, ...] = ()
    turnover: str | None = None
    source_sha256: str | None = None  # SHA-256 of the act file as imported


@dataclass(frozen=True, slots=True)
class DecisionInfo:
    decision: str  # accepted | accepted_with_discrepancies | rejected
    reason: str | None
    comment: str | None
    decided_at: datetime
    decided_by: str | None = None


@dataclass(frozen=True, slots=True)
class SignerRef:
    """The person in the application, and the certificate when it is known before signing
    (PKCS#12 and NCANode; with NCALayer the browser picks the key, so only the CMS names it)."""

    user: str | None
    user_name: str | None = None
    certificate: CertificateInfo | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "user_name": self.user_name or None,
            "certificate": self.certificate.summary() if self.certificate else None,
        }


class CodeLine(NamedTuple):
    """One code of the act's tree. Lines must come in preorder (a parent before its contents).

    `accepted` counts only for a code without declared contents: an aggregate is accepted exactly when
    everything inside it is (a pallet never scanned itself, whose boxes were all counted or accepted by
    the lead, is accepted), as receiving rolls credit up from the contents. `code` may be None: `build`
    then asks its `code_text` for the codes it lists (a truck has a million, most never listed).
    A NamedTuple: a million of them are made for one document.
    """

    id: int
    parent_id: int | None
    code: str | None
    level: str
    accepted: bool
    reason: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class SurplusLine:
    """A code found on the goods but not in the act."""

    code: str
    kind: str  # what the code is: pack | block | sscc | aggregate
    scan_class: str  # surplus | foreign | wrong_product
    accepted: bool
    reason: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class AcceptanceDocument:
    part: int
    parts: int
    codes: int  # codes listed in this part (repeated aggregates included)
    content: bytes  # the exact bytes that are signed
    sha256: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", hashlib.sha256(self.content).hexdigest())


def code_accepted(decision: str, credited: bool, resolution: str | None) -> bool:
    """The rule for one code of the act: a rejected act accepts nothing, an accepted act everything;
    with discrepancies a code is accepted when it was counted, or when the lead accepted its line
    (or recorded it as found later). A line without a resolution is refused.

    >>> code_accepted("accepted_with_discrepancies", False, "accept")
    True
    """
    if decision == Decision.REJECTED:
        return False
    if decision == Decision.ACCEPTED:
        return True
    return credited or resolution in _ACCEPTING_RESOLUTIONS


def surplus_accepted(decision: str, resolution: str | None) -> bool:
    """A surplus code is taken only when the act is accepted and the lead accepted that line."""
    return decision != Decision.REJECTED and resolution in _ACCEPTING_RESOLUTIONS


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("naive datetime in a signed document")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node(code: str, level: str, accepted: bool, reason: str | None, comment: str | None) -> dict[str, Any]:
    node: dict[str, Any] = {"code": code, "level": level, "accepted": accepted}
    if reason:
        node["reason"] = reason
    if comment:
        node["comment"] = comment
    return node


class _Tree:
    """The act's tree in compact arrays, a few bytes a code (a truck is up to a million codes)."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.parents = array("q")  # index of the parent, -1 at the top
        self.depths = array("i")
        self.levels = bytearray()  # index into level_names
        self.level_names: list[str] = []
        self.accepted = bytearray()
        self.codes: dict[int, str] = {}  # by index, for the lines that came with their code
        self.notes: dict[int, tuple[str | None, str | None]] = {}  # reason, comment

    @classmethod
    def of(cls, lines: Iterable[CodeLine]) -> _Tree:
        tree = cls()
        level_index: dict[str, int] = {}
        path: list[tuple[int, int]] = []  # (id, index) of the ancestors of the current line
        ids, parents, depths, levels, accepted = tree.ids, tree.parents, tree.depths, tree.levels, tree.accepted
        for index, (code_id, parent_id, code, level, flag, reason, comment) in enumerate(lines):
            if parent_id is None:
                path.clear()
            else:
                while path and path[-1][0] != parent_id:
                    path.pop()
                if not path:
                    raise ValueError(f"code {code or code_id!r} comes before its parent: lines must be in preorder")
            ids.append(code_id)
            parents.append(path[-1][1] if path else -1)
            depths.append(len(path))
            number = level_index.get(level)
            if number is None:
                number = level_index[level] = len(tree.level_names)
                tree.level_names.append(level)
            levels.append(number)
            accepted.append(flag)
            if code is not None:
                tree.codes[index] = code
            if reason or comment:
                tree.notes[index] = (reason, comment)
            path.append((code_id, index))
        return tree

    def listed(self) -> list[tuple[int, int, bool, bool]]:
        """(index, depth, accepted as a whole, listed with children) of each code to list, in preorder."""
        n = len(self.ids)
        parents, notes = self.parents, self.notes
        bits = bytearray(n)  # 1: something accepted in the subtree, 2: something refused
        noted_below = bytearray(n)
        for i in range(n - 1, -1, -1):
            if not bits[i]:  # a code without contents in the act: its own flag
                bits[i] = 1 if self.accepted[i] else 2
            parent = parents[i]
            if parent >= 0:
                bits[parent] |= bits[i]
                if noted_below[i] or i in notes:
                    noted_below[parent] = 1
        out: list[tuple[int, int, bool, bool]] = []
        shown = bytearray(n)
        expanded = bytearray(n)
        depths = self.depths
        for i in range(n):
            parent = parents[i]
            if parent >= 0 and not (shown[parent] and expanded[parent]):
                continue
            shown[i] = 1
            expanded[i] = bits[i] == 3 or noted_below[i]
            out.append((i, depths[i], bits[i] == 1, bool(expanded[i])))
        return out

    def fill_codes(self, indices: Sequence[int], code_text: CodeText | None) -> None:
        """The code text of every listed line that came without it, asked for in one call."""
        missing = [self.ids[i] for i in indices if i not in self.codes]
        if not missing:
            return
        if code_text is None:
            raise ValueError("lines without their code and no code_text to ask for them")
        found = code_text(missing)
        for i in indices:
            if i not in self.codes:
                self.codes[i] = found[self.ids[i]]


def _forest(entries: Sequence[tuple[int, dict[str, Any], bool]]) -> list[dict[str, Any]]:
    """Nest (depth, node, expanded) entries given in preorder."""
    roots: list[dict[str, Any]] = []
    stack: list[tuple[int, dict[str, Any]]] = []
    for depth, node, expanded in entries:
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1]["children"] if stack else roots).append(node)
        if expanded:
            node["children"] = []
            stack.append((depth, node))
    return roots


def build(
    act: ActRef,
    decision: DecisionInfo,
    codes: Iterable[CodeLine],
    surplus: Sequence[SurplusLine],
    signer: SignerRef,
    created_at: datetime,
    *,
    max_codes: int = MAX_CODES,
    code_text: CodeText | None = None,
    demo: bool = False,
) -> list[AcceptanceDocument]:
    """The acceptance document(s) for a decided act, each as the exact bytes to sign.

    Deterministic: the same data and `created_at` give the same bytes (the NCALayer path relies on it
    to rebuild the document the browser signed). Lines given without their code get it from
    `code_text(ids)`, a mapping id -> code, asked once for the listed codes only. A station in demo mode
    signs `"demo": true` into every part: the mark is in the signed bytes, so no later setting can add or
    remove it. Raises ValueError on a
    decision outside DECISIONS, codes not in preorder, or a part beyond the operator's 30 MB.
    """
    if decision.decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision.decision!r}")
    if max_codes < 8:
        raise ValueError("max_codes too small to hold a pallet's path")
    tree = _Tree.of(codes)
    listed = tree.listed()
    tree.fill_codes([i for i, _d, _a, _e in listed], code_text)

    # One sequence of (depth, kind, index): the tree in preorder, then the surplus codes.
    sequence: list[tuple[int, str, int]] = [(depth, "code", i) for i, depth, _a, _e in listed]
    sequence += [(0, "surplus", k) for k in range(len(surplus))]
    info = {i: (accepted, expanded) for i, _d, accepted, expanded in listed}

    def code_node(i: int) -> tuple[dict[str, Any], bool]:
        accepted, expanded = info[i]
        reason, comment = tree.notes.get(i, (None, None))
        return _node(tree.codes[i], tree.level_names[tree.levels[i]], accepted, reason, comment), expanded

    chunks: list[list[tuple[int, str, int]]] = []
    current: list[tuple[int, str, int]] = []
    path: list[tuple[int, str, int]] = []  # ancestors of the entry being placed
    for entry in sequence:
        depth = entry[0]
        del path[depth:]
        if len(current) >= max_codes:
            # Trailing aggregates whose contents did not fit move on: they head the next part anyway.
            while current and current[-1][1] == "code" and info[current[-1][2]][1] and current[-1] in path:
                current.pop()
            chunks.append(current)
            current = list(path)
        current.append(entry)
        if entry[1] == "code" and info[entry[2]][1]:
            path.append(entry)
    if current or not chunks:
        chunks.append(current)

    parts = len(chunks)
    head: dict[str, Any] = {
        "format": FORMAT,
        "act": {
            "number": act.number,
            "date": act.date.isoformat(),
            "sender": {"name": act.sender.name, "bin": act.sender.bin},
            "receiver": {"name": act.receiver.name, "bin": act.receiver.bin},
            "basis": [{"type": b.type, "number": b.number, "date": b.date} for b in act.basis],
            "turnover": act.turnover,
            "source_sha256": act.source_sha256,
        },
        "decision": decision.decision,
        "reason": decision.reason or None,
        "comment": decision.comment or None,
        "decided_at": _iso(decision.decided_at),
        "decided_by": decision.decided_by,
        "created_at": _iso(created_at),
        "signer": signer.to_json(),
    }
    if demo:  # absent otherwise: a strict station's documents keep their bytes
        head["demo"] = True
    documents = []
    for number, chunk in enumerate(chunks, start=1):
        tree_entries = []
        surplus_nodes = []
        for depth, kind, index in chunk:
            if kind == "code":
                node, expanded = code_node(index)
                tree_entries.append((depth, node, expanded))
            else:
                line = surplus[index]
                node = {"code": line.code, "kind": line.kind, "class": line.scan_class, "accepted": line.accepted}
                if line.reason:
                    node["reason"] = line.reason
                if line.comment:
                    node["comment"] = line.comment
                surplus_nodes.append(node)
        body = {
            **head,
            "part": number,
            "parts": parts,
            "codes": len(chunk),
            "products": _forest(tree_entries),
            "surplus": surplus_nodes,
        }
        content = canonical.dumps(body)
        if len(content) > MAX_BYTES:
            raise ValueError(f"part {number} is {len(content)} bytes, above the operator's 30 MB")
        documents.append(AcceptanceDocument(number, parts, len(chunk), content))
    return documents


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """What a verifier shows about a signed acceptance document."""

    act_number: str
    act_date: str
    decision: str
    part: int
    parts: int
    codes: int
    created_at: str
    certificate_sha256: str | None  # the certificate the document names, when it names one
    demo: bool = False  # signed by a station in demo mode: not legally valid


# Sorted keys put "demo" right before "format" at the top level; inside a string its quotes would be escaped.
DEMO_MARK: Final = b',"demo":true,"format":"' + FORMAT.encode() + b'"'


def is_demo(content: bytes) -> bool:
    """Was this acceptance document signed in demo mode? Reads the bytes, not the JSON (a part may be 30 MB).

    >>> is_demo(b'{"decision":"accepted","demo":true,"format":"transfer-act-acceptance/1","part":1}')
    True
    >>> is_demo(canonical.dumps({"comment": ',"demo":true,"format":"' + FORMAT + '"', "format": FORMAT}))
    False
    """
    return DEMO_MARK in content


def read_summary(content: bytes) -> DocumentSummary | None:
    """The summary of an acceptance document, or None when `content` is not one."""
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    try:
        act = data["act"]
        cert = (data.get("signer") or {}).get("certificate") or {}
        return DocumentSummary(
            str(act["number"]),
            str(act["date"]),
            str(data["decision"]),
            int(data["part"]),
            int(data["parts"]),
            int(data["codes"]),
            str(data["created_at"]),
            cert.get("certificate_sha256"),
            data.get("demo") is True,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
