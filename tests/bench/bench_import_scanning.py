"""Scanning while a full truck is imported: four scanners at 50 scans a second each, on SQLite.

Each scanner records scans of another open act through the receiving service (its own thread and
connection, as the server's request threads do) while `warehouse acts import` writes a full truck
(1,102,040 codes, as bench_receiving generates it) in a process of its own. Figures: p99 and max wait of a
scan, failed scans, and the import's time; baselines in the same run: the same scanners with no import,
the import with no scanners, and a raw sqlite3 executemany of the same rows into the same schema (same
unique index), the floor an import is measured against (issue 19: at most 1.5x).
Run: `python tests/bench/bench_import_scanning.py` (BENCH_PALLETS=4 for
a tenth of a truck).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_receiving import act_lines, make_database, quantile, run, sqlite_url  # noqa: E402
from tests.bench.results import Results  # noqa: E402
from warehouse import transfer_act  # noqa: E402
from warehouse.services import importing  # noqa: E402
from warehouse.services.receiving import ScanInput, record_scan  # noqa: E402

SCANNERS, RATE = 4, 50.0
BASELINE_S = 5.0
TARGETS = {"p99_ms": 50.0, "max_ms": 250.0, "failed": 0, "executemany_ratio": 1.5}


def _scan(
    db: object, act_id: int, codes: list[str], stop: threading.Event, out: list[float], failed: list[str]
) -> None:
    period, i = 1 / RATE, 0
    next_at = time.perf_counter()
    while not stop.is_set() and i < len(codes):
        start = time.perf_counter()
        try:
            record_scan(db, act_id, ScanInput(raw=codes[i], source="api", station="dock-1"))  # type: ignore[arg-type]
        except Exception as e:  # counted: a failed scan is the defect measured here
            failed.append(f"{type(e).__name__}: {e}")
        out.append((time.perf_counter() - start) * 1000)
        i += 1
        next_at += period
        time.sleep(max(0.0, next_at - time.perf_counter()))


def _run_scanners(
    url: str, act_id: int, packs: list[str], until: threading.Event | None, seconds: float
) -> tuple[list[float], list[str]]:
    from warehouse.db import Database

    stop = until or threading.Event()
    waits: list[float] = []
    failed: list[str] = []
    dbs = [Database(url) for _ in range(SCANNERS)]
    share = len(packs) // SCANNERS
    threads = [
        threading.Thread(target=_scan, args=(dbs[k], act_id, packs[k * share : (k + 1) * share], stop, waits, failed))
        for k in range(SCANNERS)
    ]
    for t in threads:
        t.start()
    if until is None:
        time.sleep(seconds)
        stop.set()
    for t in threads:
        t.join()
    for d in dbs:
        d.dispose()
    return waits, failed


def _import(url: str, instance: Path, path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WAREHOUSE_DATABASE_URL": url, "WAREHOUSE_INSTANCE_PATH": str(instance)}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "warehouse"), "acts", "import", "--quiet", str(path)], env=env
    )


def _set_when_done(child: subprocess.Popen[bytes], done: threading.Event) -> None:
    child.wait()
    done.set()


def main() -> None:
    results = Results("import_scanning")
    folder = Path(tempfile.mkdtemp(prefix="bench-import-scanning-"))
    header, lines = act_lines()
    truck = folder / "truck.json"
    codes = transfer_act.write_json(truck, header, lines)
    print(f"truck: {codes:,} codes, {truck.stat().st_size / 1e6:.0f} MB")
    for label in ("alone", "scanning"):
        url = sqlite_url(folder / label)
        (folder / label).mkdir()
        db = make_database(url, folder / label / "instance")
        small_header, small = transfer_act.generate_act(
            pallets=1, boxes_per_pallet=20, blocks_per_box=50, packs_per_block=10, seed=11, number="OPEN-1"
        )
        small_lines = list(small)
        transfer_act.write_json(folder / label / "open.json", small_header, iter(small_lines))
        open_act = importing.import_act(db, folder / label / "open.json").act_id
        packs = [line.code for line in small_lines if line.level is transfer_act.Level.PACK]
        if label == "alone":
            start = time.perf_counter()
            if _import(url, folder / label / "instance", truck).wait() != 0:
                raise SystemExit("the import failed")
            alone_s = time.perf_counter() - start
            print(f"import alone: {alone_s:.1f} s")
            with db.read() as s:
                truck_id = s.execute(text("SELECT id FROM acts WHERE number = :n"), {"n": header.number}).scalar_one()
            raw = run("baseline-sqlite", url, truck_id, folder / "baseline")  # bench_receiving's, a process of its own
            raw_s = float(raw["seconds"])
            print(f"raw executemany of the same rows: {raw_s:.1f} s")
            continue
        base_waits, base_failed = _run_scanners(url, open_act, packs[: len(packs) // 2], None, BASELINE_S)
        done = threading.Event()
        child = _import(url, folder / label / "instance", truck)
        start = time.perf_counter()
        watcher = threading.Thread(target=_set_when_done, args=(child, done))
        watcher.start()
        waits, failed = _run_scanners(url, open_act, packs[len(packs) // 2 :], done, 0)
        watcher.join()
        busy_s = time.perf_counter() - start
        if child.returncode != 0:
            raise SystemExit("the import failed while scanning")
        wal = Path(str(folder / label / "warehouse.sqlite3") + "-wal")
        wal_mb = wal.stat().st_size / 1e6 if wal.exists() else 0.0
        b99, b_max = quantile(base_waits, 0.99), max(base_waits)
        print(f"scans without an import: {len(base_waits)}; during the import: {len(waits)} ({len(failed)} failed)")
        results.add("scan wait p99 during import", quantile(waits, 0.99), "ms", at_most=TARGETS["p99_ms"], baseline=b99)
        results.add("scan wait max during import", max(waits), "ms", at_most=TARGETS["max_ms"], baseline=b_max)
        results.add(
            "scans failed during import", len(failed), "scans", at_most=TARGETS["failed"], baseline=len(base_failed)
        )
        results.add("scan wait p50 during import", quantile(waits, 0.5), "ms", baseline=quantile(base_waits, 0.5))
        results.add("import while scanning", busy_s, "s", baseline=alone_s)
        results.add("import alone", alone_s, "s", baseline=raw_s)
        results.add(
            "import alone / executemany", alone_s / raw_s, "x", at_most=TARGETS["executemany_ratio"], baseline=1.0
        )
        results.add("WAL after the import", wal_mb, "MB", at_most=8.0)
        if failed:
            print("first failure:", failed[0])
    for f in results.figures:
        target = "" if f.target is None else f" (target {'≤'} {f.target:g}: {'met' if f.met else 'NOT met'})"
        base = "" if f.baseline is None else f", baseline {f.baseline:.1f}"
        print(f"{f.name:<32} {f.value:10.1f} {f.unit}{base}{target}")
    print("written:", results.write())


if __name__ == "__main__":
    main()
