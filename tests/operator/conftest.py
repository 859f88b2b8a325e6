"""The emulator as a real server on a free loopback port, keys with the parties' BINs, seeded acts."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.signing.pki import _issue, _name, minted
from warehouse.operator.emulator.server import build, start_thread
from warehouse.operator.http import HttpOperatorAdapter
from warehouse.operator.profile import Profile, get_profile
from warehouse.signing.signers import Pkcs12Signer
from warehouse.transfer_act import Party, generate_act, write_json

SENDER = Party("ТОО «Табак-Трейд Алматы»", "990340001230")
RECEIVER = Party('ТОО "Склад & Ко" <Астана>', "051140004562")
_serials = itertools.count(7001)
_seeds = itertools.count(101)


def signer_for(bin_: str | None, name: str = "ИВАНОВ ИВАН") -> Pkcs12Signer:
    chain = minted()
    issued = _issue(
        chain.intermediate_key,
        chain.intermediate,
        _name(name, iin="900101300123", bin_=bin_, org="ТОО" if bin_ else None),
        login=False,
        serial=next(_serials),
    )
    return Pkcs12Signer(issued.key, issued.certificate, [chain.intermediate])


@dataclass
class Emulator:
    url: str  # base URL with the prefix
    root: str  # http://127.0.0.1:N
    profile: Profile
    tmp: Path

    def control(self, path: str, body: Any = None, **params: Any) -> Any:
        if body is None and not params:
            return httpx.get(f"{self.root}/_emu/{path}").json()
        r = httpx.post(f"{self.root}/_emu/{path}", json=body, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def seed(self, *, mode: str | None = None, **shape: int) -> dict[str, Any]:
        seed = next(_seeds)
        dims = {"pallets": 1, "boxes_per_pallet": 2, "blocks_per_box": 2, "packs_per_block": 3} | shape
        header, lines = generate_act(seed=seed, number=f"ТА-{seed:06d}", sender=SENDER, receiver=RECEIVER, **dims)
        path = self.tmp / f"act-{seed}.json"
        write_json(path, header, lines)
        return self.seed_file(path, mode=mode)

    def seed_file(self, path: Path, *, mode: str | None = None) -> dict[str, Any]:
        r = httpx.post(f"{self.root}/_emu/seed", content=path.read_bytes(), params={"mode": mode} if mode else {})
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def owners(self, codes: list[str]) -> dict[str, str]:
        found = httpx.get(f"{self.root}/_emu/codes", params={"cis": codes}).json()
        return {c: v["owner"] for c, v in found.items()}

    def log(self, since: int = 0) -> list[dict[str, Any]]:
        return httpx.get(f"{self.root}/_emu/log", params={"since": since}).json()["entries"]  # type: ignore[no-any-return]

    def adapter(self, **kw: Any) -> HttpOperatorAdapter:
        return HttpOperatorAdapter(self.url, self.profile, **({"backoff": 0.01} | kw))


def _serve(tmp: Path, profile: Profile) -> Iterator[Emulator]:
    server = build(profile, "127.0.0.1", 0, db=tmp / "emulator.sqlite3", delay=0.05)
    start_thread(server)
    root = f"http://127.0.0.1:{server.port}"
    yield Emulator(root + profile.prefix, root, profile, tmp)
    server.shutdown()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from _serve(tmp_path_factory.mktemp("emulator"), get_profile("kz_ismet_v3"))


@pytest.fixture(scope="module")
def ru_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from _serve(tmp_path_factory.mktemp("emulator-ru"), get_profile("ru_true_api"))


@pytest.fixture(scope="module")
def own_id_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An operator whose list gives the document id in a field of its own ("id"), `number` the sender's."""
    profile = replace(get_profile("kz_ismet_v3"), list_id_field="id")
    yield from _serve(tmp_path_factory.mktemp("emulator-id"), profile)


@pytest.fixture(scope="session")
def receiver_key() -> Pkcs12Signer:
    return signer_for(RECEIVER.bin)


@pytest.fixture(scope="session")
def sender_key() -> Pkcs12Signer:
    return signer_for(SENDER.bin, "ПЕТРОВ ПЁТР")


@pytest.fixture(autouse=True)
def _no_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    for name in ("emulator", "ru_emulator", "own_id_emulator"):
        if name in request.fixturenames:
            request.getfixturevalue(name).control("faults", {"clear": True})
