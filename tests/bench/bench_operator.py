"""Benchmark of the exchange with the operator (issue 18): run as a script, not collected by pytest.

    .venv/bin/python tests/bench/bench_operator.py [PALLETS]

A full truck (40 pallets x 50 boxes x 50 blocks x 10 packs = 1,102,040 codes, the act of
bench_acts_format) is seeded into `warehouse operator emulate` (a process of its own, on loopback), then
fetched with get_act(expand="tree"), every code looked up with codes_info (batches of 1000, <=50
requests/s), and a partial acceptance built and signed. Time, requests and requests/s for each step.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import results
from tests.operator.conftest import RECEIVER, SENDER, signer_for
from warehouse import transfer_act
from warehouse.operator.http import HttpOperatorAdapter
from warehouse.operator.profile import get_profile
from warehouse.operator.types import AcceptanceDecision, AcceptanceMode

BOXES_PER_PALLET, BLOCKS_PER_BOX, PACKS_PER_BLOCK = 50, 50, 10


def main() -> None:
    pallets = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    figures = results.Results("operator")
    with tempfile.TemporaryDirectory(prefix="bench-operator-") as tmp:
        folder = Path(tmp)
        header, lines = transfer_act.generate_act(
            pallets=pallets,
            boxes_per_pallet=BOXES_PER_PALLET,
            blocks_per_box=BLOCKS_PER_BOX,
            packs_per_block=PACKS_PER_BLOCK,
            seed=4,
            sender=SENDER,
            receiver=RECEIVER,
        )
        seed = folder / "truck.json"
        n = transfer_act.write_json(seed, header, lines)
        print(f"act: {n:,} codes, {seed.stat().st_size / 1e6:.1f} MB")
        began = time.monotonic()
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "warehouse"),
                "operator",
                "emulate",
                "--port",
                "0",
                "--seed",
                str(seed),
                "--db",
                str(folder / "emu.sqlite3"),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "WAREHOUSE_INSTANCE_PATH": str(folder / "inst")},
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            seeded = time.monotonic() - began
            print(f"seed: {seeded:.1f} s")
            figures.add("seed the emulator", seeded, "s")
            with HttpOperatorAdapter(url, get_profile(), timeout=300) as adapter:
                signer = signer_for(RECEIVER.bin)
                adapter.authenticate(signer)
                doc = adapter.list_incoming_acts(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
                doc_id = doc.items[0].id

                start, sent = time.monotonic(), adapter.requests
                act = adapter.get_act(doc_id, expand="tree")
                took, requests = time.monotonic() - start, adapter.requests - sent
                print(f"get_act(tree): {len(act.lines):,} lines in {took:.1f} s, {requests} requests")
                assert len(act.lines) == n
                figures.add("get_act tree", took, "s", at_most=60.0)
                figures.add("get_act requests", requests, "requests")

                codes = [line.code for line in act.lines]
                start, sent = time.monotonic(), adapter.requests
                infos = adapter.codes_info(codes)
                took, requests = time.monotonic() - start, adapter.requests - sent
                rate = requests / took
                print(f"codes_info: {len(infos):,} codes in {took:.1f} s, {requests} requests, {rate:.1f} requests/s")
                assert sum(1 for i in infos if i.error_code is None) == n
                figures.add("codes_info all codes", took, "s")
                figures.add("codes_info requests", requests, "requests")
                figures.add("codes_info requests/s", rate, "requests/s", at_most=50.0)

                pallets_codes = [line.code for line in act.lines if line.level == "pallet"]
                boxes = [line for line in act.lines if line.level == "box"]
                accepted = frozenset(pallets_codes[1:]) | {b.code for b in boxes[1:BOXES_PER_PALLET]}
                rejected = frozenset({boxes[0].code})
                start = time.monotonic()
                body = adapter.acceptance_body(
                    act,
                    AcceptanceDecision(AcceptanceMode.PARTIAL, accepted, rejected),
                    number="ПР-BENCH",
                    when=datetime.now(UTC),
                )
                signature = signer.sign(body)
                took = time.monotonic() - start
                print(f"acceptance: {len(body) / 1e3:.0f} kB built and signed in {took:.2f} s")
                figures.add("acceptance built and signed", took, "s")
                start = time.monotonic()
                submission = adapter.submit("acceptance", body, signature)
                while adapter.document_status(submission.doc_id or "").status == "IN_PROGRESS":
                    time.sleep(0.2)
                took = time.monotonic() - start
                status = adapter.document_status(submission.doc_id or "").status
                print(f"acceptance sent and settled ({status}) in {took:.1f} s")
                figures.add("acceptance settled", took, "s")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"written {figures.write()}")


if __name__ == "__main__":
    main()
