"""The emulator's HTTP face: the profile's paths under its prefix, and the test-only controls under /_emu/.

Strict on purpose (unlike lenient emulators): an unknown or missing field is refused with the operator's
wording, every CMS is verified (the login's attached one over the challenge, a document's detached one over
the exact decoded body). Controls (/_emu/) exist only when `controls` is on: the CLI turns them on for a
loopback host, never for a forced public one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import string
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request

from warehouse.operator.cis import lookup_form
from warehouse.operator.emulator.store import ACCEPT, CANCEL, FINAL, LEVEL_PACKAGE, SHIP, Store, iso, parse_time
from warehouse.operator.profile import Envelope, Profile
from warehouse.signing.cms import verify_attached, verify_detached

CRYPTO_PROBLEMS = {
    "not_cms",
    "multiple_signers",
    "signer_not_found",
    "content_mismatch",
    "bad_signature",
    "unsupported_algorithm",
}  # certificate trust is not the emulator's to judge
TOKEN_HOURS = 10
FIELDS: dict[str, tuple[set[str], set[str]]] = {  # type -> (required, optional)
    SHIP: (
        {"receiver_inn", "transfer_date", "document_num", "document_date", "turnover_type", "products"},
        {"sender_inn", "to_not_participant"},
    ),
    ACCEPT: (
        {
            "release_order_number",
            "trade_sender_inn",
            "trade_recipient_inn",
            "document_number",
            "document_date",
            "transfer_date",
            "acceptance_date",
            "turnover_type",
        },
        {"accept_all", "reject_all", "products"},
    ),
    CANCEL: ({"participant_inn", "shipment_number"}, set()),
}
ITEM_FIELDS = {
    SHIP: {"uit_code", "uitu_code", "product_cost", "product_tax"},
    ACCEPT: {"uit_code", "uitu_code", "accepted", "product_cost", "product_tax", "children"},
}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Faults:
    """What the next requests suffer; each entry counts down."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.expire_token = 0
        self.burst: dict[str, Any] | None = None  # {"status", "count", "path"}
        self.item_504: set[str] = set()
        self.stuck = 0
        self.processing_error = 0
        self.drop_response: dict[str, Any] | None = None  # {"count", "delay"}
        self.list_lag = 0  # the next N document lists answer empty, as a list that lags behind its documents

    def take(self, name: str) -> bool:
        with self.lock:
            left = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                return True
            return False


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def create_app(
    profile: Profile, db_path: Path | str | None = None, *, controls: bool = True, delay: float = 0.2
) -> Flask:
    app = Flask(__name__)
    if db_path is None:
        db_path = Path(tempfile.mkdtemp(prefix="operator-emulator-")) / "emulator.sqlite3"
    store = Store(db_path, delay=delay)
    faults = Faults()
    secret = secrets.token_bytes(32)
    challenges: dict[str, tuple[str, float]] = {}
    log: list[dict[str, Any]] = []
    log_lock = threading.Lock()
    app.extensions["emulator"] = {"store": store, "faults": faults, "log": log}
    base = profile.prefix.rstrip("/")

    def error(status: int, message: str) -> Response:
        if status == 401:  # the operator answers 401 in XML [V manual p.13-14]
            body = f"<UnauthorizedException><message>{message}</message></UnauthorizedException>"
            return Response(body, status, content_type="application/xml")
        return Response(
            json.dumps({"error_message": message}, ensure_ascii=False),
            status,
            content_type="application/json;charset=UTF-8",
        )

    def answer(obj: Any, status: int = 200) -> Response:
        return Response(json.dumps(obj, ensure_ascii=False), status, content_type="application/json;charset=UTF-8")

    def token_for(inn: str) -> str:
        now = store.clock.now()
        claims = {
            "inn": inn,
            "pid": int(inn[-6:]) if inn.isdigit() else 0,
            "id": 1,
            "client_id": "crpt-service",
            "scope": ["trusted"],
            "organisation_status": "REGISTERED",
            "user_status": "ACTIVE",
            "product_group_info": [{"name": profile.product_group, "status": "5", "types": ["TRADE_PARTICIPANT"]}],
            "authorities": [
                f"CRPT-FACADE.DOC-CONTROLLER.{k}.{a}" for k in ("SHIPMENT", "ACCEPTANCE") for a in ("CREATE", "READ")
            ]
            + ["CRPT-FACADE.CIS-CONTROLLER.SEARCH.READ"],
            "exp": int((now + timedelta(hours=TOKEN_HOURS)).timestamp()),
            "jti": secrets.token_hex(8),
        }
        head = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        mac = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        return f"{head}.{payload}.{_b64url(mac)}"

    def participant() -> str:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise Refused(401, "Full authentication is required to access this resource")
        if faults.take("expire_token"):
            raise Refused(401, "Token expired")
        try:
            head, payload, mac = auth[7:].split(".")
            good = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
            claims = json.loads(_b64url_decode(payload))
            given = _b64url_decode(mac)
        except (ValueError, binascii.Error):
            raise Refused(401, "Invalid token") from None
        if not hmac.compare_digest(good, given):
            raise Refused(401, "Invalid token")
        if claims["exp"] < store.clock.now().timestamp():
            raise Refused(401, "Token expired")
        return str(claims["inn"])

    def json_body() -> Any:
        try:
            return json.loads(request.get_data())
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "29: Недопустимый формат передаваемого файла JSON.") from None

    @app.before_request
    def before() -> Response | None:
        g.arrived = time.time()  # the operator counts requests on arrival
        if request.path.startswith("/_emu"):
            return None if controls else error(404, "Not found")
        burst = faults.burst
        if burst and burst["count"] > 0 and burst.get("path", "") in request.path:
            with faults.lock:
                burst["count"] -= 1
            return error(int(burst["status"]), "Too many requests" if burst["status"] == 429 else "Service unavailable")
        store.settle()
        return None

    @app.after_request
    def after(response: Response) -> Response:
        if not request.path.startswith("/_emu"):
            with log_lock:
                log.append(
                    {
                        "t": time.time(),
                        "method": request.method,
                        "path": request.path,
                        "query": request.query_string.decode(),
                        "status": response.status_code,
                    }
                )
        return response

    @app.errorhandler(Refused)
    def refused(e: Refused) -> Response:
        return error(e.status, e.message)

    # --- auth ---------------------------------------------------------------------------------------------

    @app.get(f"{base}/{profile.auth_key}")
    def auth_key() -> Response:
        uuid_ = str(__import__("uuid").uuid4())
        data = "".join(secrets.choice(string.ascii_uppercase) for _ in range(30))
        challenges[uuid_] = (data, time.time())
        return answer({"uuid": uuid_, "data": data})

    @app.post(f"{base}/{profile.auth_sign_in}")
    def sign_in() -> Response:
        body = json_body()
        if not isinstance(body, dict) or "uuid" not in body or "data" not in body:
            raise Refused(400, "Отсутствует обязательное поле: " + ("uuid" if "uuid" not in (body or {}) else "data"))
        found = challenges.pop(str(body["uuid"]), None)
        if found is None:
            raise Refused(400, "UUID не найден в хранилище ключей")
        try:
            cms = base64.b64decode(str(body["data"]), validate=True)
        except (binascii.Error, ValueError):
            raise Refused(400, "Ошибка при проверке подписи") from None
        content, check = verify_attached(cms)
        if content != found[0].encode() or CRYPTO_PROBLEMS & set(check.problems):
            raise Refused(400, "Ошибка при проверке подписи")
        inn = (check.info.bin if check.info else None) or body.get(profile.participant_field)
        if not inn or not str(inn).isdigit() or len(str(inn)) != 12:
            raise Refused(400, f"Отсутствует обязательное поле: {profile.participant_field}")
        if check.info and check.info.bin and body.get(profile.participant_field) not in (None, check.info.bin):
            raise Refused(403, "Отсутствует доступ к ресурсу")
        return answer({"token": token_for(str(inn))})

    # --- reading ------------------------------------------------------------------------------------------

    def summary(doc: dict[str, Any]) -> dict[str, Any]:
        """A list entry; the profile names the field that is the document id (RU: "number", and then the
        sender's own number is only in invoiceNumber)."""
        ids = profile.list_id_field
        return {
            "number": doc["id"] if ids == "number" else doc["number"],
            ids: doc["id"],
            "docDate": doc["doc_date"],
            "receivedAt": doc["received_at"],
            "type": doc["type"],
            "status": doc["status"],
            "senderInn": doc["sender"],
            "senderName": doc["sender_name"],
            "receiverInn": doc["receiver"],
            "receiverName": doc["receiver_name"],
            "invoiceNumber": doc["number"],
            "relatedDocId": doc["related_id"],
            "downloadDesc": None,
            "input": True,
            "errors": json.loads(doc["errors"]),
            "productGroup": profile.product_group,
            "productGroupId": 3,
        }

    @app.get(f"{base}/{profile.doc_list}")
    def doc_list() -> Response:
        inn = participant()
        if faults.take("list_lag"):
            return answer({"results": [], "nextPage": False})
        args = request.args
        sender, receiver = args.get("senderInn"), args.get("receiverInn")
        if sender and receiver:
            raise Refused(400, "Параметры senderInn и receiverInn не могут быть указаны одновременно")
        if not sender and not receiver:
            raise Refused(400, "Должен быть указан один из параметров senderInn или receiverInn")
        if (sender or receiver) != inn:
            raise Refused(403, "Отсутствует доступ к ресурсу")
        if args.get("pg") != profile.product_group:
            raise Refused(400, "Отсутствует обязательное поле: pg")
        date_from, date_to = args.get("dateFrom"), args.get("dateTo")
        if bool(date_from) != bool(date_to):  # the planned v552 rule: both or neither
            raise Refused(400, "Параметры dateFrom и dateTo должны быть указаны вместе")
        if not date_from and not (args.get("number") or args.get("documentStatus") or args.get("documentType")):
            raise Refused(400, "Отсутствует обязательное поле: dateFrom")
        try:
            limit = int(args.get("limit", "20"))
            window = [iso(parse_time(t)) if t else None for t in (date_from, date_to)]
        except ValueError:
            raise Refused(400, "Недопустимое значение параметра") from None
        if not 1 <= limit <= profile.list_limit:
            raise Refused(400, f"Параметр limit должен быть от 1 до {profile.list_limit}")
        anchor = None
        if args.get("did"):
            if not args.get("orderedColumnValue"):
                raise Refused(400, "Отсутствует обязательное поле: orderedColumnValue")
            anchor = (iso(parse_time(args["orderedColumnValue"])), args["did"])
        descending = args.get("order", "DESC") == "DESC"
        if args.get("pageDir", "NEXT") == "PREV":
            descending = not descending
        rows = store.docs_page(
            inn_column="sender" if sender else "receiver",
            inn=inn,
            types=args.getlist("documentType"),
            status=args.get("documentStatus"),
            number=args.get("number"),
            date_from=window[0],
            date_to=window[1],
            anchor=anchor,
            descending=descending,
            limit=limit + 1,
        )
        return answer({"results": [summary(d) for d in rows[:limit]], "nextPage": len(rows) > limit})

    def own_doc(doc_id: str, inn: str) -> dict[str, Any]:
        doc = store.doc(doc_id)
        if doc is None or inn not in (doc["sender"], doc["receiver"]):
            raise Refused(404, f"Документ {doc_id} не найден")
        return doc

    @app.get(f"{base}/{profile.doc_info.replace('{id}', '<doc_id>')}")
    def doc_info(doc_id: str) -> Response:
        doc = own_doc(doc_id, participant())
        item = summary(doc) | {"invoiceDate": None, "commonErrors": []}
        item["errors"] = json.loads(doc["errors"])
        if request.args.get("body") == "true":
            body = json.loads(doc["body"])
            if doc["type"] == SHIP:
                limit = int(request.args.get("limit", "36000"))
                body["products"] = [
                    {
                        (
                            "uitu_code"
                            if LEVEL_PACKAGE.get((store.code(c) or {}).get("level", ""), "") in ("BOX", "PALLET")
                            else "uit_code"
                        ): c
                    }
                    | ({"product_cost": p} if p is not None else {})
                    | ({"product_tax": v} if v is not None else {})
                    for c, p, v in store.listed(doc_id, limit)
                ]
                body["products_total"] = len(store.listed(doc_id))  # [I] so a reader knows when the cap cut
            item["body"] = body
        return answer([item])

    @app.get(f"{base}/{profile.doc_cises}")
    def doc_cises() -> Response:
        inn = participant()
        doc = own_doc(request.args.get("documentId", ""), inn)
        leaves = []
        for cis in store.leaves(doc["id"]):
            leaves.append(cis)
            if len(leaves) > 30_000:
                raise Refused(400, "Превышено допустимое количество КИ в документе: 30000")
        return answer(
            {
                "senderInn": doc["sender"],
                "receiverInn": doc["receiver"],
                "type": doc["type"],
                "status": doc["status"],
                "documentId": doc["id"],
                "turnoverType": doc["turnover"],
                "relatedDocId": None,
                "cisList": leaves,
            }
        )

    def code_list() -> list[str]:
        body = json_body()
        if not isinstance(body, list) or not all(isinstance(c, str) for c in body):
            raise Refused(400, "29: Недопустимый формат передаваемого файла JSON.")
        if not body:
            raise Refused(400, "Список КИ не может быть пустым")
        if len(body) > profile.codes_per_lookup:
            raise Refused(400, f"Количество КИ не может превышать {profile.codes_per_lookup}")
        return body

    @app.post(f"{base}/{profile.cises_info}")
    def cises_info() -> Response:
        participant()
        out = []
        requested_codes = code_list()
        found = store.codes(requested_codes)
        for requested in requested_codes:
            code = found.get(lookup_form(requested))
            if requested in faults.item_504 or lookup_form(requested) in faults.item_504:
                out.append(
                    {
                        "cisInfo": {"requestedCis": requested},
                        "errorCode": "504",
                        "errorMessage": "Превышено время ожидания ответа",
                    }
                )
                continue
            if code is None:
                out.append({"cisInfo": {"requestedCis": requested}, "errorCode": "404", "errorMessage": "КИ не найден"})
                continue
            info = {
                "requestedCis": requested,
                "cis": code["cis"],
                "cisWithoutBrackets": code["cis"],
                "gtin": code["gtin"],
                "productGroupId": 3,
                "productGroup": profile.product_group,
                "ownerInn": code["owner"],
                "ownerName": store.names.get(code["owner"], ""),
                "status": code["status"],
                "statusEx": "EMPTY",
                "generalPackageType": LEVEL_PACKAGE[code["level"]],
                "packageType": LEVEL_PACKAGE[code["level"]],
                "parent": code["parent"],
                "child": code["child"],
                "maxRetailPrice": code["mrp"],
            }
            item: dict[str, Any] = {"cisInfo": info}
            stated = requested.split("\x1d8005", 1)[1][:6] if "\x1d8005" in requested else None
            if stated is not None and code["mrp"] is not None and stated.isdigit() and int(stated) != code["mrp"]:
                item |= {"errorCode": "701", "errorMessage": "МРЦ не совпадает"}
            out.append(item)
        return answer(out)

    @app.post(f"{base}/{profile.cises_aggregated}")
    def cises_aggregated() -> Response:
        participant()
        found = {}
        for requested in code_list():
            code = store.code(requested)
            if code is not None:
                found[code["cis"]] = store.tree(code["cis"])
        if not found:
            raise Refused(404, "КМ не найдены")
        return answer(found)

    # --- documents ----------------------------------------------------------------------------------------

    def check_fields(type_: str, body: Any) -> None:
        if not isinstance(body, dict):
            raise Refused(400, "29: Недопустимый формат передаваемого файла JSON.")
        required, optional = FIELDS[type_]
        for name in sorted(required):
            if name not in body:
                raise Refused(400, f"Отсутствует обязательное поле: {name}")
        for name in sorted(body):
            if name not in required | optional:
                raise Refused(400, f"Недопустимое поле: {name}")
        if type_ in ITEM_FIELDS and "products" in body:
            check_items(type_, body["products"], "products")

    def check_items(type_: str, items: Any, where: str) -> None:
        if not isinstance(items, list) or (not items and where == "products"):
            raise Refused(400, f"Отсутствует обязательное поле: {where}")
        for item in items:
            if not isinstance(item, dict):
                raise Refused(400, "29: Недопустимый формат передаваемого файла JSON.")
            for name in sorted(item):
                if name not in ITEM_FIELDS[type_]:
                    raise Refused(400, f"Недопустимое поле: {where}.{name}")
            if ("uit_code" in item) == ("uitu_code" in item):
                raise Refused(400, f"Отсутствует обязательное поле: {where}.uit_code")
            if type_ == ACCEPT:
                if not isinstance(item.get("accepted"), bool):
                    raise Refused(400, f"Отсутствует обязательное поле: {where}.accepted")
                if "children" in item:
                    check_items(type_, item["children"], f"{where}.children")

    def create(type_: str, raw: bytes, signature: str) -> Response:
        inn = participant()
        try:
            cms = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise Refused(400, "Ошибка при проверке подписи") from None
        check = verify_detached(raw, cms)
        if CRYPTO_PROBLEMS & set(check.problems):
            raise Refused(400, "Ошибка при проверке подписи")
        if check.info and check.info.bin and check.info.bin != inn:
            raise Refused(403, "Подпись не принадлежит участнику")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "29: Недопустимый формат передаваемого файла JSON.") from None
        check_fields(type_, body)
        doc_id = store.create(
            type_, body, inn, stuck=faults.take("stuck"), processing_error=faults.take("processing_error")
        )
        drop = faults.drop_response
        if drop and drop["count"] > 0:
            with faults.lock:
                drop["count"] -= 1
            time.sleep(float(drop.get("delay", 2.0)))  # created, but the caller's timeout passes first
        return Response(doc_id, 200, content_type="text/plain;charset=UTF-8")

    def decoded(text: Any) -> bytes:
        try:
            return base64.b64decode(str(text), validate=True)
        except (binascii.Error, ValueError):
            raise Refused(400, "29: Недопустимый формат передаваемого файла JSON.") from None

    if profile.envelope is Envelope.RU_UNIFIED:

        @app.post(f"{base}/{profile.create['shipment']}")
        def create_unified() -> Response:
            if request.args.get("pg") != profile.product_group:
                raise Refused(400, "Отсутствует обязательное поле: pg")
            env = json_body()
            if not isinstance(env, dict):
                raise Refused(400, "29: Недопустимый формат передаваемого файла JSON.")
            for name in ("document_format", "product_document", "type", "signature"):
                if name not in env:
                    raise Refused(400, f"Отсутствует обязательное поле: {name}")
            extra = sorted(set(env) - {"document_format", "product_document", "type", "signature"})
            if extra:
                raise Refused(400, f"Недопустимое поле: {extra[0]}")
            if env["type"] not in FIELDS or env["document_format"] != profile.document_format:
                raise Refused(400, f"Недопустимый тип документа: {env['type']}")
            return create(env["type"], decoded(env["product_document"]), env["signature"])
    else:
        for kind, path in profile.create.items():

            def per_type(type_: str = profile.doc_types[kind]) -> Response:
                env = json_body()
                if not isinstance(env, dict):
                    raise Refused(400, "29: Недопустимый формат передаваемого файла JSON.")
                for name in ("document", "signature"):
                    if name not in env:
                        raise Refused(400, f"Отсутствует обязательное поле: {name}")
                if set(env) - {"document", "signature"}:
                    raise Refused(400, f"Недопустимое поле: {sorted(set(env) - {'document', 'signature'})[0]}")
                return create(type_, decoded(env["document"]), env["signature"])

            app.add_url_rule(f"{base}/{path}", f"create_{kind}", per_type, methods=["POST"])

    # --- test-only controls -------------------------------------------------------------------------------

    if controls:

        @app.post("/_emu/seed")
        def emu_seed() -> Response:
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
                f.write(request.get_data())
            try:
                return answer(store.seed_act(f.name, owned_only=request.args.get("mode") == "owned"))
            except Exception as e:  # the seed's own problem, told to the test
                return error(400, str(e))
            finally:
                Path(f.name).unlink()

        @app.route("/_emu/clock", methods=["GET", "POST"])
        def emu_clock() -> Response:
            if request.method == "POST":
                body = request.get_json(force=True)
                if "advance" in body:
                    store.clock.offset += timedelta(seconds=float(body["advance"]))
                if "now" in body:
                    store.clock.offset = parse_time(body["now"]) - datetime.now(UTC)
                if "delay" in body:
                    store.delay = float(body["delay"])
            return answer({"now": iso(store.clock.now()), "delay": store.delay})

        @app.post("/_emu/faults")
        def emu_faults() -> Response:
            body = request.get_json(force=True)
            with faults.lock:
                faults.expire_token += int(body.get("expire_token", 0))
                faults.stuck += int(body.get("stuck", 0))
                faults.processing_error += int(body.get("processing_error", 0))
                faults.list_lag += int(body.get("list_lag", 0))
                if "burst" in body:
                    faults.burst = dict(body["burst"])
                if "item_504" in body:
                    faults.item_504 = set(body["item_504"])
                if "drop_response" in body:
                    faults.drop_response = dict(body["drop_response"])
                if body.get("clear"):
                    faults.__init__()  # type: ignore[misc]
            return answer({"ok": True})

        @app.post("/_emu/release")
        def emu_release() -> Response:
            """Let documents stuck IN_PROGRESS settle."""
            store.db.execute("UPDATE docs SET stuck=0")
            store.settle()
            return answer({"ok": True})

        @app.get("/_emu/log")
        def emu_log() -> Response:
            since = int(request.args.get("since", "0"))
            with log_lock:
                return answer({"count": len(log), "entries": log[since:]})

        @app.get("/_emu/codes")
        def emu_codes() -> Response:
            return answer({cis: store.code(cis) for cis in request.args.getlist("cis")})

        @app.get("/_emu/owned")
        def emu_owned() -> Response:
            """Codes a participant owns, optionally of one level (pack, block, box, pallet), at most 1000."""
            sql = "SELECT cis FROM codes WHERE owner=?"
            args = [request.args.get("inn", "")]
            if request.args.get("level"):
                sql += " AND level=?"
                args.append(request.args["level"])
            return answer([r[0] for r in store.db.execute(sql + " ORDER BY rowid LIMIT 1000", args)])

        @app.route("/_emu/docs/<doc_id>", methods=["GET", "POST"])
        def emu_doc(doc_id: str) -> Response:
            """A document as stored; POST {"received_at": "now" | iso} changes it as the operator may (a
            document listed otherwise than before)."""
            if request.method == "POST":
                when = request.get_json(force=True).get("received_at", "now")
                moment = store.clock.now() if when == "now" else parse_time(when)
                with store.lock:
                    store.db.execute("UPDATE docs SET received_at=? WHERE id=?", (iso(moment), doc_id))
            store.settle()
            return answer(store.doc(doc_id))

    app.config["EMULATOR_FINAL"] = sorted(FINAL)
    return app
