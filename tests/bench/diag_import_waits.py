"""Where a scan waits while an act is imported on SQLite: the write lock, its own CPU, or the rest.

A diagnosis, not a bench with targets (so `make bench` does not run it): four scanners as in
bench_import_scanning, each scan split into the wait for BEGIN IMMEDIATE (the lock) and the scanning
thread's CPU time. `python tests/bench/diag_import_waits.py [base]` (BENCH_PALLETS=8: 220k codes); `base`
scans for 15 s with no import.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import warehouse.db as wdb  # noqa: E402
from tests.bench import bench_import_scanning as bench  # noqa: E402
from tests.bench.bench_receiving import act_lines, make_database, sqlite_url  # noqa: E402
from warehouse import transfer_act  # noqa: E402
from warehouse.services import importing  # noqa: E402
from warehouse.services.receiving import ScanInput, record_scan  # noqa: E402

_local = threading.local()
_begin = wdb._begin_immediate
records: list[tuple[float, float, float]] = []  # (total, lock wait, thread CPU) in ms


def _timed_begin(conn: Any) -> None:
    start = time.perf_counter()
    _begin(conn)
    _local.lock = (time.perf_counter() - start) * 1000


def _scan(db: Any, act_id: int, codes: list[str], stop: threading.Event, out: list[float], failed: list[str]) -> None:
    period, i = 1 / bench.RATE, 0
    next_at = time.perf_counter()
    while not stop.is_set() and i < len(codes):
        start, cpu = time.perf_counter(), time.thread_time()
        _local.lock = 0.0
        try:
            record_scan(db, act_id, ScanInput(raw=codes[i], source="api", station="dock-1"))
        except Exception as e:  # counted, as in the bench
            failed.append(repr(e))
        total = (time.perf_counter() - start) * 1000
        out.append(total)
        records.append((total, _local.lock, (time.thread_time() - cpu) * 1000))
        i += 1
        next_at += period
        time.sleep(max(0.0, next_at - time.perf_counter()))


def _q(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p * len(values)))]


def main() -> None:
    wdb._begin_immediate = _timed_begin  # type: ignore[assignment]
    bench._scan = _scan  # type: ignore[assignment]
    folder = Path(tempfile.mkdtemp(prefix="diag-import-waits-"))
    header, lines = act_lines()
    truck = folder / "truck.json"
    transfer_act.write_json(truck, header, lines)
    (folder / "s").mkdir()
    url = sqlite_url(folder / "s")
    db = make_database(url, folder / "s" / "instance")
    small_header, small = transfer_act.generate_act(
        pallets=1, boxes_per_pallet=20, blocks_per_box=50, packs_per_block=10, seed=11, number="OPEN-1"
    )
    small_lines = list(small)
    transfer_act.write_json(folder / "s" / "open.json", small_header, iter(small_lines))
    act = importing.import_act(db, folder / "s" / "open.json").act_id
    packs = [line.code for line in small_lines if line.level is transfer_act.Level.PACK]
    if sys.argv[1:] == ["base"]:
        _, failed = bench._run_scanners(url, act, packs, None, 15)
    else:
        done = threading.Event()
        child = bench._import(url, folder / "s" / "instance", truck)
        start = time.perf_counter()
        watcher = threading.Thread(target=bench._set_when_done, args=(child, done))
        watcher.start()
        _, failed = bench._run_scanners(url, act, packs, done, 0)
        watcher.join()
        print(f"import {time.perf_counter() - start:.1f} s")
    total, lock, cpu = (sorted(r[k] for r in records) for k in range(3))
    print(f"scans {len(records)}, failed {len(failed)}; total p50 {_q(total, 0.5):.1f} p99 {_q(total, 0.99):.1f}")
    print(f"lock wait p50 {_q(lock, 0.5):.1f} p99 {_q(lock, 0.99):.1f} max {lock[-1]:.1f} ms")
    print(f"thread CPU p50 {_q(cpu, 0.5):.1f} p99 {_q(cpu, 0.99):.1f} ms; load {os.getloadavg()[0]:.1f}")
    slow = sorted(records, reverse=True)[: max(1, len(records) // 100)]
    means = [sum(r[k] for r in slow) / len(slow) for k in range(3)]
    print("slowest 1%: total {:.1f}, lock wait {:.1f}, CPU {:.1f} ms".format(*means))


if __name__ == "__main__":
    main()
