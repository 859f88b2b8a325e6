"""Outgoing transfer acts: build by scanning what ships, sign, export, and apply the receiver's acceptance.

The life of an outgoing act: draft → signed → sent → accepted | discrepancies | rejected.
- Draft: each scan reserves a code of the stock ledger with everything inside it (`add_code`); what the
  draft holds lives in the ledger itself (`stock_codes.act_id`, status reserved), so there is one truth.
- Signing (`sign`, or `accept_signatures` for NCALayer) builds the `transfer-act/1` document(s) from the
  draft, split at 30,000 codes per document without ever cutting an aggregate, signs their exact bytes,
  freezes the tree into `act_codes` (the act's permanent record, read by reports) and ships the codes.
- Export writes the signed bytes with their detached signature (JSON + .p7s), or the same lines as CSV or
  XLSX; the first export after signing marks the act sent.
- The receiver answers with a signed `transfer-act-acceptance/1` document; `apply_acceptance` verifies it
  first, then returns every refused code to stock (as a loose code when the aggregate it shipped in was
  broken up at the receiver) and sets the final status when every part has been answered.

Concurrency: see services/stock.py; here every write transaction on a draft locks the act row first
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises writers anyway), so signing never races a scan.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, aliased

from warehouse import acts
from warehouse.codes import CodeError, Kind
from warehouse.db import Database
from warehouse.events import STOCK_CHANGED, Event, announce
from warehouse.identifiers import valid_bin
from warehouse.models import (
    AcceptanceReceipt,
    Act,
    ActCode,
    ActPrice,
    MoveKind,
    SignedDocument,
    StockCode,
    StockStatus,
    User,
)
from warehouse.services import audit, importing, stock
from warehouse.services import signing as signing_service
from warehouse.signing import acceptance
from warehouse.signing.certs import CertificateInfo
from warehouse.signing.cms import Verification
from warehouse.signing.errors import SigningError
from warehouse.signing.signers import Signer
from warehouse.signing.trust import SigningSettings, check_for_signing
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus, Direction

FORMAT: Final = acts.FORMAT  # transfer-act/1
ACCEPTANCE: Final = acceptance.FORMAT
MAX_CODES: Final = 30_000  # the operator takes about 30,000 codes per document
PACKS_PER_BLOCK: Final = 10
PRICED_LEVELS: Final = ("block", "pack")
TURNOVERS: Final = ("sale", "commission", "return", "transfer")
EXPORT_FORMATS: Final = ("json", "csv", "xlsx")


class OutgoingStatus(StrEnum):
    """Statuses of an outgoing act (acts.status is 16 characters: "accepted with discrepancies" is stored as
    "discrepancies"; the receiver's decision itself is kept whole on the acceptance receipt)."""

    DRAFT = ActStatus.DRAFT.value
    SIGNED = ActStatus.SIGNED.value
    SENT = ActStatus.SENT.value
    ACCEPTED = "accepted"
    DISCREPANCIES = "discrepancies"
    REJECTED = "rejected"


DECISION_STATUS: Final = {
    "accepted": OutgoingStatus.ACCEPTED,
    "accepted_with_discrepancies": OutgoingStatus.DISCREPANCIES,
    "rejected": OutgoingStatus.REJECTED,
}
AWAITING_ACCEPTANCE: Final = (OutgoingStatus.SIGNED.value, OutgoingStatus.SENT.value)


# --- errors ------------------------------------------------------------------------------------------------------


class ShippingError(Exception):
    """The action was refused and nothing was written; `reason` keys the message."""

    def __init__(self, reason: str, **args: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.args_ = args

    def message(self, lang: str = "ru") -> str:
        return _say(self.reason, lang, self.args_)


def _say(reason: str, lang: str, args: Mapping[str, str]) -> str:
    return stock.say(MESSAGES.get(reason) or stock.MESSAGES.get(reason), reason, lang, args)


MESSAGES: Final[dict[str, dict[str, str]]] = {
    # the act
    "no_act": {"ru": "Акт не найден", "kk": "Акт табылмады", "en": "Act not found"},
    "not_outgoing": {"ru": "Это не акт отгрузки", "kk": "Бұл жөнелту актісі емес", "en": "This is not an outgoing act"},
    "not_draft": {
        "ru": "Акт уже подписан: менять его состав нельзя",
        "kk": "Актіге қол қойылған: құрамын өзгертуге болмайды",
        "en": "The act is signed: what it holds can no longer change",
    },
    "bad_bin": {
        "ru": "БИН/ИИН {bin} неверен: нужно 12 цифр с верной контрольной цифрой",
        "kk": "БСН/ЖСН {bin} қате: бақылау цифры дұрыс 12 цифр керек",
        "en": "БИН/ИИН {bin} is not valid: 12 digits with a correct check digit are needed",
    },
    "no_name": {
        "ru": "Укажите наименование получателя",
        "kk": "Алушының атауын көрсетіңіз",
        "en": "Enter the receiver's name",
    },
    "own_bin": {
        "ru": "Получатель — сама компания: укажите БИН/ИИН получателя",
        "kk": "Алушы — компанияның өзі: алушының БСН/ЖСН көрсетіңіз",
        "en": "The receiver is our own company: enter the receiver's БИН/ИИН",
    },
    "no_company": {
        "ru": "Не заданы наименование и БИН компании-отправителя (WAREHOUSE_COMPANY_NAME, WAREHOUSE_COMPANY_BIN)",
        "kk": "Жөнелтуші компанияның атауы мен БСН көрсетілмеген (WAREHOUSE_COMPANY_NAME, WAREHOUSE_COMPANY_BIN)",
        "en": "The sending company's name and БИН are not configured (WAREHOUSE_COMPANY_NAME, WAREHOUSE_COMPANY_BIN)",
    },
    "bad_company_bin": {
        "ru": "БИН компании-отправителя {bin} неверен: проверьте WAREHOUSE_COMPANY_BIN",
        "kk": "Жөнелтуші компанияның БСН {bin} қате: WAREHOUSE_COMPANY_BIN тексеріңіз",
        "en": "The sending company's БИН {bin} is not valid: check WAREHOUSE_COMPANY_BIN",
    },
    "bad_basis": {
        "ru": "Документ-основание: нужны тип, номер и дата ГГГГ-ММ-ДД ({value})",
        "kk": "Негіздеме құжаты: түрі, нөмірі және ЖЖЖЖ-АА-КК күні керек ({value})",
        "en": "Basis document: a type, a number and a YYYY-MM-DD date are needed ({value})",
    },
    "bad_turnover": {
        "ru": "Неизвестный вид оборота: {value}",
        "kk": "Белгісіз айналым түрі: {value}",
        "en": "Unknown turnover type: {value}",
    },
    "bad_price": {
        "ru": "Цена — целое число тиынов не меньше нуля, для блока или пачки с GTIN из 14 цифр",
        "kk": "Баға — нөлден кем емес тиынның бүтін саны, 14 цифрлы GTIN бар блок не қорап үшін",
        "en": "A price is a whole number of tiyn, not negative, for a block or a pack of a 14-digit GTIN",
    },
    "empty_act": {
        "ru": "В акте нет ни одного кода: подписывать нечего",
        "kk": "Актіде бірде-бір код жоқ: қол қоятын ештеңе жоқ",
        "en": "The act holds no code: there is nothing to sign",
    },
    "too_big": {
        "ru": "{level} {code} содержит {count} кодов, а в документ входит не больше {max}: вскройте его",
        "kk": "{level} {code} ішінде {count} код, ал құжатқа {max} кодтан аспайды: оны ашыңыз",
        "en": "{level} {code} holds {count} codes, more than the {max} a document carries: open it",
    },
    "not_signed": {
        "ru": "Акт ещё не подписан",
        "kk": "Актіге әлі қол қойылмаған",
        "en": "The act is not signed yet",
    },
    "bad_format": {
        "ru": "Формат выгрузки: .json, .csv или .xlsx",
        "kk": "Жүктеу форматы: .json, .csv немесе .xlsx",
        "en": "Export as .json, .csv or .xlsx",
    },
    "changed": stock.MESSAGES["changed"],
    # scanning
    "added": {
        "ru": "Добавлено: {level} {code}{inside}",
        "kk": "Қосылды: {level} {code}{inside}",
        "en": "Added: {level} {code}{inside}",
    },
    "removed": {
        "ru": "Убрано из акта: {level} {code}{inside}",
        "kk": "Актіден алынды: {level} {code}{inside}",
        "en": "Taken off the act: {level} {code}{inside}",
    },
    "empty": {"ru": "Пустое сканирование", "kk": "Бос сканерлеу", "en": "Empty scan"},
    "invalid": {
        "ru": "Код не распознан: {error}",
        "kk": "Код танылмады: {error}",
        "en": "Code not recognised: {error}",
    },
    "product": {
        "ru": "Это штрихкод товара: сканируйте Data Matrix",
        "kk": "Бұл тауардың штрихкоды: Data Matrix-ті сканерлеңіз",
        "en": "This is the product barcode: scan the Data Matrix",
    },
    "not_in_stock": stock.MESSAGES["not_in_stock"],
    "already_shipped": {
        "ru": "Уже отгружен по акту {act}: {level} {code}",
        "kk": "{act} актісімен жөнелтілген: {level} {code}",
        "en": "Already shipped with act {act}: {level} {code}",
    },
    "on_other_draft": {
        "ru": "Уже в другом акте отгрузки {act}: {level} {code}",
        "kk": "Басқа жөнелту актісінде тұр {act}: {level} {code}",
        "en": "Already on another outgoing act {act}: {level} {code}",
    },
    "on_this_act": {
        "ru": "Уже в этом акте: {level} {code}",
        "kk": "Осы актіде бар: {level} {code}",
        "en": "Already on this act: {level} {code}",
    },
    "inside_on_this_act": {
        "ru": "Уже в этом акте в составе {parent_level} {parent}",
        "kk": "Осы актіде {parent_level} {parent} құрамында бар",
        "en": "Already on this act inside {parent_level} {parent}",
    },
    "inside_aggregate": {
        "ru": "{level} {code} лежит в {parent_level} {parent}: вскройте его или отгрузите целиком",
        "kk": "{level} {code} {parent_level} {parent} ішінде: оны ашыңыз немесе толығымен жөнелтіңіз",
        "en": "{level} {code} is inside {parent_level} {parent}: open it first or ship it whole",
    },
    "opened": {
        "ru": "{level} {code} вскрыт: сканируйте его содержимое",
        "kk": "{level} {code} ашылған: ішіндегісін сканерлеңіз",
        "en": "{level} {code} was opened: scan what was inside it",
    },
    "not_on_act": {
        "ru": "Этого кода нет в акте: {code}",
        "kk": "Бұл код актіде жоқ: {code}",
        "en": "This code is not on the act: {code}",
    },
    "remove_parent": {
        "ru": "{level} {code} в акте в составе {parent_level} {parent}: уберите его целиком",
        "kk": "{level} {code} актіде {parent_level} {parent} құрамында: соны толығымен алыңыз",
        "en": "{level} {code} is on the act inside {parent_level} {parent}: take that off whole",
    },
    # the receiver's acceptance
    "not_acceptance": {
        "ru": "Файл не является документом приёмки transfer-act-acceptance/1",
        "kk": "Файл transfer-act-acceptance/1 қабылдау құжаты емес",
        "en": "The file is not a transfer-act-acceptance/1 document",
    },
    "wrong_act": {
        "ru": "Документ приёмки относится к акту {number} от {date}, а не к этому",
        "kk": "Қабылдау құжаты осы актіге емес, {date} күнгі {number} актіге қатысты",
        "en": "The acceptance is for act {number} of {date}, not this one",
    },
    "unknown_code": {
        "ru": "В документе приёмки код, которого нет в этом акте: {code}",
        "kk": "Қабылдау құжатында осы актіде жоқ код бар: {code}",
        "en": "The acceptance lists a code that is not on this act: {code}",
    },
    "already_applied": {
        "ru": "Эта часть приёмки уже применена",
        "kk": "Қабылдаудың бұл бөлігі қолданылған",
        "en": "This part of the acceptance has already been applied",
    },
    "act_closed": {
        "ru": "По акту уже получен ответ получателя",
        "kk": "Акт бойынша алушының жауабы алынған",
        "en": "The receiver's answer to this act is already in",
    },
    "wrong_signer": {
        "ru": "Документ подписан организацией с БИН {bin}, а получатель — {receiver}",
        "kk": "Құжатқа БСН {bin} ұйымы қол қойған, ал алушы — {receiver}",
        "en": "The document is signed by the organisation with БИН {bin}, but the receiver is {receiver}",
    },
    "other_file": {
        "ru": "Получатель принял не подписанный JSON, а другую выгрузку этого акта",
        "kk": "Алушы қол қойылған JSON емес, осы актінің басқа жүктемесін қабылдаған",
        "en": "The receiver imported another export of this act, not the signed JSON",
    },
}


# --- the company and new acts -------------------------------------------------------------------------------


def company(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> acts.Party | None:
    """Our company as the sender: COMPANY_NAME / COMPANY_BIN from the Flask config, else WAREHOUSE_COMPANY_NAME /
    WAREHOUSE_COMPANY_BIN from the environment; None when neither names it (`new_act` then falls back to the
    receiver of the latest incoming act: what we received was addressed to us)."""
    env = os.environ if environ is None else environ
    name = config.get("COMPANY_NAME") or env.get("WAREHOUSE_COMPANY_NAME")
    bin_ = config.get("COMPANY_BIN") or env.get("WAREHOUSE_COMPANY_BIN")
    if name and bin_:
        return acts.Party(str(name).strip(), str(bin_).strip())
    return None


@dataclass(frozen=True)
class Basis:
    type: str
    number: str
    date: str | None = None  # ISO; the act's date when not given


def parse_basis(value: str) -> Basis:
    """`TYPE:NUMBER[:YYYY-MM-DD]`, as the CLI takes it. Raises ShippingError "bad_basis"."""
    parts = value.split(":")
    if len(parts) not in (2, 3):
        raise ShippingError("bad_basis", value=value)
    return Basis(parts[0].strip(), parts[1].strip(), parts[2].strip() if len(parts) == 3 else None)


def _checked_basis(items: Sequence[Basis], on: date) -> list[dict[str, str]]:
    out = []
    for b in items:
        when = b.date or on.isoformat()
        try:
            date.fromisoformat(when)
        except ValueError:
            raise ShippingError("bad_basis", value=f"{b.type}:{b.number}:{when}") from None
        if (
            not b.type
            or not b.number
            or len(b.type) > acts.MAX_SHORT_TEXT
            or len(b.number) > acts.MAX_NUMBER
            or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", when)
        ):
            raise ShippingError("bad_basis", value=f"{b.type}:{b.number}:{when}")
        out.append({"type": b.type, "number": b.number, "date": when})
    return out


def _sender(s: Session, sender: acts.Party | None) -> acts.Party:
    if sender is None:
        row = s.execute(
            select(Act.receiver_name, Act.receiver_bin)
            .where(Act.direction == Direction.INCOMING)
            .order_by(Act.id.desc())
            .limit(1)
        ).first()
        if row is None:
            raise ShippingError("no_company")
        sender = acts.Party(row.receiver_name, row.receiver_bin)
    if not valid_bin(sender.bin):
        raise ShippingError("bad_company_bin", bin=sender.bin)
    return sender


def new_act(
    db: Database,
    *,
    receiver_bin: str,
    receiver_name: str,
    sender: acts.Party | None = None,
    basis: Sequence[Basis] = (),
    turnover: str = "sale",
    user: User | None = None,
    actor: str | None = None,
    on: date | None = None,
) -> Act:
    """A new draft outgoing act numbered ТА-<id>. Raises ShippingError "bad_bin", "no_name", "own_bin",
    "no_company", "bad_company_bin", "bad_basis", "bad_turnover"."""
    receiver_bin, receiver_name = receiver_bin.strip(), " ".join(receiver_name.split())
    if not valid_bin(receiver_bin):
        raise ShippingError("bad_bin", bin=receiver_bin)
    if not receiver_name or len(receiver_name) > acts.MAX_NAME:
        raise ShippingError("no_name")
    if turnover not in TURNOVERS:
        raise ShippingError("bad_turnover", value=turnover)
    day = on or date.today()  # the station's own calendar day: the act is dated where it is signed
    documents = _checked_basis(basis, day)
    with db.write() as s:
        party = _sender(s, sender)
        if party.bin == receiver_bin:
            raise ShippingError("own_bin")
        act = Act(
            direction=Direction.OUTGOING.value,
            number=f"draft-{uuid.uuid4().hex}",
            date=day,
            sender_name=party.name,
            sender_bin=party.bin,
            receiver_name=receiver_name,
            receiver_bin=receiver_bin,
            basis=documents,
            turnover=turnover,
            status=OutgoingStatus.DRAFT.value,
            created_by=user.id if user else None,
        )
        s.add(act)
        s.flush()
        act.number = f"ТА-{act.id:06d}"
        s.flush()
        audit.record(
            s,
            "act.created",
            user=user,
            actor=actor,
            act_id=act.id,
            details={
                "direction": "outgoing",
                "number": act.number,
                "receiver_bin": receiver_bin,
                "receiver_name": receiver_name,
                "basis": documents,
                "turnover": turnover,
            },
        )
        return act


def find_act(s: Session, ref: str | int) -> Act:
    """An outgoing act by id, or by number. Raises ShippingError "no_act", "not_outgoing"."""
    try:
        act = stock._find_act(s, ref)
    except stock.StockError:
        raise ShippingError("no_act") from None
    if act.direction != Direction.OUTGOING:
        raise ShippingError("not_outgoing")
    return act


def _draft(s: Session, ref: str | int) -> Act:
    act = find_act(s, ref)
    act = s.get(Act, act.id, with_for_update=True) or act  # PostgreSQL: this act's writers take turns
    s.refresh(act)
    if act.status != OutgoingStatus.DRAFT:
        raise ShippingError("not_draft")
    return act


# --- scanning what ships -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddResult:
    """What became of one scan at the shipping dock."""

    input: str
    added: bool
    reason: str
    args: dict[str, str] = field(default_factory=dict)
    codes: int = 0  # codes reserved (or released) with it, itself included
    error: CodeError | None = None

    @property
    def scan_class(self) -> str:
        return "added" if self.added else "refused"

    def message(self, lang: str = "ru") -> str:
        args = dict(self.args)
        if self.error is not None:
            args["error"] = self.error.message(lang)
        inside = self.codes - 1
        args["inside"] = stock_inside(inside, lang) if inside > 0 else ""
        return _say(self.reason, lang, args)

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        return {
            "input": self.input,
            "class": self.scan_class,
            "message": self.message(lang),
            "reason": self.reason,
            "code": self.args.get("code"),
            "level": self.args.get("level") or None,
            "codes": self.codes,
        }


def stock_inside(n: int, lang: str) -> str:
    return {"ru": f" (с содержимым: {n})", "kk": f" (ішіндегісімен: {n})"}.get(lang, f" (with {n} inside)")


class _Changed(Exception):
    """A compare-and-set found fewer rows than expected: another station got there first."""


def add_code(
    db: Database,
    act_ref: str | int,
    raw: str,
    *,
    user: User | None = None,
    station: str | None = None,
    actor: str | None = None,
    gs_substitutes: Sequence[str] | None = None,
) -> AddResult:
    """Put one scanned code (any level) on a draft with everything inside it, or say why not.

    Refusals (nothing written): empty, invalid, product, not_in_stock, already_shipped, opened,
    on_other_draft, on_this_act, inside_on_this_act, inside_aggregate, changed (another station reserved
    or opened it at the same moment). Raises ShippingError for the act itself ("no_act", "not_draft", …).
    """
    if not raw.strip():
        return AddResult(raw, False, "empty")
    parsed, identity = stock.identity_of(raw, gs_substitutes)
    at = utcnow()
    try:
        with db.write() as s:
            act = _draft(s, act_ref)
            if parsed.kind is Kind.PRODUCT:
                return AddResult(raw, False, "product")
            if not parsed.ok or parsed.identity is None:
                return AddResult(raw, False, "invalid", error=parsed.error)
            row = s.execute(select(StockCode).where(StockCode.identity == identity)).scalar()
            refusal = _refusal(s, act, row, raw, parsed.normalized or raw)
            if refusal is not None or row is None:
                return refusal or AddResult(raw, False, "not_in_stock", {"code": raw})
            args = {"code": row.code, "level": row.level}
            conn = s.connection()
            # Compare-and-set, root first: it must still be in stock, loose and on no act.
            if (
                conn.execute(
                    update(StockCode)
                    .where(
                        StockCode.id == row.id,
                        StockCode.status == StockStatus.IN_STOCK,
                        StockCode.parent_id.is_(None),
                        StockCode.act_id.is_(None),
                    )
                    .values(status=StockStatus.RESERVED.value, act_id=act.id, updated_at=at)
                ).rowcount
                != 1
            ):
                raise _Changed
            expected = stock.count_subtree(s, row.id) - 1
            if (
                expected
                and conn.execute(
                    update(StockCode)
                    .where(
                        StockCode.id.in_(stock.subtree(row.id)),
                        StockCode.id != row.id,
                        StockCode.status == StockStatus.IN_STOCK,
                        StockCode.act_id.is_(None),
                    )
                    .values(status=StockStatus.RESERVED.value, act_id=act.id, updated_at=at)
                ).rowcount
                != expected
            ):
                raise _Changed
            stock.move(
                s,
                stock.subtree(row.id),
                MoveKind.RESERVED,
                act_id=act.id,
                user_id=user.id if user else None,
                station=station,
                at=at,
            )
            audit.record(
                s,
                "act.code_added",
                user=user,
                actor=actor,
                act_id=act.id,
                details={"code": row.code, "level": row.level, "codes": expected + 1, "station": station},
            )
            announce(s, Event(act.id, "codes"), STOCK_CHANGED)
            return AddResult(raw, True, "added", args, expected + 1)
    except _Changed:
        return AddResult(raw, False, "changed")


def _refusal(s: Session, act: Act, row: StockCode | None, raw: str, code: str) -> AddResult | None:
    if row is None:
        return AddResult(raw, False, "not_in_stock", {"code": code})
    args = {"code": row.code, "level": row.level}
    if row.status == StockStatus.SHIPPED:
        return AddResult(raw, False, "already_shipped", {**args, "act": stock._act_number(s, row.act_id)})
    if row.status == StockStatus.DISAGGREGATED:
        return AddResult(raw, False, "opened", args)
    parent = s.get(StockCode, row.parent_id) if row.parent_id is not None else None
    if row.status == StockStatus.RESERVED:
        if row.act_id != act.id:
            return AddResult(raw, False, "on_other_draft", {**args, "act": stock._act_number(s, row.act_id)})
        if parent is not None:
            return AddResult(
                raw, False, "inside_on_this_act", {**args, "parent": parent.code, "parent_level": parent.level}
            )
        return AddResult(raw, False, "on_this_act", args)
    if parent is not None:
        return AddResult(raw, False, "inside_aggregate", {**args, "parent": parent.code, "parent_level": parent.level})
    return None


def remove_code(
    db: Database,
    act_ref: str | int,
    raw: str,
    *,
    user: User | None = None,
    station: str | None = None,
    actor: str | None = None,
    gs_substitutes: Sequence[str] | None = None,
) -> AddResult:
    """Take a code (with what is inside it) off a draft: it is in stock again. `added` is True when it was."""
    _parsed, identity = stock.identity_of(raw, gs_substitutes)
    at = utcnow()
    try:
        with db.write() as s:
            act = _draft(s, act_ref)
            row = s.execute(select(StockCode).where(StockCode.identity == identity)).scalar()
            if row is None or row.act_id != act.id or row.status != StockStatus.RESERVED:
                return AddResult(raw, False, "not_on_act", {"code": row.code if row else raw.strip()})
            args = {"code": row.code, "level": row.level}
            if row.parent_id is not None:
                parent = s.get(StockCode, row.parent_id)
                return AddResult(
                    raw,
                    False,
                    "remove_parent",
                    {**args, "parent": parent.code if parent else "", "parent_level": parent.level if parent else ""},
                )
            expected = stock.count_subtree(s, row.id)
            stock.move(
                s,
                stock.subtree(row.id),
                MoveKind.RELEASED,
                act_id=act.id,
                user_id=user.id if user else None,
                station=station,
                at=at,
            )
            if (
                s.connection()
                .execute(
                    update(StockCode)
                    .where(
                        StockCode.id.in_(stock.subtree(row.id)),
                        StockCode.status == StockStatus.RESERVED,
                        StockCode.act_id == act.id,
                    )
                    .values(status=StockStatus.IN_STOCK.value, act_id=None, updated_at=at)
                )
                .rowcount
                != expected
            ):
                raise _Changed
            audit.record(
                s,
                "act.code_removed",
                user=user,
                actor=actor,
                act_id=act.id,
                details={"code": row.code, "level": row.level, "codes": expected, "station": station},
            )
            announce(s, Event(act.id, "codes"), STOCK_CHANGED)
            return AddResult(raw, True, "removed", args, expected)
    except _Changed:
        return AddResult(raw, False, "changed")


def set_price(
    db: Database,
    act_ref: str | int,
    gtin: str,
    level: str,
    price: int | None,
    *,
    user: User | None = None,
    actor: str | None = None,
) -> None:
    """The price of a GTIN's blocks or packs on a draft, in tiyn (None clears it). Raises ShippingError."""
    if (
        level not in PRICED_LEVELS
        or not re.fullmatch(r"\d{14}", gtin)
        or (price is not None and not 0 <= price <= acts.MAX_PRICE)
    ):
        raise ShippingError("bad_price")
    with db.write() as s:
        act = _draft(s, act_ref)
        s.execute(delete(ActPrice).where(ActPrice.act_id == act.id, ActPrice.gtin == gtin, ActPrice.level == level))
        if price is not None:
            s.add(ActPrice(act_id=act.id, gtin=gtin, level=level, price=price))
        s.flush()
        audit.record(
            s,
            "act.price_set",
            user=user,
            actor=actor,
            act_id=act.id,
            details={"gtin": gtin, "level": level, "price": price},
        )
        announce(s, Event(act.id, "codes"))


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
    if act.status == OutgoingStatus.DRAFT:
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
    levels = dict.fromkeys(stock.LEVELS, 0)
    per: dict[str, dict[str, int]] = {}
    names: dict[str, str | None] = {}
    undeclared = 0
    for gtin, level, declared, parent_level, n, name in s.execute(stmt):
        levels[level] = levels.get(level, 0) + n
        if level in ("box", "pallet") and not declared:
            undeclared += n
        if not gtin:
            continue
        g = per.setdefault(gtin, {"blocks": 0, "packs": 0, "implied": 0, "in_blocks": 0})
        names[gtin] = names.get(gtin) or name
        if level == "block":
            g["blocks"] += n
            if not declared:
                g["implied"] += n * PACKS_PER_BLOCK
        elif level == "pack":
            g["packs"] += n
            if parent_level == "block":
                g["in_blocks"] += n
    price = prices(s, act.id)
    lines = []
    for gtin, g in sorted(per.items()):
        block_price, pack_price = price.get((gtin, "block")), price.get((gtin, "pack"))
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
    documents = _transfer_documents(s, act.id)
    parts = [
        PartInfo(
            doc.part,
            part_number(act.number, doc.part, len(documents)),
            _count_lines(doc.content),
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


def roots(s: Session, act_id: int, limit: int = 500) -> list[tuple[str, str]]:
    """(code, level) of what was scanned onto a draft, newest first: the codes at the top of its tree."""
    return [
        (code, level)
        for code, level in s.execute(
            select(StockCode.code, StockCode.level)
            .where(StockCode.act_id == act_id, StockCode.status == StockStatus.RESERVED, StockCode.parent_id.is_(None))
            .order_by(StockCode.updated_at.desc(), StockCode.id.desc())
            .limit(limit)
        )
    ]


def drafts(s: Session, limit: int = 200) -> list[Act]:
    return list(
        s.execute(select(Act).where(Act.direction == Direction.OUTGOING).order_by(Act.id.desc()).limit(limit)).scalars()
    )


# --- the documents ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferDocument:
    part: int
    parts: int
    number: str
    codes: int
    content: bytes  # the exact bytes that are signed and sent
    sha256: str


def _pad(dialect: str, column: str) -> str:
    # Zero-padded ids concatenate into a path whose text order is the tree's preorder.
    return f"printf('%012d', {column})" if dialect == "sqlite" else f"lpad(CAST({column} AS text), 12, '0')"


def _roots(s: Session, act_id: int) -> list[tuple[int, int, str, str]]:
    """(root id, codes in its subtree, code, level) of a draft, in id order."""
    return [
        (int(r[0]), int(r[1]), r[2], r[3])
        for r in s.execute(
            text(
                "WITH RECURSIVE t(id, root) AS ("
                " SELECT id, id FROM stock_codes WHERE act_id = :act AND status = :st AND parent_id IS NULL"
                " UNION ALL SELECT c.id, t.root FROM stock_codes c JOIN t ON c.parent_id = t.id WHERE c.act_id = :act)"
                " SELECT t.root, count(*), r.code, r.level FROM t JOIN stock_codes r ON r.id = t.root"
                " GROUP BY t.root, r.code, r.level ORDER BY t.root"
            ),
            {"act": act_id, "st": StockStatus.RESERVED.value},
        )
    ]


def _kind(level: str, code: str) -> Kind:
    if level == "pack":
        return Kind.PACK
    if level == "block":
        return Kind.BLOCK
    return Kind.SSCC if re.fullmatch(r"00\d{18}", code) else Kind.AGGREGATE


def _lines(s: Session, act_id: int) -> Iterator[tuple[int | None, acts.ActLine]]:
    """A draft's codes in preorder, as act lines; the first item is the root id on a root line."""
    pad = _pad(s.get_bind().dialect.name, "id")
    pad_c = _pad(s.get_bind().dialect.name, "c.id")
    rows = s.execute(
        text(
            f"WITH RECURSIVE t(id, path) AS ("  # noqa: S608 - constant SQL: no user input is formatted in
            f" SELECT id, {pad} FROM stock_codes WHERE act_id = :act AND status = :st AND parent_id IS NULL"
            f" UNION ALL SELECT c.id, t.path || {pad_c} FROM stock_codes c JOIN t ON c.parent_id = t.id"
            f" WHERE c.act_id = :act)"
            " SELECT s.id, s.identity, s.code, s.level, s.gtin, s.name, s.declared_children, p.identity, ap.price"
            " FROM t JOIN stock_codes s ON s.id = t.id LEFT JOIN stock_codes p ON p.id = s.parent_id"
            " LEFT JOIN act_prices ap ON ap.act_id = :act AND ap.gtin = s.gtin AND ap.level = s.level"
            " ORDER BY t.path"
        ).execution_options(yield_per=20_000),
        {"act": act_id, "st": StockStatus.RESERVED.value},
    )
    for code_id, identity, code, level, gtin, name, declared, parent, price in rows:
        line = acts.ActLine(
            "",
            code,
            identity,
            _kind(level, code),
            acts.Level(level),
            parent,
            gtin,
            name,
            int(price) if price is not None else None,
            None,
            bool(declared) and level != "pack",
        )
        yield (code_id if parent is None else None), line


def _header(act: Act, number: str) -> acts.ActHeader:
    basis = tuple(
        acts.BasisDocument(str(b.get("type", "")), str(b.get("number", "")), str(b.get("date", "")))
        for b in (act.basis or [])
        if isinstance(b, dict)
    )
    return acts.ActHeader(
        FORMAT,
        number,
        act.date,
        acts.Party(act.sender_name, act.sender_bin),
        acts.Party(act.receiver_name, act.receiver_bin),
        basis,
        act.turnover,
    )


def part_number(number: str, part: int, parts: int) -> str:
    """Each part travels as an act of its own: ТА-000042/2 when there are several."""
    return number if parts == 1 else f"{number}/{part}"


def _documents(s: Session, act: Act, max_codes: int) -> list[TransferDocument]:
    roots = _roots(s, act.id)
    if not roots:
        raise ShippingError("empty_act")
    part_of: dict[int, int] = {}
    part, filled = 0, 0
    for root_id, n, code, level in roots:
        if n > max_codes:
            raise ShippingError("too_big", code=code, level=level, count=str(n), max=str(max_codes))
        if filled and filled + n > max_codes:
            part, filled = part + 1, 0
        part_of[root_id] = part
        filled += n
    parts = part + 1
    documents: list[TransferDocument] = []
    with tempfile.TemporaryDirectory(prefix="warehouse-act-") as folder:
        path = Path(folder) / "part.json"

        def render(index: int, lines: list[acts.ActLine]) -> None:
            number = part_number(act.number, index + 1, parts)
            acts.write_json(path, _header(act, number), lines)
            content = path.read_bytes()
            documents.append(
                TransferDocument(index + 1, parts, number, len(lines), content, hashlib.sha256(content).hexdigest())
            )

        current, lines = 0, list[acts.ActLine]()
        for root, line in _lines(s, act.id):
            if root is not None and part_of[root] != current:
                render(current, lines)
                current, lines = part_of[root], []
            lines.append(line)
        render(current, lines)
    return documents


@dataclass(frozen=True)
class Prepared:
    act_id: int
    number: str
    documents: list[TransferDocument]


def prepare(db: Database, ref: str | int, *, max_codes: int = MAX_CODES) -> Prepared:
    """The transfer-act document(s) a draft would be signed as. Deterministic for the same draft.
    Raises ShippingError "no_act", "not_outgoing", "not_draft", "empty_act", "too_big"."""
    with db.read() as s:
        act = find_act(s, ref)
        if act.status != OutgoingStatus.DRAFT:
            raise ShippingError("not_draft")
        return Prepared(act.id, act.number, _documents(s, act, max_codes))


@dataclass(frozen=True)
class SignOutcome:
    act_id: int
    number: str
    documents: list[TransferDocument]
    certificate: CertificateInfo
    warnings: tuple[str, ...]


def _verify(settings: SigningSettings, content: bytes, signature: bytes) -> Verification:
    """The one call into the signing service's verification (issue 7): a detached CMS over exact bytes."""
    return signing_service.verify(settings, content, signature)


def sign(
    db: Database,
    ref: str | int,
    signer: Signer,
    *,
    settings: SigningSettings,
    user: User | None = None,
    actor: str | None = None,
    max_codes: int = MAX_CODES,
) -> SignOutcome:
    """Sign a draft with a server-side signer (PKCS#12 key file, NCANode): documents, signatures, codes shipped.
    Raises SigningError or ShippingError; nothing is written then."""
    warnings = check_for_signing(signer.certificate, settings, signer.chain)
    prepared = prepare(db, ref, max_codes=max_codes)
    try:
        signatures = [signer.sign(doc.content) for doc in prepared.documents]
    finally:
        close = getattr(signer, "close", None)
        if callable(close):
            close()
    fingerprint = CertificateInfo.from_certificate(signer.certificate).fingerprint_sha256
    for doc, signature in zip(prepared.documents, signatures, strict=True):
        check = _verify(settings, doc.content, signature)
        broken = [p for p in check.problems if p in signing_service.SIGNATURE_PROBLEMS - {"gost_unsupported"}]
        if broken or check.info is None or check.info.fingerprint_sha256 != fingerprint:
            raise SigningError(broken[0] if broken else "signer_mismatch")
    return _store(db, prepared, signatures, signer.certificate, warnings, user, actor, max_codes, signer.backend)


def accept_signatures(
    db: Database,
    ref: str | int,
    signatures: Sequence[bytes],
    *,
    settings: SigningSettings,
    user: User | None = None,
    actor: str | None = None,
    backend: str = "ncalayer",
    max_codes: int = MAX_CODES,
) -> SignOutcome:
    """Store signatures made in the browser (NCALayer) over the documents `prepare` gives now: each must
    verify against its part, all with one certificate that may sign here. Raises SigningError."""
    prepared = prepare(db, ref, max_codes=max_codes)
    certificate, warnings = signing_service.posted_signer(settings, [d.content for d in prepared.documents], signatures)
    return _store(db, prepared, list(signatures), certificate, warnings, user, actor, max_codes, backend)


def _freeze(s: Session, act_id: int) -> None:
    """Copy the draft's tree into act_codes: the act's permanent record (reports, totals after signing)."""
    conn = s.connection()
    params = {"act": act_id, "st": StockStatus.RESERVED.value}
    conn.execute(
        text(
            "INSERT INTO act_codes (act_id, parent_id, identity, code, level, gtin, name, price, vat, "
            "declared_children,"
            " credited_scan_id, pos, last)"
            " SELECT :act, NULL, s.identity, s.code, s.level, s.gtin, s.name, ap.price, NULL, s.declared_children,"
            " NULL, NULL, NULL FROM stock_codes s"
            " LEFT JOIN act_prices ap ON ap.act_id = :act AND ap.gtin = s.gtin AND ap.level = s.level"
            " WHERE s.act_id = :act AND s.status = :st ORDER BY s.id"
        ),
        params,
    )
    conn.execute(
        text(
            "UPDATE act_codes SET parent_id = (SELECT pa.id FROM stock_codes sc"
            " JOIN stock_codes sp ON sp.id = sc.parent_id"
            " JOIN act_codes pa ON pa.act_id = :act AND pa.identity = sp.identity"
            " WHERE sc.identity = act_codes.identity) WHERE act_id = :act"
        ),
        {"act": act_id},
    )
    importing.number_tree(conn, act_id)
    conn.execute(
        text(
            "INSERT INTO act_counters (act_id, level, gtin, expected, credited) "
            "SELECT act_id, level, coalesce(gtin, ''), count(*), 0 FROM act_codes WHERE act_id = :act "
            "GROUP BY act_id, level, coalesce(gtin, '')"
        ),
        {"act": act_id},
    )


def _store(
    db: Database,
    prepared: Prepared,
    signatures: list[bytes],
    certificate: x509.Certificate,
    warnings: tuple[str, ...],
    user: User | None,
    actor: str | None,
    max_codes: int,
    backend: str,
) -> SignOutcome:
    info = CertificateInfo.from_certificate(certificate)
    der = certificate.public_bytes(Encoding.DER)
    at = utcnow()
    with db.write() as s:
        act = _draft(s, prepared.act_id)
        documents = _documents(s, act, max_codes)
        if [d.sha256 for d in documents] != [d.sha256 for d in prepared.documents]:
            raise SigningError("stale_document")  # a scan changed the draft while it was being signed
        expected = sum(d.codes for d in documents)
        _freeze(s, act.id)
        stock.move(
            s,
            select(StockCode.id).where(StockCode.act_id == act.id, StockCode.status == StockStatus.RESERVED),
            MoveKind.SHIPPED,
            act_id=act.id,
            user_id=user.id if user else None,
            station=None,
            at=at,
        )
        shipped = (
            s.connection()
            .execute(
                update(StockCode)
                .where(StockCode.act_id == act.id, StockCode.status == StockStatus.RESERVED)
                .values(status=StockStatus.SHIPPED.value, updated_at=at)
            )
            .rowcount
        )
        if shipped != expected:
            raise ShippingError("changed")
        rows = []
        for doc, signature in zip(documents, signatures, strict=True):
            row = SignedDocument(
                act_id=act.id,
                kind=FORMAT,
                part=doc.part,
                content=doc.content,
                signature=signature,
                certificate=der,
                signer=(info.name or info.subject or "")[:300],
                signer_iin=info.iin,
                signer_bin=info.bin,
                cert_sha256=info.fingerprint_sha256,
                user_id=user.id if user else None,
            )
            s.add(row)
            rows.append(row)
        act.status = OutgoingStatus.SIGNED.value
        s.flush()
        audit.record(
            s,
            "act.signed",
            user=user,
            actor=actor,
            act_id=act.id,
            details={
                "kind": FORMAT,
                "parts": len(rows),
                "codes": expected,
                "backend": backend,
                "signer": info.name,
                "iin": info.iin,
                "bin": info.bin,
                "certificate_sha256": info.fingerprint_sha256,
                "documents": [
                    {"id": r.id, "part": d.part, "number": d.number, "codes": d.codes, "sha256": d.sha256}
                    for r, d in zip(rows, documents, strict=True)
                ],
                "warnings": list(warnings),
            },
        )
        announce(s, Event(act.id, "status"), STOCK_CHANGED)
        return SignOutcome(act.id, act.number, documents, info, warnings)


# --- export ---------------------------------------------------------------------------------------------------


def _transfer_documents(s: Session, act_id: int) -> list[SignedDocument]:
    return list(
        s.execute(
            select(SignedDocument)
            .where(SignedDocument.act_id == act_id, SignedDocument.kind == FORMAT)
            .order_by(SignedDocument.part)
        ).scalars()
    )


def _document_head(content: bytes) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _count_lines(content: bytes) -> int:
    # Our writer puts every line on its own: `{"code": …`; the header has no "code" key. No JSON parse needed.
    return content.count(b'{"code": ')


@dataclass(frozen=True)
class ExportFile:
    name: str
    data: bytes
    mimetype: str


_MIME: Final = {
    "json": "application/json",
    "p7s": "application/pkcs7-signature",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _table(content: bytes, fmt: str) -> bytes:
    """The same lines as CSV or XLSX: the signed JSON is read back, so there is one source of truth."""
    with tempfile.TemporaryDirectory(prefix="warehouse-export-") as folder:
        source, target = Path(folder) / "act.json", Path(folder) / f"act.{fmt}"
        source.write_bytes(content)
        reader = acts.read_act(source)
        (acts.write_csv if fmt == "csv" else acts.write_xlsx)(target, reader.header, reader.lines())
        return target.read_bytes()


def export_files(
    db: Database, ref: str | int, fmt: str, stem: str | None = None, part: int | None = None
) -> list[ExportFile]:
    """The files of a signed act: per part `stem.json` + `stem.p7s` (the signed bytes and their signature), or
    `stem.csv` / `stem.xlsx`; `stem.N.…` when there are several parts. Raises ShippingError."""
    if fmt not in EXPORT_FORMATS:
        raise ShippingError("bad_format")
    with db.read() as s:
        act = find_act(s, ref)
        documents = _transfer_documents(s, act.id)
        if not documents:
            raise ShippingError("not_signed")
        base = stem or file_stem(act.number)
    out = []
    for doc in documents:
        if part is not None and doc.part != part:
            continue
        name = base if len(documents) == 1 else f"{base}.{doc.part}"
        if fmt == "json":
            out += [
                ExportFile(f"{name}.json", doc.content, _MIME["json"]),
                ExportFile(f"{name}.p7s", doc.signature, _MIME["p7s"]),
            ]
        else:
            out.append(ExportFile(f"{name}.{fmt}", _table(doc.content, fmt), _MIME[fmt]))
    return out


def file_stem(number: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in number)
    return f"act-{safe}"


def mark_exported(
    db: Database, ref: str | int, files: Sequence[str], *, user: User | None = None, actor: str | None = None
) -> str:
    """Record an export; the first one of a signed act marks it sent. Returns the act's status."""
    with db.write() as s:
        act = find_act(s, ref)
        act = s.get(Act, act.id, with_for_update=True) or act
        s.refresh(act)
        if act.status == OutgoingStatus.SIGNED:
            act.status = OutgoingStatus.SENT.value
            audit.record(s, "act.sent", user=user, actor=actor, act_id=act.id, details={"files": list(files)})
        else:
            audit.record(s, "act.exported", user=user, actor=actor, act_id=act.id, details={"files": list(files)})
        announce(s, Event(act.id, "status"))
        return act.status


def export(
    db: Database, ref: str | int, out: Path, *, user: User | None = None, actor: str | None = None
) -> list[Path]:
    """Write a signed act beside `out` by its extension (.json also writes .p7s); returns the files written."""
    fmt = out.suffix.lower().lstrip(".")
    files = export_files(db, ref, fmt, stem=out.stem)
    written = []
    for f in files:
        target = out.with_name(f.name)
        partial = target.with_name(f".{target.name}.part")
        try:
            partial.write_bytes(f.data)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        written.append(target)
    mark_exported(db, ref, [p.name for p in written], user=user, actor=actor)
    return written


# --- the receiver's acceptance ---------------------------------------------------------------------------------


def verify_acceptance(settings: SigningSettings, content: bytes, signature: bytes) -> Verification:
    """Check the receiver's signature before anything is applied. Every problem refuses (whose signature it is
    must be known: a trusted CA is required); in strict mode an expired or revoked certificate too.
    Raises SigningError."""
    result = _verify(settings, content, signature)
    if result.problems:
        raise SigningError(result.problems[0], certificate=result.info)
    if settings.strict:
        for refused in ("revoked", "expired", "not_yet_valid"):
            if refused in result.warnings:
                raise SigningError(refused, certificate=result.info)
    return result


@dataclass(frozen=True)
class SurplusCode:
    code: str
    accepted: bool
    ours: bool  # still in our stock: it travelled without being on the act


@dataclass(frozen=True)
class ApplyResult:
    act_id: int
    number: str
    status: str
    decision: str
    transfer_part: int
    part: int
    parts: int
    returned: int  # codes back in stock
    returned_codes: list[str]  # the refused codes themselves (each with what is inside it)
    broken_up: list[str]  # aggregates the receiver took only part of
    surplus: list[SurplusCode]
    signer: CertificateInfo | None
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.act_id,
            "number": self.number,
            "status": self.status,
            "decision": self.decision,
            "transfer_part": self.transfer_part,
            "part": self.part,
            "parts": self.parts,
            "returned": self.returned,
            "returned_codes": self.returned_codes,
            "broken_up": self.broken_up,
            "surplus": [{"code": c.code, "accepted": c.accepted, "ours": c.ours} for c in self.surplus],
            "signer": self.signer.summary() if self.signer else None,
            "warnings": list(self.warnings),
        }


@dataclass
class _Answer:
    decision: str
    number: str
    date: str
    sender_bin: str
    receiver_bin: str
    source_sha256: str | None
    part: int
    parts: int
    nodes: list[tuple[str, bool, bool]]  # (code, accepted, listed with children), preorder
    surplus: list[tuple[str, bool]]


def _read_answer(content: bytes) -> _Answer:
    try:
        data = json.loads(content.decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != ACCEPTANCE:
            raise ValueError("format")
        ref = data["act"]
        decision = str(data["decision"])
        if decision not in DECISION_STATUS:
            raise ValueError("decision")
        nodes: list[tuple[str, bool, bool]] = []

        def walk(items: Any) -> None:
            if not isinstance(items, list):
                raise TypeError("products")
            for node in items:
                children = node.get("children")
                if not isinstance(node["code"], str) or not isinstance(node["accepted"], bool):
                    raise TypeError("node")
                nodes.append((node["code"], node["accepted"], children is not None))
                if children is not None:
                    walk(children)

        walk(data["products"])
        surplus = [(str(x["code"]), bool(x.get("accepted"))) for x in data.get("surplus") or []]
        return _Answer(
            decision,
            str(ref["number"]),
            str(ref["date"]),
            str(ref["sender"]["bin"]),
            str(ref["receiver"]["bin"]),
            ref.get("source_sha256") or None,
            int(data["part"]),
            int(data["parts"]),
            nodes,
            surplus,
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise ShippingError("not_acceptance") from None


def apply_acceptance(
    db: Database,
    ref: str | int,
    content: bytes,
    signature: bytes,
    *,
    settings: SigningSettings,
    user: User | None = None,
    actor: str | None = None,
) -> ApplyResult:
    """Apply the receiver's signed acceptance of one part of a signed outgoing act.

    The signature is verified first; then the document must answer this act (number, date, parties, and the
    exact signed JSON when it names its SHA-256) and list only codes of the act. Codes refused return to
    stock with everything inside them; an aggregate the receiver took only part of stays shipped (its
    label is gone with the rest) and its refused contents come back loose. The status becomes the decision
    when every part has been answered. Raises SigningError or ShippingError; nothing is written then.
    """
    check = verify_acceptance(settings, content, signature)
    answer = _read_answer(content)
    at = utcnow()
    warnings: list[str] = list(check.warnings)
    with db.write() as s:
        act = find_act(s, ref)
        act = s.get(Act, act.id, with_for_update=True) or act
        s.refresh(act)
        if act.status == OutgoingStatus.DRAFT:
            raise ShippingError("not_signed")
        documents = _transfer_documents(s, act.id)
        transfer = _answered_part(act, documents, answer, warnings)
        if (
            answer.sender_bin != act.sender_bin
            or answer.receiver_bin != act.receiver_bin
            or answer.date != act.date.isoformat()
        ):
            raise ShippingError("wrong_act", number=answer.number, date=answer.date)
        if (
            s.execute(
                select(AcceptanceReceipt.id).where(
                    AcceptanceReceipt.act_id == act.id,
                    AcceptanceReceipt.transfer_part == transfer.part,
                    AcceptanceReceipt.part == answer.part,
                )
            ).first()
            is not None
        ):
            raise ShippingError("already_applied")
        if act.status not in AWAITING_ACCEPTANCE:
            raise ShippingError("act_closed")
        info = check.info
        if info is not None and info.bin and info.bin != act.receiver_bin:
            raise ShippingError("wrong_signer", bin=info.bin, receiver=act.receiver_bin)
        identities = [(code, stock.identity_of(code)[1]) for code, _a, _e in answer.nodes]
        _check_listed(s, act.id, identities)
        if answer.decision == "rejected":
            refused = [stock.identity_of(code)[1] for code in _top_codes(transfer.content)]
            broken: list[str] = []
        else:
            refused = [
                ident
                for (code, accepted, expanded), (_c, ident) in zip(answer.nodes, identities, strict=True)
                if not accepted and not expanded
            ]
            broken = [code for code, _accepted, expanded in answer.nodes if expanded]
        returned, returned_codes = 0, []
        for identity in refused:
            n, code = _return(s, act.id, identity, user, at)
            returned += n
            if n:
                returned_codes.append(code)
        ours = stock.held_identities_of(s, [stock.identity_of(code)[1] for code, _a in answer.surplus])
        surplus = [SurplusCode(code, accepted, stock.identity_of(code)[1] in ours) for code, accepted in answer.surplus]
        document = SignedDocument(
            act_id=act.id,
            kind=ACCEPTANCE,
            part=answer.part,
            content=content,
            signature=signature,
            certificate=check.certificate.public_bytes(Encoding.DER) if check.certificate is not None else b"",
            signer=((info.name or info.subject or "") if info else "")[:300],
            signer_iin=info.iin if info else None,
            signer_bin=info.bin if info else None,
            cert_sha256=info.fingerprint_sha256 if info else "",
            user_id=user.id if user else None,
        )
        s.add(document)
        s.flush()
        s.add(
            AcceptanceReceipt(
                act_id=act.id,
                transfer_part=transfer.part,
                part=answer.part,
                parts=answer.parts,
                decision=answer.decision,
                document_id=document.id,
                returned=returned,
                detail={
                    "returned": returned_codes[:1000],
                    "broken_up": broken[:1000],
                    "surplus": [c.code for c in surplus][:1000],
                    "warnings": warnings,
                },
                user_id=user.id if user else None,
                created_at=at,
            )
        )
        s.flush()
        act.status = _status_after(s, act.id, len(documents))
        audit.record(
            s,
            "act.acceptance_applied",
            user=user,
            actor=actor,
            act_id=act.id,
            details={
                "decision": answer.decision,
                "transfer_part": transfer.part,
                "part": answer.part,
                "parts": answer.parts,
                "returned": returned,
                "broken_up": len(broken),
                "surplus": len(surplus),
                "status": act.status,
                "document_sha256": hashlib.sha256(content).hexdigest(),
                "signer": info.name if info else None,
                "iin": info.iin if info else None,
                "certificate_sha256": info.fingerprint_sha256 if info else None,
                "warnings": warnings,
            },
        )
        announce(s, Event(act.id, "status"), STOCK_CHANGED)
        return ApplyResult(
            act.id,
            act.number,
            act.status,
            answer.decision,
            transfer.part,
            answer.part,
            answer.parts,
            returned,
            returned_codes,
            broken,
            surplus,
            info,
            tuple(warnings),
        )


def _answered_part(act: Act, documents: list[SignedDocument], answer: _Answer, warnings: list[str]) -> SignedDocument:
    """Which of our documents the acceptance answers: the one whose SHA-256 it names, else by number."""
    if not documents:
        raise ShippingError("not_signed")
    if answer.source_sha256:
        for doc in documents:
            if hashlib.sha256(doc.content).hexdigest() == answer.source_sha256:
                return doc
        warnings.append("other_file")
    for doc in documents:
        if part_number(act.number, doc.part, len(documents)) == answer.number:
            return doc
    raise ShippingError("wrong_act", number=answer.number, date=answer.date)


def _check_listed(s: Session, act_id: int, identities: list[tuple[str, str]]) -> None:
    wanted = sorted({ident for _code, ident in identities})
    known: set[str] = set()
    for i in range(0, len(wanted), 1000):
        chunk = wanted[i : i + 1000]
        known.update(
            s.execute(select(ActCode.identity).where(ActCode.act_id == act_id, ActCode.identity.in_(chunk))).scalars()
        )
    for code, ident in identities:
        if ident not in known:
            raise ShippingError("unknown_code", code=code)


def _top_codes(content: bytes) -> list[str]:
    products = _document_head(content).get("products") or []
    return [str(p["code"]) for p in products if isinstance(p, dict) and "code" in p]


def _return(s: Session, act_id: int, identity: str, user: User | None, at: datetime) -> tuple[int, str]:
    """A refused code comes back into stock with what is inside it, loose at the top of the tree."""
    row = s.execute(select(StockCode).where(StockCode.identity == identity)).scalar()
    if row is None or row.act_id != act_id or row.status != StockStatus.SHIPPED:
        return 0, ""  # returned already (an earlier part, a rejected whole), or never left with this act
    tree = stock.subtree(row.id)
    mine = select(StockCode.id).where(
        StockCode.id.in_(tree), StockCode.status == StockStatus.SHIPPED, StockCode.act_id == act_id
    )
    stock.move(s, mine, MoveKind.RETURNED, act_id=act_id, user_id=user.id if user else None, station=None, at=at)
    conn = s.connection()
    n = conn.execute(
        update(StockCode)
        .where(StockCode.id.in_(tree), StockCode.status == StockStatus.SHIPPED, StockCode.act_id == act_id)
        .values(status=StockStatus.IN_STOCK.value, act_id=None, updated_at=at)
    ).rowcount
    conn.execute(update(StockCode).where(StockCode.id == row.id).values(parent_id=None))
    return int(n), row.code


def _status_after(s: Session, act_id: int, transfer_parts: int) -> str:
    answered: dict[int, tuple[int, set[int], set[str]]] = {}
    for r in s.execute(select(AcceptanceReceipt).where(AcceptanceReceipt.act_id == act_id)).scalars():
        parts, seen, decisions = answered.get(r.transfer_part, (r.parts, set(), set()))
        seen.add(r.part)
        decisions.add(r.decision)
        answered[r.transfer_part] = (max(parts, r.parts), seen, decisions)
    complete = all(tp in answered and len(answered[tp][1]) >= answered[tp][0] for tp in range(1, transfer_parts + 1))
    if not complete:
        return OutgoingStatus.SENT.value
    decisions = set().union(*(d for _p, _s, d in answered.values()))
    if decisions == {"accepted"}:
        return OutgoingStatus.ACCEPTED.value
    if decisions == {"rejected"}:
        return OutgoingStatus.REJECTED.value
    return OutgoingStatus.DISCREPANCIES.value
