"""`HttpOperatorAdapter`: the operator's API over HTTP, the same for a real host and the emulator.

One httpx.Client (keep-alive: a full truck's look-ups are ~1100 requests). At most the profile's requests
a second: requests are paced evenly, 6% under the limit.
Reads are retried with backoff on 429/503 and timeouts; a document is never re-sent: a timeout after the
request went out is `Submission(state=UNKNOWN)`, and the caller looks the document up (`find_document`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from warehouse import canonical
from warehouse.operator.cis import is_aggregate, level_of
from warehouse.operator.profile import Envelope, Profile
from warehouse.operator.types import (
    AcceptanceDecision,
    AcceptanceMode,
    Act,
    ActLine,
    ActSummary,
    CodeInfo,
    DocStatus,
    OperatorError,
    OutgoingLine,
    Page,
    Session,
    Signer,
    Submission,
    SubmissionState,
)
from warehouse.signing.cms import attach
from warehouse.vocab import Level

__all__ = ["FINAL_STATUSES", "HttpOperatorAdapter", "operator_time"]

# Final for the step that made them (WAIT_ACCEPTANCE: the sender's step is done) [I from manual p.846]
FINAL_STATUSES = frozenset(
    {"CHECKED_OK", "CHECKED_NOT_OK", "PARSE_ERROR", "PROCESSING_ERROR", "ACCEPTED", "CANCELLED", "WAIT_ACCEPTANCE"}
)
PACKAGE_LEVELS = {"UNIT": Level.PACK, "GROUP": Level.BLOCK, "BOX": Level.BOX, "PALLET": Level.PALLET}  # [U]


def operator_time(moment: datetime) -> str:
    """yyyy-MM-ddTHH:mm:ss.SSSZ, UTC (the manual's form for dateFrom/dateTo and document dates)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _claims(token: str) -> dict[str, Any]:
    """The JWT's payload, unverified: only the operator can verify its own token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class HttpOperatorAdapter:
    def __init__(
        self,
        base_url: str,
        profile: Profile,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.25,
        workers: int = 4,
    ) -> None:
        """`retries` and `backoff` (seconds, doubled each time): reads only, on 429/5xx and lost connections.
        `workers`: look-ups in flight at once (the rate limit still holds): latency, not the limit, bounds
        one at a time — 1100 look-ups at 100 ms each would take two minutes."""
        self.profile = profile
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            timeout=timeout,
            headers={"Accept": "application/json, text/plain, */*"},  # no Accept match: 406 [V p.17]
            limits=httpx.Limits(max_keepalive_connections=4, max_connections=8),
        )
        # Paced, not windowed: one request every 1/rate s (a bucket of one). A moving window lets a burst of
        # 47 out at once and the operator counts on arrival, where jitter bunched 51 into one second; evenly
        # spaced requests keep any second under the limit with room for jitter. 6% under the limit.
        self._interval = 1.0 / (profile.requests_per_second * 0.94)
        self._next_slot = 0.0
        self._pace = threading.Lock()
        self._signer: Signer | None = None
        self._signer_bin: str | None = None
        self.session: Session | None = None
        self.requests = 0  # sent, for figures
        self._retries, self._backoff, self._workers = retries, backoff, max(1, workers)
        self._login = threading.Lock()
        if token:
            self._adopt(token)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpOperatorAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def participant_bin(self) -> str:
        if self.session is None:
            raise OperatorError("unauthorized", "not logged in")
        return self.session.participant_bin

    # --- transport ---------------------------------------------------------------------------------------

    def _wait_turn(self) -> None:
        with self._pace:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        if slot > now:
            time.sleep(slot - now)

    def _send(self, method: str, path: str, *, idempotent: bool, retry_auth: bool = True, **kw: Any) -> httpx.Response:
        delay = self._backoff
        for attempt in range(self._retries + 1):
            last = attempt == self._retries or not idempotent
            self._wait_turn()
            headers = dict(kw.pop("headers", {}) or {})
            sent_with = self.session
            if sent_with is not None:
                headers["Authorization"] = f"Bearer {sent_with.token}"
            try:
                self.requests += 1
                response = self._client.request(method, path, headers=headers, **kw)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
                if last:
                    raise OperatorError("unreachable", str(e) or type(e).__name__) from e
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as e:
                if last:
                    raise OperatorError("timeout_after_send", str(e) or type(e).__name__) from e
            else:
                status = response.status_code
                if status == 401 and retry_auth and self._signer is not None:
                    with self._login:  # the token expired: log in once (another look-up may have already)
                        if self.session is sent_with:
                            self.authenticate(self._signer, self._signer_bin)
                    return self._send(method, path, idempotent=idempotent, retry_auth=False, headers=headers, **kw)
                if status in (429, 503, 502, 504) and not last:
                    retry_after = response.headers.get("Retry-After", "")
                    time.sleep(float(retry_after) if retry_after.isdigit() else delay)
                    delay *= 2
                    continue
                if status >= 400:
                    raise self._error(response)
                return response
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # the loop returns or raises

    @staticmethod
    def _error(response: httpx.Response) -> OperatorError:
        status = response.status_code
        message: str | None = None
        try:
            data = response.json()
            if isinstance(data, dict):
                message = data.get("error_message") or data.get("message") or data.get("errorMessage")
        except ValueError:
            message = response.text.strip() or None
        if status == 401:
            return OperatorError("unauthorized", message, status)
        if status == 403:
            return OperatorError("forbidden", message, status)
        if status == 429:
            return OperatorError("rate_limited", message, status)
        if status >= 500:
            return OperatorError("unavailable", message, status)
        return OperatorError("refused", message, status)

    def _json(self, method: str, path: str, *, idempotent: bool = True, **kw: Any) -> Any:
        response = self._send(method, path, idempotent=idempotent, **kw)
        try:
            return response.json()
        except ValueError as e:
            raise OperatorError("bad_answer", response.text[:200], response.status_code) from e

    # --- login ------------------------------------------------------------------------------------------

    def _adopt(self, token: str) -> Session:
        claims = _claims(token)
        participant = str(claims.get("inn") or "")
        exp = claims.get("exp")
        expires = datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else datetime.now(UTC)
        self.session = Session(token, participant, expires)
        return self.session

    def challenge(self) -> tuple[str, bytes]:
        data = self._json("GET", self.profile.auth_key)
        try:
            return str(data["uuid"]), str(data["data"]).encode("utf-8")
        except (KeyError, TypeError) as e:
            raise OperatorError("bad_answer", "auth/key: no uuid/data") from e

    def sign_in(self, uuid: str, attached_cms: bytes, participant_bin: str | None = None) -> Session:
        body: dict[str, Any] = {"uuid": uuid, "data": base64.b64encode(attached_cms).decode("ascii")}
        if participant_bin:
            body[self.profile.participant_field] = participant_bin
        self.session = None
        data = self._json("POST", self.profile.auth_sign_in, idempotent=False, json=body, retry_auth=False)
        token = data.get("token") if isinstance(data, dict) else None
        if not token:
            raise OperatorError("bad_answer", "simpleSignIn: no token")
        return self._adopt(str(token))

    def authenticate(self, signer: Signer, participant_bin: str | None = None) -> Session:
        uuid, data = self.challenge()
        session = self.sign_in(uuid, attach(signer.sign(data), data), participant_bin)
        self._signer, self._signer_bin = signer, participant_bin  # for one re-login when the token expires
        return session

    # --- reading ----------------------------------------------------------------------------------------

    def _summary(self, item: dict[str, Any]) -> ActSummary:
        try:
            return ActSummary(
                id=str(item[self.profile.list_id_field]),  # RU: "number" is the document id [V p.502]
                number=str(item.get("invoiceNumber") or item["number"]),  # [I] the sender's own number
                doc_date=_parse_time(item.get("docDate")) or datetime.now(UTC),
                type=str(item.get("type", "")),
                status=str(item.get("status", "")),
                sender_bin=str(item.get("senderInn") or ""),
                sender_name=str(item.get("senderName") or ""),
                receiver_bin=str(item.get("receiverInn") or ""),
                receiver_name=str(item.get("receiverName") or ""),
                received_at=_parse_time(item.get("receivedAt")),
                related_doc_id=item.get("relatedDocId"),
                raw=item,
            )
        except (KeyError, TypeError) as e:
            raise OperatorError("bad_answer", f"document without {e}") from e

    def list_incoming_acts(
        self,
        since: datetime,
        until: datetime,
        *,
        status: str | None = "WAIT_ACCEPTANCE",
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[ActSummary]:
        params: dict[str, Any] = {
            "pg": self.profile.product_group,
            "receiverInn": self.participant_bin,
            "documentType": self.profile.doc_types["shipment"],
            "dateFrom": operator_time(since),  # always a window (the planned v552 rule)
            "dateTo": operator_time(until),
            "limit": min(limit, self.profile.list_limit),
            "order": "ASC",
        }
        if status:
            params["documentStatus"] = status
        if cursor:
            try:
                anchor = json.loads(base64.urlsafe_b64decode(cursor))
                params |= {"did": anchor["did"], "orderedColumnValue": anchor["value"], "pageDir": "NEXT"}
            except (ValueError, KeyError, TypeError, binascii.Error) as e:
                raise ValueError(f"not a cursor of this adapter: {cursor!r}") from e
        data = self._json("GET", self.profile.doc_list, params=params)
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise OperatorError("bad_answer", "doc/list: no results")
        items = tuple(self._summary(r) for r in data["results"])
        next_cursor = None
        if data.get("nextPage") and items:
            last = items[-1].raw
            anchor = {"did": last[self.profile.list_id_field], "value": last["docDate"]}
            next_cursor = base64.urlsafe_b64encode(json.dumps(anchor).encode()).decode("ascii")
        return Page(items, next_cursor)

    def _info(self, doc_id: str, **params: Any) -> dict[str, Any]:
        data = self._json("GET", self.profile.doc_info.replace("{id}", doc_id), params=params)
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return data[0]
        if isinstance(data, dict):
            return data
        raise OperatorError("bad_answer", "doc/info: not a document")

    def get_act(self, doc_id: str, *, expand: Literal["listed", "tree"] = "tree") -> Act:
        info = self._info(doc_id, body="true", pg=self.profile.product_group, limit=36_000)
        body = info.get("body") or {}
        products = body.get("products") if isinstance(body, dict) else None
        if not isinstance(products, list):
            raise OperatorError("bad_answer", "doc/info: the shipment has no products")
        listed: list[tuple[str, int | None, int | None]] = []
        for p in products:
            code = p.get("uit_code") or p.get("uitu_code")
            if not code:
                raise OperatorError("bad_answer", "doc/info: a product without a code")
            listed.append((str(code), p.get("product_cost"), p.get("product_tax")))
        trees: dict[str, Any] = {}
        if expand == "tree":
            aggregates = [c for c, _p, _v in listed if level_of(c) is not Level.PACK]
            for batch in _batches(aggregates, self.profile.codes_per_lookup):
                try:
                    found = self._json(
                        "POST",
                        self.profile.cises_aggregated,
                        params={"pg": self.profile.product_group},
                        json=list(batch),
                    )
                except OperatorError as e:
                    if e.status == 404:  # "КМ не найдены": nothing under these
                        continue
                    raise
                if not isinstance(found, dict):
                    raise OperatorError("bad_answer", "cises/aggregated/list: not a map")
                trees.update(found)
        lines: list[ActLine] = []

        def walk(code: str, subtree: Any, parent: str, price: int | None = None, vat: int | None = None) -> None:
            kids = subtree if isinstance(subtree, dict) else {}
            lines.append(ActLine(code, _level(code, kids), parent, False, _gtin(code), price, vat))
            for kid, below in kids.items():
                walk(kid, below, code)

        for code, price, vat in listed:
            subtree = trees.get(code)
            kids = subtree if isinstance(subtree, dict) else {}
            lines.append(ActLine(code, _level(code, kids), None, True, _gtin(code), price, vat))
            for kid, below in kids.items():
                walk(kid, below, code)
        summary = self._summary(info)
        return Act(
            summary,
            _parse_time(body.get("transfer_date")) or summary.doc_date,
            body.get("turnover_type"),
            tuple(lines),
        )

    def codes_info(self, codes: Sequence[str]) -> list[CodeInfo]:
        batches = list(_batches(list(codes), self.profile.codes_per_lookup))
        if len(batches) > 1 and self._workers > 1:
            with ThreadPoolExecutor(self._workers, thread_name_prefix="operator-lookup") as pool:
                answers = list(pool.map(self._lookup, batches))  # in order; the first error is raised
        else:
            answers = [self._lookup(batch) for batch in batches]
        return [info for answer in answers for info in answer]

    def _lookup(self, batch: Sequence[str]) -> list[CodeInfo]:
        data = self._json("POST", self.profile.cises_info, params={"pg": self.profile.product_group}, json=list(batch))
        if not isinstance(data, list) or len(data) != len(batch):
            raise OperatorError("bad_answer", "cises/info: not one answer a code")
        out: list[CodeInfo] = []
        for requested, item in zip(batch, data, strict=True):
            info = item.get("cisInfo") or {}
            out.append(
                CodeInfo(
                    code=str(info.get("requestedCis") or requested),
                    status=info.get("status"),
                    owner_bin=info.get("ownerInn"),
                    error_code=item.get("errorCode"),
                    error_message=item.get("errorMessage"),
                    gtin=info.get("gtin"),
                    package_type=info.get("generalPackageType") or info.get("packageType"),
                    parent=info.get("parent"),
                )
            )
        return out

    # --- bodies -----------------------------------------------------------------------------------------

    def acceptance_body(self, act: Act, decision: AcceptanceDecision, *, number: str, when: datetime) -> bytes:
        """LP_ACCEPT_GOODS (manual p.191-196) as canonical JSON: the exact bytes to sign and send."""
        s = act.summary
        body: dict[str, Any] = {
            "release_order_number": s.id,
            "trade_sender_inn": s.sender_bin,
            "trade_recipient_inn": s.receiver_bin,
            "document_number": number,
            "document_date": operator_time(when),
            "transfer_date": operator_time(act.transfer_date or s.doc_date),
            "acceptance_date": operator_time(when),
            "turnover_type": act.turnover_type or "SELLING",
        }
        if decision.mode is AcceptanceMode.ACCEPT_ALL:
            body["accept_all"] = True
        elif decision.mode is AcceptanceMode.REJECT_ALL:
            body["reject_all"] = True
        else:
            body["products"] = _decision_products(act, decision)
        return canonical.dumps(body)

    def shipment_body(self, *, number: str, when: datetime, receiver_bin: str, lines: Sequence[OutgoingLine]) -> bytes:
        """LP_SHIP_GOODS (manual p.171-173)."""
        products = []
        for line in lines:
            item: dict[str, Any] = {_code_key(line.code): line.code}
            if line.price_tiyn is not None:
                item["product_cost"] = line.price_tiyn  # [U] tiyn; RU sends roubles with kopecks
            if line.vat_tiyn is not None:
                item["product_tax"] = line.vat_tiyn
            products.append(item)
        body = {
            "sender_inn": self.participant_bin,
            "receiver_inn": receiver_bin,
            "transfer_date": operator_time(when),
            "document_num": number,
            "document_date": operator_time(when),
            "turnover_type": "SELLING",
            "products": products,
        }
        return canonical.dumps(body)

    def cancel_body(self, shipment_doc_id: str) -> bytes:
        """LP_CANCEL_SHIPMENT (manual p.190)."""
        return canonical.dumps({"participant_inn": self.participant_bin, "shipment_number": shipment_doc_id})

    # --- documents ----------------------------------------------------------------------------------------

    def submit(self, kind: Literal["acceptance", "shipment", "cancel"], body: bytes, signature: bytes) -> Submission:
        digest = hashlib.sha256(body).hexdigest()
        encoded, sig = base64.b64encode(body).decode("ascii"), base64.b64encode(signature).decode("ascii")
        params: dict[str, Any] = {}
        if self.profile.envelope is Envelope.RU_UNIFIED:
            envelope = {
                "document_format": self.profile.document_format,
                "product_document": encoded,
                "type": self.profile.doc_types[kind],
                "signature": sig,
            }
            params["pg"] = self.profile.product_group
        else:
            envelope = {"document": encoded, "signature": sig}
        try:
            response = self._send(
                "POST", self.profile.create_path(kind), idempotent=False, json=envelope, params=params
            )
        except OperatorError as e:
            if e.reason == "timeout_after_send":
                return Submission(SubmissionState.UNKNOWN, None, digest)
            raise
        doc_id = response.text.strip().strip('"')
        if not doc_id:
            return Submission(SubmissionState.UNKNOWN, None, digest)  # accepted, but no id: look it up
        return Submission(SubmissionState.SENT, doc_id, digest)

    @staticmethod
    def _status(doc_id: str, item: dict[str, Any]) -> DocStatus:
        status = str(item.get("status") or "")
        errors = []
        for e in [*(item.get("errors") or []), *(item.get("commonErrors") or [])]:
            errors.append(str(e.get("errorMessage") or e) if isinstance(e, dict) else str(e))
        return DocStatus(doc_id, status, status in FINAL_STATUSES, tuple(errors), item)

    def document_status(self, doc_id: str) -> DocStatus:
        return self._status(doc_id, self._info(doc_id, pg=self.profile.product_group))

    def find_document(self, number: str, since: datetime) -> DocStatus | None:
        params = {
            "pg": self.profile.product_group,
            "senderInn": self.participant_bin,  # [I] the author of an acceptance or shipment is its sender
            "number": number,
            "dateFrom": operator_time(since - timedelta(minutes=5)),
            "dateTo": operator_time(datetime.now(UTC) + timedelta(days=1)),
            "limit": 10,
        }
        data = self._json("GET", self.profile.doc_list, params=params)
        results = data.get("results") if isinstance(data, dict) else None
        if not results:
            return None
        try:
            return self._status(str(results[0][self.profile.list_id_field]), results[0])
        except (KeyError, TypeError) as e:
            raise OperatorError("bad_answer", f"doc/list: a document without {e}") from e


def _code_key(code: str) -> str:
    return "uitu_code" if is_aggregate(code) else "uit_code"


def _gtin(code: str) -> str | None:
    level = level_of(code)
    if level is Level.PACK:
        return code[:14]
    if level is Level.BLOCK:
        return code[2:16]
    return None


def _level(code: str, kids: dict[str, Any]) -> Level | str:
    level = level_of(code)
    if level is Level.BOX and any(is_aggregate(k) for k in kids):
        return Level.PALLET
    return level


def _decision_products(act: Act, decision: AcceptanceDecision) -> list[dict[str, Any]]:
    """The shipment's listed codes, each accepted or not; a listed aggregate whose contents are split is
    given with its children down to where the decision speaks (manual p.196, the JSON variant)."""
    children: dict[str, list[ActLine]] = {}
    for line in act.lines:
        if line.parent is not None:
            children.setdefault(line.parent, []).append(line)

    def item(line: ActLine) -> dict[str, Any]:
        entry: dict[str, Any] = {_code_key(line.code): line.code}
        if line.code in decision.accepted:
            entry["accepted"] = True
            if line.price_tiyn is not None:
                entry["product_cost"] = line.price_tiyn
            if line.vat_tiyn is not None:
                entry["product_tax"] = line.vat_tiyn
            return entry
        if line.code in decision.rejected:
            return entry | {"accepted": False}
        kids = children.get(line.code)
        if not kids:
            raise ValueError(f"the decision says nothing of {line.code!r}")
        entry["children"] = [item(kid) for kid in kids]
        entry["accepted"] = any(k["accepted"] for k in entry["children"])  # [I] the package came, part of it kept
        return entry

    return [item(line) for line in act.lines if line.listed]
