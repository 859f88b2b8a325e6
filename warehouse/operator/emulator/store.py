"""The emulator's state: SQLite (stdlib), one connection behind one lock — a million-pack act fits and pages.

Codes are kept in the operator's form (warehouse.operator.cis). A document is created IN_PROGRESS with
the status it will reach (`outcome`) and its errors decided at once; at `ready_at` the outcome is applied
(the shipment waits for acceptance, ownership moves, the shipment is cancelled) — no threads needed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from warehouse import transfer_act
from warehouse.operator.cis import cis_of_line, lookup_form

SCHEMA = """
CREATE TABLE IF NOT EXISTS codes (
    cis TEXT PRIMARY KEY, gtin TEXT, level TEXT NOT NULL, parent TEXT, status TEXT NOT NULL,
    owner TEXT NOT NULL, mrp INTEGER
);
CREATE INDEX IF NOT EXISTS codes_parent ON codes(parent);
CREATE TABLE IF NOT EXISTS docs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, number TEXT NOT NULL, type TEXT NOT NULL,
    status TEXT NOT NULL, outcome TEXT, sender TEXT NOT NULL, sender_name TEXT, receiver TEXT,
    receiver_name TEXT, doc_date TEXT NOT NULL, received_at TEXT NOT NULL, ready_at TEXT NOT NULL,
    stuck INTEGER NOT NULL DEFAULT 0, body TEXT, errors TEXT NOT NULL DEFAULT '[]', related_id TEXT,
    turnover TEXT, transfer_date TEXT
);
CREATE INDEX IF NOT EXISTS docs_date ON docs(doc_date, id);
CREATE TABLE IF NOT EXISTS doc_codes (
    doc_id TEXT NOT NULL, pos INTEGER NOT NULL, cis TEXT NOT NULL, price INTEGER, vat INTEGER,
    PRIMARY KEY (doc_id, pos)
);
"""
LEVEL_PACKAGE = {"pack": "UNIT", "block": "GROUP", "box": "BOX", "pallet": "PALLET"}  # [U] the KZ words
SHIP, ACCEPT, CANCEL = "LP_SHIP_GOODS", "LP_ACCEPT_GOODS", "LP_CANCEL_SHIPMENT"
FINAL = {"CHECKED_OK", "CHECKED_NOT_OK", "PROCESSING_ERROR", "PARSE_ERROR", "WAIT_ACCEPTANCE", "ACCEPTED", "CANCELLED"}


def item_code(item: dict[str, Any]) -> str:
    return str(item.get("uit_code") or item.get("uitu_code"))


def iso(moment: datetime) -> str:
    """The operator's time form: yyyy-MM-ddTHH:mm:ss.SSSZ (sorts as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class Clock:
    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class Store:
    def __init__(self, path: Path | str, *, delay: float = 0.2) -> None:
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")  # a test double: speed over durability
        self.db.executescript(SCHEMA)
        self.lock = threading.RLock()
        self.clock = Clock()
        self.delay = delay  # seconds a document stays IN_PROGRESS
        self.names: dict[str, str] = {}

    # --- seeding -------------------------------------------------------------------------------------

    def seed_act(self, path: Path | str, *, owned_only: bool = False) -> dict[str, Any]:
        """A transfer-act/1 file as a shipment WAIT_ACCEPTANCE from its sender to its receiver (its codes
        INTRODUCED and the sender's); with `owned_only` its codes only, owned by the receiver (stock of its own)."""
        reader = transfer_act.read_act(path)
        header = reader.header
        owner = header.receiver.bin if owned_only else header.sender.bin
        self.names[header.sender.bin] = header.sender.name
        self.names[header.receiver.bin] = header.receiver.name
        parents: dict[str, str] = {}  # identity -> cis of the lines that can contain others
        listed: list[tuple[str, int | None, int | None]] = []
        rows: list[tuple[Any, ...]] = []
        count = 0
        with self.lock:
            self.db.execute("BEGIN")
            for line in reader.lines():
                cis = cis_of_line(line)
                if line.level.value != "pack":
                    parents[line.identity] = cis
                parent = parents.get(line.parent_code) if line.parent_code else None
                if parent is None:
                    listed.append((cis, line.price, line.vat))
                mrp = None
                if line.level.value == "block" and "\x1d8005" in line.code:
                    mrp = int(line.code.split("\x1d8005", 1)[1][:6])
                rows.append((cis, line.gtin, line.level.value, parent, "INTRODUCED", owner, mrp))
                count += 1
                if len(rows) >= 20_000:
                    self._put_codes(rows)
                    rows = []
            self._put_codes(rows)
            if reader.problems:
                self.db.execute("ROLLBACK")
                raise ValueError(f"{path}: {reader.problems[0]}")
            doc_id = None
            if not owned_only:
                now = self.clock.now()
                doc_id = str(uuid.uuid4())
                date = datetime(header.date.year, header.date.month, header.date.day, tzinfo=UTC)
                body = {
                    "document_num": header.number,
                    "document_date": header.date.isoformat(),
                    "sender_inn": header.sender.bin,
                    "receiver_inn": header.receiver.bin,
                    "transfer_date": header.date.isoformat(),
                    "turnover_type": "SELLING",
                }
                self._insert_doc(
                    doc_id,
                    header.number,
                    SHIP,
                    "WAIT_ACCEPTANCE",
                    header.sender.bin,
                    header.receiver.bin,
                    doc_date=date,
                    received_at=now,
                    body=body,
                    transfer_date=header.date.isoformat(),
                    turnover="SELLING",
                )
                self.db.executemany(
                    "INSERT INTO doc_codes VALUES (?,?,?,?,?)", [(doc_id, i, *row) for i, row in enumerate(listed)]
                )
            self.db.execute("COMMIT")
        return {"doc_id": doc_id, "number": header.number, "codes": count, "listed": len(listed)}

    def _put_codes(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO codes VALUES (?,?,?,?,?,?,?)", rows)

    def _insert_doc(
        self,
        doc_id: str,
        number: str,
        type_: str,
        status: str,
        sender: str,
        receiver: str | None,
        *,
        doc_date: datetime,
        received_at: datetime,
        body: Any,
        outcome: str | None = None,
        errors: Sequence[str] = (),
        related: str | None = None,
        ready_at: datetime | None = None,
        stuck: bool = False,
        transfer_date: str | None = None,
        turnover: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO docs (id, number, type, status, outcome, sender, sender_name, receiver, receiver_name,"
            " doc_date, received_at, ready_at, stuck, body, errors, related_id, turnover, transfer_date)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                doc_id,
                number,
                type_,
                status,
                outcome,
                sender,
                self.names.get(sender, ""),
                receiver,
                self.names.get(receiver or "", ""),
                iso(doc_date),
                iso(received_at),
                iso(ready_at or received_at),
                int(stuck),
                json.dumps(body, ensure_ascii=False),
                json.dumps(list(errors), ensure_ascii=False),
                related,
                turnover,
                transfer_date,
            ),
        )

    # --- reading ----------------------------------------------------------------------------------------

    def settle(self) -> None:
        """Apply every document whose time has come (IN_PROGRESS -> its outcome and its effect)."""
        with self.lock:
            now = iso(self.clock.now())
            due = self.db.execute(
                "SELECT id FROM docs WHERE status='IN_PROGRESS' AND stuck=0 AND ready_at<=? ORDER BY seq", (now,)
            ).fetchall()
            for (doc_id,) in due:
                self.db.execute("BEGIN")
                self._apply(doc_id)
                self.db.execute("COMMIT")

    def doc(self, doc_id: str) -> dict[str, Any] | None:
        cur = self.db.execute("SELECT * FROM docs WHERE id=?", (doc_id,))
        row = cur.fetchone()
        return None if row is None else dict(zip([c[0] for c in cur.description], row, strict=True))

    def listed(self, doc_id: str, limit: int | None = None) -> list[tuple[str, int | None, int | None]]:
        sql = "SELECT cis, price, vat FROM doc_codes WHERE doc_id=? ORDER BY pos"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [(r[0], r[1], r[2]) for r in self.db.execute(sql, (doc_id,))]

    def code(self, cis: str) -> dict[str, Any] | None:
        cur = self.db.execute("SELECT * FROM codes WHERE cis=?", (lookup_form(cis),))
        row = cur.fetchone()
        return None if row is None else dict(zip([c[0] for c in cur.description], row, strict=True))

    def codes(self, requested: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The codes of one look-up (<=1000) by their look-up form, each with its "child" list: two queries."""
        keys = sorted({lookup_form(c) for c in requested})
        marks = ",".join("?" * len(keys))
        cur = self.db.execute(f"SELECT * FROM codes WHERE cis IN ({marks})", keys)  # noqa: S608 (marks only)
        names = [c[0] for c in cur.description]
        found = {row[0]: dict(zip(names, row, strict=True)) | {"child": []} for row in cur.fetchall()}
        for cis, parent in self.db.execute(
            f"SELECT cis, parent FROM codes WHERE parent IN ({marks}) ORDER BY rowid",  # noqa: S608
            keys,
        ):
            found[parent]["child"].append(cis)
        return found

    def children(self, cis: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT cis FROM codes WHERE parent=? ORDER BY rowid", (cis,))]

    def descendants(self, cis: str) -> list[tuple[str, str]]:
        """(code, parent) of everything under `cis`, in the order the codes were stored (one query)."""
        return [
            (r[1], r[2])
            for r in self.db.execute(
                "WITH RECURSIVE sub(rid, cis, parent) AS ("
                " SELECT rowid, cis, parent FROM codes WHERE parent=?"
                " UNION ALL SELECT c.rowid, c.cis, c.parent FROM codes c JOIN sub ON c.parent=sub.cis)"
                " SELECT rid, cis, parent FROM sub ORDER BY rid",
                (cis,),
            )
        ]

    def subtree(self, cis: str) -> Iterator[str]:
        """Every code under `cis` (not itself)."""
        for code, _parent in self.descendants(cis):
            yield code

    def tree(self, cis: str) -> dict[str, Any] | list[Any]:
        """The nested map of cises/aggregated/list: {child: {grandchild: ...}}, a leaf is []."""
        nodes: dict[str, dict[str, Any]] = {cis: {}}
        for code, parent in self.descendants(cis):
            nodes[code] = {}
            nodes[parent][code] = nodes[code]

        def leaves_as_lists(node: dict[str, Any]) -> dict[str, Any] | list[Any]:
            return {k: leaves_as_lists(v) for k, v in node.items()} if node else []

        return leaves_as_lists(nodes[cis])

    def leaves(self, doc_id: str) -> Iterator[str]:
        for cis, _p, _v in self.listed(doc_id):
            below = self.descendants(cis)
            if not below:
                yield cis
                continue
            parents = {parent for _code, parent in below}
            yield from (code for code, _parent in below if code not in parents)

    def docs_page(
        self,
        *,
        inn_column: str,
        inn: str,
        types: Sequence[str],
        status: str | None,
        number: str | None,
        date_from: str | None,
        date_to: str | None,
        anchor: tuple[str, str] | None,
        descending: bool,
        limit: int,
    ) -> list[dict[str, Any]]:
        where = [f"{inn_column}=?"]
        args: list[Any] = [inn]
        if types:
            where.append(f"type IN ({','.join('?' * len(types))})")
            args += list(types)
        if status:
            where.append("status=?")
            args.append(status)
        if number:
            where.append("number=?")
            args.append(number)
        if date_from:
            where.append("doc_date>=?")
            args.append(date_from)
        if date_to:
            where.append("doc_date<=?")
            args.append(date_to)
        if anchor is not None:
            where.append("(doc_date, id) < (?, ?)" if descending else "(doc_date, id) > (?, ?)")
            args += [anchor[0], anchor[1]]
        order = "DESC" if descending else "ASC"
        cur = self.db.execute(
            f"SELECT * FROM docs WHERE {' AND '.join(where)} ORDER BY doc_date {order}, id {order} LIMIT ?",  # noqa: S608
            [*args, limit],
        )
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # --- documents --------------------------------------------------------------------------------------

    def create(
        self, type_: str, body: dict[str, Any], author: str, *, stuck: bool = False, processing_error: bool = False
    ) -> str:
        """A document IN_PROGRESS, its outcome decided now (the state it reaches at ready_at)."""
        with self.lock:
            now = self.clock.now()
            doc_id = str(uuid.uuid4())
            self.db.execute("BEGIN")
            if type_ == SHIP:
                outcome, errors = self._check_shipment(body, author)
                number, receiver, related = body["document_num"], body.get("receiver_inn"), None
            elif type_ == ACCEPT:
                outcome, errors = self._check_acceptance(body, author)
                number, related = body["document_number"], body["release_order_number"]
                shipment = self.doc(related)
                receiver = shipment["sender"] if shipment else body.get("trade_sender_inn")
            else:
                outcome, errors = self._check_cancel(body, author)
                number, receiver, related = f"CANCEL-{body['shipment_number']}", None, body["shipment_number"]
            if processing_error:
                outcome, errors = "PROCESSING_ERROR", ["Ошибка обработки документа"]
            self._insert_doc(
                doc_id,
                number,
                type_,
                "IN_PROGRESS",
                author,
                receiver,
                doc_date=now,
                received_at=now,
                body=body,
                outcome=outcome,
                errors=errors,
                related=related,
                ready_at=now + timedelta(seconds=self.delay),
                stuck=stuck,
                transfer_date=body.get("transfer_date"),
                turnover=body.get("turnover_type"),
            )
            if type_ == SHIP and outcome == "WAIT_ACCEPTANCE":
                self.db.executemany(
                    "INSERT INTO doc_codes VALUES (?,?,?,?,?)",
                    [
                        (
                            doc_id,
                            i,
                            p.get("uit_code") or p.get("uitu_code"),
                            p.get("product_cost"),
                            p.get("product_tax"),
                        )
                        for i, p in enumerate(body["products"])
                    ],
                )
            self.db.execute("COMMIT")
        return doc_id

    def _check_shipment(self, body: dict[str, Any], author: str) -> tuple[str, list[str]]:
        errors: list[str] = []
        if body.get("sender_inn", author) != author:
            errors.append("ИНН отправителя не совпадает с ИНН участника")
        for p in body["products"]:
            cis = p.get("uit_code") or p.get("uitu_code")
            code = self.code(cis)
            if code is None:
                errors.append(f"КИ {cis} не найден")
            elif code["owner"] != author:
                errors.append(f"КИ {cis} принадлежит другому участнику")
            elif code["status"] != "INTRODUCED":
                errors.append(f"КИ {cis} не в обороте (статус {code['status']})")
        return ("CHECKED_NOT_OK", errors) if errors else ("WAIT_ACCEPTANCE", [])

    def _check_acceptance(self, body: dict[str, Any], author: str) -> tuple[str, list[str]]:
        shipment = self.doc(body["release_order_number"])
        if shipment is None or shipment["type"] != SHIP:
            return "CHECKED_NOT_OK", [f"Документ отгрузки {body['release_order_number']} не найден"]
        if shipment["receiver"] != author or body["trade_recipient_inn"] != author:
            return "CHECKED_NOT_OK", ["Участник не является получателем по документу отгрузки"]
        if body["trade_sender_inn"] != shipment["sender"]:
            return "CHECKED_NOT_OK", ["ИНН отправителя не совпадает с документом отгрузки"]
        if shipment["status"] != "WAIT_ACCEPTANCE":
            return "CHECKED_NOT_OK", [f"Документ отгрузки в статусе {shipment['status']}, приёмка невозможна"]
        if body.get("accept_all") and body.get("reject_all"):
            return "CHECKED_NOT_OK", ["Признаки accept_all и reject_all не могут быть указаны одновременно"]
        products = body.get("products")
        if products is None:
            return (
                ("CHECKED_OK", [])
                if body.get("accept_all") or body.get("reject_all")
                else ("CHECKED_NOT_OK", ["Отсутствует обязательное поле: products"])
            )
        errors: list[str] = []
        expected = [cis for cis, _p, _v in self.listed(shipment["id"])]
        self._check_items(products, expected, errors, "products")
        return ("CHECKED_NOT_OK", errors) if errors else ("CHECKED_OK", [])

    def _check_items(self, items: list[dict[str, Any]], expected: list[str], errors: list[str], where: str) -> None:
        given = [item_code(item) for item in items]
        if sorted(given) != sorted(expected):
            missing = sorted(set(expected) - set(given))
            extra = sorted(set(given) - set(expected))
            counts = f"отсутствуют {len(missing)}, лишние {len(extra)}, дубликаты {len(given) - len(set(given))}"
            errors.append(f"Список КИ в {where} не совпадает с документом отгрузки: {counts}")
            return
        for item in items:
            cis = item_code(item)
            if not item["accepted"] and ("product_cost" in item or "product_tax" in item):
                errors.append(f"Для непринятого КИ {cis} не допускаются product_cost и product_tax")
            if item.get("children"):
                self._check_items(item["children"], self.children(cis), errors, f"children of {cis}")

    def _check_cancel(self, body: dict[str, Any], author: str) -> tuple[str, list[str]]:
        shipment = self.doc(body["shipment_number"])
        if shipment is None or shipment["type"] != SHIP:
            return "CHECKED_NOT_OK", [f"Документ отгрузки {body['shipment_number']} не найден"]
        if shipment["sender"] != author or body["participant_inn"] != author:
            return "CHECKED_NOT_OK", ["Отменить отгрузку может только её отправитель"]
        if shipment["status"] != "WAIT_ACCEPTANCE":
            return "CHECKED_NOT_OK", [f"Документ отгрузки в статусе {shipment['status']}, отмена невозможна"]
        return "CHECKED_OK", []

    def _apply(self, doc_id: str) -> None:
        doc = self.doc(doc_id)
        assert doc is not None
        outcome = doc["outcome"]
        body = json.loads(doc["body"])
        if outcome == "CHECKED_OK" and doc["type"] in (ACCEPT, CANCEL):
            shipment = self.doc(doc["related_id"])
            # re-checked now: another document may have settled the shipment in between
            if shipment is None or shipment["status"] != "WAIT_ACCEPTANCE":
                outcome = "CHECKED_NOT_OK"
                self.db.execute(
                    "UPDATE docs SET errors=? WHERE id=?",
                    (json.dumps(["Документ отгрузки уже обработан"], ensure_ascii=False), doc_id),
                )
            elif doc["type"] == CANCEL:
                self.db.execute("UPDATE docs SET status='CANCELLED' WHERE id=?", (shipment["id"],))
            else:
                receiver = doc["sender"]
                if body.get("accept_all"):
                    moved: Iterable[str] = self._with_subtrees([c for c, _p, _v in self.listed(shipment["id"])])
                elif body.get("reject_all"):
                    moved = []
                else:
                    moved = self._accepted(body["products"])
                self._move(moved, receiver)
                self.db.execute("UPDATE docs SET status='ACCEPTED' WHERE id=?", (shipment["id"],))  # [U] partial
        self.db.execute("UPDATE docs SET status=? WHERE id=?", (outcome, doc_id))

    def _with_subtrees(self, codes: Iterable[str]) -> Iterator[str]:
        for cis in codes:
            yield cis
            yield from self.subtree(cis)

    def _accepted(self, items: list[dict[str, Any]]) -> Iterator[str]:
        for item in items:
            cis = item_code(item)
            if item.get("children"):
                if item["accepted"]:
                    yield cis
                yield from self._accepted(item["children"])
            elif item["accepted"]:
                yield from self._with_subtrees([cis])

    def _move(self, codes: Iterable[str], owner: str) -> None:
        batch: list[tuple[str, str]] = []
        for cis in codes:
            batch.append((owner, cis))
            if len(batch) >= 10_000:
                self.db.executemany("UPDATE codes SET owner=? WHERE cis=?", batch)
                batch = []
        self.db.executemany("UPDATE codes SET owner=? WHERE cis=?", batch)
