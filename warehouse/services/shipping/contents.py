"""What an outgoing act holds, counted: by level and by GTIN with prices, and its documents and answers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from warehouse.db import Database
from warehouse.models import (
    AcceptanceReceipt,
    Act,
    ActCode,
    ActPrice,
    SignedDocument,
    StockCode,
    StockStatus,
)
from warehouse.services.shipping.documents import count_lines, part_number, transfer_documents
from warehouse.services.shipping.draft import find_act
from warehouse.vocab import LEVELS, ActStatus, Level

PACKS_PER_BLOCK: Final = 10


# --- totals -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GtinLine:
    gtin: str
    name: str | None
    blocks: int
    packs: int  # pack codes on the act
    packs_total: int  # packs listed, plus 10 for each block whose packs are not listed
    block_price: int | None
    pack_price: int | None
    amount: int  # tiyn


@dataclass(frozen=True)
class Totals:
    levels: dict[str, int]
    by_gtin: list[GtinLine]
    undeclared: int  # boxes and pallets whose contents nobody declared

    @property
    def codes(self) -> int:
        return sum(self.levels.values())

    @property
    def amount(self) -> int:
        return sum(g.amount for g in self.by_gtin)

    def to_json(self) -> dict[str, Any]:
        return {
            "codes": self.codes,
            "levels": self.levels,
            "amount": self.amount,
            "undeclared": self.undeclared,
            "by_gtin": [
                {
                    "gtin": g.gtin,
                    "name": g.name,
                    "blocks": g.blocks,
                    "packs": g.packs,
                    "packs_total": g.packs_total,
                    "block_price": g.block_price,
                    "pack_price": g.pack_price,
                    "amount": g.amount,
                }
                for g in self.by_gtin
            ],
        }


def prices(s: Session, act_id: int) -> dict[tuple[str, str], int]:
    return {(p.gtin, p.level): p.price for p in s.execute(select(ActPrice).where(ActPrice.act_id == act_id)).scalars()}


def totals(s: Session, act: Act) -> Totals:
    """Codes by level, and by GTIN: blocks, packs, pack count, prices and the sum. A draft is counted in the
    ledger; a signed act in its frozen tree. A pack inside a priced block is paid with the block."""
    if act.status == ActStatus.DRAFT:
        table: Any = StockCode
        where = [StockCode.act_id == act.id, StockCode.status == StockStatus.RESERVED]
    else:
        table = ActCode
        where = [ActCode.act_id == act.id]
    parent = aliased(table)
    stmt = (
        select(table.gtin, table.level, table.declared_children, parent.level, func.count(), func.max(table.name))
        .outerjoin(parent, parent.id == table.parent_id)
        .where(*where)
        .group_by(table.gtin, table.level, table.declared_children, parent.level)
    )
    levels: dict[str, int] = dict.fromkeys(LEVELS, 0)
    per: dict[str, dict[str, int]] = {}
    names: dict[str, str | None] = {}
    undeclared = 0
    for gtin, level, declared, parent_level, n, name in s.execute(stmt):
        levels[level] = levels.get(level, 0) + n
        if level in (Level.BOX, Level.PALLET) and not declared:
            undeclared += n
        if not gtin:
            continue
        g = per.setdefault(gtin, {"blocks": 0, "packs": 0, "implied": 0, "in_blocks": 0})
        names[gtin] = names.get(gtin) or name
        if level == Level.BLOCK:
            g["blocks"] += n
            if not declared:
                g["implied"] += n * PACKS_PER_BLOCK
        elif level == Level.PACK:
            g["packs"] += n
            if parent_level == Level.BLOCK:
                g["in_blocks"] += n
    price = prices(s, act.id)
    lines = []
    for gtin, g in sorted(per.items()):
        block_price, pack_price = price.get((gtin, Level.BLOCK)), price.get((gtin, Level.PACK))
        amount = g["blocks"] * (block_price or 0)
        paid_packs = g["packs"] - (g["in_blocks"] if block_price is not None else 0)
        amount += paid_packs * (pack_price or 0)
        lines.append(
            GtinLine(
                gtin,
                names.get(gtin),
                g["blocks"],
                g["packs"],
                g["packs"] + g["implied"],
                block_price,
                pack_price,
                amount,
            )
        )
    return Totals(levels, lines, undeclared)


@dataclass(frozen=True)
class PartInfo:
    part: int
    number: str
    codes: int
    sha256: str
    document_id: int


@dataclass(frozen=True)
class ReceiptInfo:
    transfer_part: int
    part: int
    parts: int
    decision: str
    returned: int
    signer: str
    at: datetime


@dataclass(frozen=True)
class Summary:
    act: Act
    totals: Totals
    parts: list[PartInfo]
    receipts: list[ReceiptInfo]

    def to_json(self) -> dict[str, Any]:
        a = self.act
        return {
            "id": a.id,
            "number": a.number,
            "date": a.date.isoformat(),
            "status": a.status,
            "sender": {"name": a.sender_name, "bin": a.sender_bin},
            "receiver": {"name": a.receiver_name, "bin": a.receiver_bin},
            "basis": a.basis,
            "turnover": a.turnover,
            **self.totals.to_json(),
            "documents": [
                {"part": p.part, "number": p.number, "codes": p.codes, "sha256": p.sha256} for p in self.parts
            ],
            "acceptances": [
                {
                    "transfer_part": r.transfer_part,
                    "part": r.part,
                    "parts": r.parts,
                    "decision": r.decision,
                    "returned": r.returned,
                    "signer": r.signer,
                    "at": r.at.isoformat(),
                }
                for r in self.receipts
            ],
        }


def summary(s: Session, act: Act) -> Summary:
    documents = transfer_documents(s, act.id)
    parts = [
        PartInfo(
            doc.part,
            part_number(act.number, doc.part, len(documents)),
            count_lines(doc.content),
            hashlib.sha256(doc.content).hexdigest(),
            doc.id,
        )
        for doc in documents
    ]
    receipts = [
        ReceiptInfo(r.transfer_part, r.part, r.parts, r.decision, r.returned, signer, r.created_at)
        for r, signer in s.execute(
            select(AcceptanceReceipt, SignedDocument.signer)
            .join(SignedDocument, SignedDocument.id == AcceptanceReceipt.document_id)
            .where(AcceptanceReceipt.act_id == act.id)
            .order_by(AcceptanceReceipt.id)
        )
    ]
    return Summary(act, totals(s, act), parts, receipts)


def act_summary(db: Database, ref: str | int) -> Summary:
    with db.read() as s:
        return summary(s, find_act(s, ref))
