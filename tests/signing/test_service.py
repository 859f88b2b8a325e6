"""Signing a decided act through the service, on SQLite and PostgreSQL: stored, audited, all or nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.signing.conftest import decided_act
from tests.signing.pki import PASSWORD, minted
from warehouse.db import get_db
from warehouse.models import Act, AuditEntry, LineResolution, SignedDocument
from warehouse.services import audit, review
from warehouse.services import signing as service
from warehouse.signing.errors import SigningError
from warehouse.signing.signers import Pkcs12Signer
from warehouse.signing.trust import load_settings
from warehouse.timeutil import utcnow


def _signer() -> Pkcs12Signer:
    return Pkcs12Signer.open(minted().sign_key.read_bytes(), PASSWORD)


def _counts(app: Flask, act_id: int) -> tuple[str, int, int]:
    with get_db(app).read() as s:
        act = s.get(Act, act_id)
        assert act is not None
        docs = s.execute(
            select(func.count()).select_from(SignedDocument).where(SignedDocument.act_id == act_id)
        ).scalar_one()
        signed = s.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "act.signed", AuditEntry.act_id == act_id)
        )
        return act.status, docs, signed.scalar_one()


def _walk(nodes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for node in nodes:
        out[node["code"]] = node
        out.update(_walk(node.get("children", [])))
    return out


def test_sign_a_decision_with_discrepancies(app: Flask, tmp_path: Path) -> None:
    act_id, f = decided_act(app, tmp_path, boxes=2)
    db = get_db(app)
    settings = load_settings(app.config)
    outcome = service.sign_act(db, act_id, _signer(), settings=settings, actor="cli:test")
    assert outcome.certificate.iin == "123456789011" and outcome.warnings == ()
    assert _counts(app, act_id) == ("signed", 1, 1)
    [row] = service.documents(db, act_id)
    assert row.kind == "transfer-act-acceptance/1" and row.signer_iin == "123456789011"
    assert row.content == outcome.documents[0].content and row.signature == outcome.signatures[0]
    assert service.verify(settings, row.content, row.signature).valid

    data = json.loads(row.content)
    assert data["decision"] == "accepted_with_discrepancies" and data["reason"] == "shortage"
    assert data["signer"]["certificate"]["iin"] == "123456789011"
    nodes = _walk(data["products"])
    box1, box2 = f.codes["box"]
    assert nodes[box1]["accepted"] is True and "children" not in nodes[box1]
    assert nodes[box2]["accepted"] is False and "children" not in nodes[box2]
    assert nodes[f.codes["pallet"][0]]["accepted"] is False

    with db.read() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "act.signed")).scalar_one()
        assert audit.verify(s).ok
    assert entry.details["documents"][0]["sha256"] == outcome.documents[0].sha256
    assert PASSWORD not in json.dumps(entry.details)

    with pytest.raises(SigningError, match="already_signed"):
        service.sign_act(db, act_id, _signer(), settings=settings)


def test_lead_resolutions_reach_the_document(shared_app: Flask, tmp_path: Path) -> None:
    app = shared_app
    act_id, f = decided_act(app, tmp_path, boxes=2, decision="accepted_with_discrepancies")
    db = get_db(app)
    # resolutions are made while the act is closed; add one after the fact through the table itself
    with db.read() as s:
        lines = review.lines(s, s.get(Act, act_id))  # type: ignore[arg-type]
    missing_box = next(line for line in lines if line.kind == "missing")
    with db.write() as s:
        s.add(
            LineResolution(
                act_id=act_id,
                act_code_id=missing_box.act_code_id,
                resolution="accept",
                reason="damage",
                comment="принята по акту осмотра",
            )
        )
    prepared = service.prepare(db, act_id, signer=service.signer_ref(None, "t", None), created_at=utcnow())
    nodes = _walk(json.loads(prepared.documents[0].content)["products"])
    assert nodes[f.codes["pallet"][0]]["accepted"] is True  # everything accepted: one line with its note below
    box2 = nodes[missing_box.code]
    assert box2["accepted"] is True and box2["reason"] == "damage" and box2["comment"] == "принята по акту осмотра"


def test_rejected_act_refuses_every_code(shared_app: Flask, tmp_path: Path) -> None:
    app = shared_app
    act_id, f = decided_act(app, tmp_path, decision="rejected", scan_boxes=2)
    prepared = service.prepare(get_db(app), act_id, signer=service.signer_ref(None, "t", None), created_at=utcnow())
    data = json.loads(prepared.documents[0].content)
    assert data["products"] == [{"code": f.codes["pallet"][0], "level": "pallet", "accepted": False}]


def test_only_a_decided_act_is_signed(shared_app: Flask, tmp_path: Path) -> None:
    app = shared_app
    from tests.factories import ActFactory
    from warehouse.services import importing

    act_id = importing.import_act(get_db(app), ActFactory(number="N-new").write(tmp_path / "a.json")).act_id
    with pytest.raises(SigningError, match="act_not_decided"):
        service.sign_act(get_db(app), act_id, _signer(), settings=load_settings(app.config))
    with pytest.raises(SigningError, match="no_act"):
        service.prepare(get_db(app), 999_999, signer=service.signer_ref(None, "t", None), created_at=utcnow())


class BrokenSigner:
    backend = "pkcs12"

    def __init__(self, inner: Pkcs12Signer, fail: str) -> None:
        self.inner, self.fail = inner, fail

    @property
    def certificate(self) -> Any:
        return self.inner.certificate

    @property
    def chain(self) -> tuple[Any, ...]:
        return ()

    def sign(self, content: bytes) -> bytes:
        if self.fail == "raise":
            raise SigningError("ncanode_unavailable")
        return self.inner.sign(content + b" ")  # signs other bytes


@pytest.mark.parametrize("fail", ["raise", "other_bytes"])
def test_a_failing_signer_writes_nothing(shared_app: Flask, tmp_path: Path, fail: str) -> None:
    app = shared_app
    act_id, _f = decided_act(app, tmp_path)
    with pytest.raises(SigningError):
        service.sign_act(get_db(app), act_id, BrokenSigner(_signer(), fail), settings=load_settings(app.config))
    assert _counts(app, act_id) == ("decided", 0, 0)


def test_failure_before_commit_writes_nothing(shared_app: Flask, tmp_path: Path) -> None:
    app = shared_app
    act_id, _f = decided_act(app, tmp_path)

    def refuse(_outcome: service.SigningOutcome) -> None:
        raise SigningError("output_exists")

    with pytest.raises(SigningError, match="output_exists"):
        service.sign_act(get_db(app), act_id, _signer(), settings=load_settings(app.config), before_commit=refuse)
    assert _counts(app, act_id) == ("decided", 0, 0)


def test_signatures_made_elsewhere_are_verified_before_storing(shared_app: Flask, tmp_path: Path) -> None:
    app = shared_app
    act_id, _f = decided_act(app, tmp_path)
    db = get_db(app)
    settings = load_settings(app.config)
    created = utcnow() - timedelta(minutes=3)
    prepared = service.prepare(db, act_id, signer=service.signer_ref(None, "lead", None), created_at=created)
    good = [_signer().sign(d.content) for d in prepared.documents]
    wrong = [_signer().sign(d.content + b"x") for d in prepared.documents]

    with pytest.raises(SigningError, match="content_mismatch"):
        service.accept_signatures(db, act_id, wrong, created_at=created, settings=settings, actor="lead")
    with pytest.raises(SigningError, match="signature_count"):
        service.accept_signatures(db, act_id, [], created_at=created, settings=settings, actor="lead")
    with pytest.raises(SigningError, match="stale_document"):
        service.accept_signatures(db, act_id, good, created_at=created - timedelta(days=1), settings=settings)
    # signed for another moment: the rebuilt bytes differ
    with pytest.raises(SigningError, match="content_mismatch"):
        service.accept_signatures(
            db, act_id, good, created_at=created + timedelta(seconds=1), settings=settings, actor="lead"
        )
    assert _counts(app, act_id) == ("decided", 0, 0)

    outcome = service.accept_signatures(db, act_id, good, created_at=created, settings=settings, actor="lead")
    assert outcome.backend == "ncalayer" and _counts(app, act_id) == ("signed", 1, 1)
