"""Benchmark of import and receiving at full-truck size (issue 4): run as a script, not collected by pytest.

    .venv/bin/python tests/bench/bench_receiving.py            # everything, SQLite then PostgreSQL
    .venv/bin/python tests/bench/bench_receiving.py --quick    # concurrent streams for 10 s instead of 60 s
    .venv/bin/python tests/bench/bench_receiving.py --no-pg    # SQLite only
    .venv/bin/python tests/bench/bench_receiving.py STEP ...   # one step (used by the above)

The act: 40 pallets x 50 boxes x 50 blocks x 10 packs = 2,000 boxes, 100,000 blocks, 1,000,000 packs
(1,102,040 codes, full tree), written as JSON and CSV and imported through the real service, each file
into its own fresh database. Every heavy step runs in its own interpreter, so its peak RSS is its own.

- Import: wall time, and the ratio to a raw `sqlite3` executemany of the same rows (read back from the
  imported act) into a fresh act_codes table of the same schema, indexes, foreign keys and connection
  settings (WAL, synchronous=FULL, the import's page cache), measured in the same run. On PostgreSQL the
  reference is a raw psycopg COPY of the same rows (printed, no target).
- Latency of `record_scan`, every scan a distinct code that credits: all packs of 200 blocks of pallet 1
  (2,000 scans), 2,000 blocks of pallet 2, the 500 boxes of pallets 3-12 (about 551 codes each), then on
  the CSV-imported act, whose pallets are all untouched, its 40 pallets (27,551 codes each). A full truck
  has 40 pallets: the pallet figures are over those 40 scans, p99 of 40 being their maximum.
- Four stations, each its own process, 50 scans/s each for 60 s on one act (packs, blocks and boxes of
  the same two pallets, so stations collide on codes and on aggregates; 2% retried with the same client
  scan id, 1% surplus or unreadable). Then: every acknowledged scan has its journal row (none lost), and
  no code is credited twice (each scan's `credited` equals the codes pointing at it, their sum equals the
  credited codes, the counters agree).
- Peak RSS of every step's process (and of the import's reader process).
The machine is shared: the load average is printed with the figures, and CPU seconds next to wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from tests.bench.results import Results  # noqa: E402
from warehouse import transfer_act  # noqa: E402
from warehouse.db import Database  # noqa: E402

PALLETS, BOXES_PER_PALLET, BLOCKS_PER_BOX, PACKS_PER_BLOCK = int(os.environ.get("BENCH_PALLETS", 40)), 50, 50, 10
SEED = 4
STREAMS, RATE = 4, 50.0  # stations, scans per second each
TARGETS = {"import_s": 20.0, "ratio": 2.0, "pack": 15.0, "block": 15.0, "box": 50.0, "pallet": 500.0, "rss": 400.0}
RESULT = "RESULT "


# ---------------------------------------------------------------------------------------------------
# helpers


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def cpu_s() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def emit(**figures: Any) -> None:
    print(RESULT + json.dumps({"rss_mb": round(peak_mb(), 1), "load": os.getloadavg()[0], **figures}), flush=True)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def act_lines() -> tuple[transfer_act.ActHeader, Iterator[transfer_act.ActLine]]:
    return transfer_act.generate_act(
        pallets=PALLETS,
        boxes_per_pallet=BOXES_PER_PALLET,
        blocks_per_box=BLOCKS_PER_BOX,
        packs_per_block=PACKS_PER_BLOCK,
        seed=SEED,
    )


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'warehouse.sqlite3'}"


def make_database(url: str, instance: Path) -> Database:
    """The application's own database object, schema upgraded by the app factory (Alembic)."""
    from warehouse.db import get_db
    from warehouse.factory import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "AUTO_MIGRATE": True}, instance_path=instance)
    return get_db(app)


# ---------------------------------------------------------------------------------------------------
# steps: each runs in its own interpreter and ends with one RESULT line


def step_write(kind: str, folder: str) -> None:
    header, lines = act_lines()
    path = Path(folder) / f"truck.{kind}"
    start = time.perf_counter()
    n = (transfer_act.write_json if kind == "json" else transfer_act.write_csv)(path, header, lines)
    emit(seconds=time.perf_counter() - start, lines=n, mb=path.stat().st_size / 1e6)


def step_import(kind: str, url: str, instance: str, file: str) -> None:
    from warehouse.services.importing import import_act

    db = make_database(url, Path(instance))
    cpu0, start = cpu_s(), time.perf_counter()
    result = import_act(db, Path(file))
    seconds = time.perf_counter() - start
    emit(
        seconds=seconds,
        cpu=cpu_s() - cpu0,
        act_id=result.act_id,
        codes=result.codes,
        reader_rss_mb=round(peak_mb(resource.RUSAGE_CHILDREN), 1),
        kind=kind,
    )


def _imported_rows(source_url: str, act_id: int, chunk: int = 20_000) -> Iterator[list[tuple[Any, ...]]]:
    """The rows as the import stored them, in id order, chunk by chunk."""
    from warehouse.services.importing import _COLUMNS

    if source_url.startswith("sqlite"):
        con = sqlite3.connect(f"file:{source_url.removeprefix('sqlite:///')}?mode=ro", uri=True)
        cur = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM act_codes WHERE act_id = ? ORDER BY id", (act_id,))
        while rows := cur.fetchmany(chunk):
            yield rows
        con.close()
        return
    import psycopg

    with (
        psycopg.connect(source_url.replace("postgresql+psycopg://", "postgresql://")) as con,
        con.cursor(name="rows") as cur,
    ):
        cur.execute(f"SELECT {', '.join(_COLUMNS)} FROM act_codes WHERE act_id = %s ORDER BY id", (act_id,))
        while rows := cur.fetchmany(chunk):
            yield rows


def step_baseline_sqlite(source_url: str, act_id: int, instance: str) -> None:
    """Raw sqlite3 executemany of the imported rows into a fresh database of the same schema."""
    from warehouse.db import BUSY_TIMEOUT_MS
    from warehouse.services.importing import _COLUMNS, IMPORT_CACHE_KIB

    url = sqlite_url(Path(instance))
    make_database(url, Path(instance)).dispose()
    con = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
        f"cache_size={-IMPORT_CACHE_KIB}",
    ):
        con.execute(f"PRAGMA {pragma}")
    con.execute(
        "INSERT INTO acts (id, direction, number, date, sender_name, sender_bin, receiver_name, receiver_bin, "
        "basis, status, mode, created_at) VALUES (?, 'incoming', 'bench', '2026-11-20', 's', '000000000000', "
        "'r', '000000000000', '[]', 'new', 'trusted', '2026-11-20 00:00:00')",
        (act_id,),
    )
    sql = f"INSERT INTO act_codes ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
    spent, cpu, n = 0.0, 0.0, 0
    con.execute("BEGIN IMMEDIATE")
    for rows in _imported_rows(source_url, act_id):
        t, c = time.perf_counter(), time.process_time()
        con.executemany(sql, rows)
        spent, cpu, n = spent + time.perf_counter() - t, cpu + time.process_time() - c, n + len(rows)
    t, c = time.perf_counter(), time.process_time()
    con.execute("COMMIT")
    spent, cpu = spent + time.perf_counter() - t, cpu + time.process_time() - c
    emit(seconds=spent, cpu=cpu, rows=n)


def step_baseline_pg(source_url: str, act_id: int, target_url: str, instance: str) -> None:
    """Raw psycopg COPY of the imported rows into a fresh database of the same schema."""
    import psycopg

    from warehouse.services.importing import _COLUMNS

    make_database(target_url, Path(instance)).dispose()
    spent, cpu, n = 0.0, 0.0, 0
    with psycopg.connect(target_url.replace("postgresql+psycopg://", "postgresql://")) as con:
        con.execute(
            "INSERT INTO acts (id, direction, number, date, sender_name, sender_bin, receiver_name, "
            "receiver_bin, basis, status, mode, created_at) VALUES (%s, 'incoming', 'bench', '2026-11-20', "
            "'s', '000000000000', 'r', '000000000000', '[]', 'new', 'trusted', now())",
            (act_id,),
        )
        with con.cursor() as cur, cur.copy(f"COPY act_codes ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for rows in _imported_rows(source_url, act_id):
                t, c = time.perf_counter(), time.process_time()
                for row in rows:
                    copy.write_row(row)
                spent, cpu, n = spent + time.perf_counter() - t, cpu + time.process_time() - c, n + len(rows)
            t, c = time.perf_counter(), time.process_time()
        con.commit()
        spent, cpu = spent + time.perf_counter() - t, cpu + time.process_time() - c
    emit(seconds=spent, cpu=cpu, rows=n)


def _pallet_ranges(db: Database, act_id: int) -> list[tuple[int, int]]:
    with db.read() as s:
        return [
            (p, q)
            for p, q in s.execute(
                text("SELECT pos, last FROM act_codes WHERE act_id = :a AND level = 'pallet' ORDER BY pos"),
                {"a": act_id},
            )
        ]


def _codes(db: Database, act_id: int, level: str, first: int, last: int, limit: int) -> list[str]:
    with db.read() as s:
        return list(
            s.execute(
                text(
                    "SELECT code FROM act_codes WHERE act_id = :a AND level = :l AND pos BETWEEN :p AND :q "
                    "ORDER BY pos "
                    "LIMIT :n"
                ),
                {"a": act_id, "l": level, "p": first, "q": last, "n": limit},
            ).scalars()
        )


def _time_scans(db: Database, act_id: int, codes: list[str], station: str) -> dict[str, Any]:
    from warehouse.services.receiving import ScanInput, record_scan

    times, credited = [], 0
    for code in codes:
        start = time.perf_counter()
        result = record_scan(db, act_id, ScanInput(raw=code, source="api", station=station))
        times.append((time.perf_counter() - start) * 1000)
        if result.scan_class != "matched" or result.credited < 1:
            raise SystemExit(f"latency: {code!r} gave {result.scan_class} {result.message('en')}")
        credited += result.credited
    return {
        "n": len(times),
        "p50": quantile(times, 0.5),
        "p99": quantile(times, 0.99),
        "max": max(times),
        "credited_per_scan": credited / len(times),
    }


def step_latency(url: str, act_id: int, kinds: str) -> None:
    """Scans of distinct codes, each crediting, by kind: packs, blocks, boxes, or pallets."""
    db = Database(url)
    pallets = _pallet_ranges(db, act_id)
    out: dict[str, Any] = {}
    for kind in kinds.split(","):
        if kind == "pack":  # every pack of 200 blocks: the blocks and 4 boxes complete on the way
            codes = _codes(db, act_id, "pack", *pallets[0], 2_000)
        elif kind == "block":
            codes = _codes(db, act_id, "block", *pallets[1], 2_000)
        elif kind == "box":
            codes = [c for first, last in pallets[2:12] for c in _codes(db, act_id, "box", first, last, 50)]
        else:
            codes = _codes(db, act_id, "pallet", 0, 1 << 62, len(pallets))
        out[kind] = _time_scans(db, act_id, codes, f"bench-latency-{kind}")
    emit(**out)


def _stream_codes(db: Database, act_id: int, n: int, seed: int) -> list[tuple[str, str]]:
    """(client scan id suffix, code): packs, blocks and boxes of the last two pallets, shared by all streams."""
    pallets = _pallet_ranges(db, act_id)[-2:]
    pool = {
        level: [c for first, last in pallets for c in _codes(db, act_id, level, first, last, 1 << 30)]
        for level in ("pack", "block", "box")
    }
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    while len(out) < n:
        roll = rng.random()
        if roll < 0.01:
            code = rng.choice(["not a code", "0" * 29, "4870000000001", pool["pack"][0][:-3] + "zzz"])
        else:
            level = "box" if roll < 0.03 else "block" if roll < 0.25 else "pack"
            code = rng.choice(pool[level])
        out.append((str(len(out)), code))
        if rng.random() < 0.02 and len(out) < n:  # a terminal that did not hear the answer sends it again
            out.append((out[-1][0], code))
    return out


def step_stream(url: str, act_id: int, station: str, codes_file: str, start_at: float, out_file: str) -> None:
    """One station: scans at RATE per second from `start_at`, every answer written down."""
    from warehouse.services.receiving import ScanInput, record_scan

    db = Database(url)
    codes = json.loads(Path(codes_file).read_text())
    answers, errors, lag = [], [], 0.0
    time.sleep(max(0.0, start_at - time.time()))
    begin = time.perf_counter()
    for i, (suffix, code) in enumerate(codes):
        due = begin + i / RATE
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        else:
            lag = max(lag, now - due)
        client_id = f"{station}-{suffix}"
        start = time.perf_counter()
        try:
            r = record_scan(db, act_id, ScanInput(raw=code, source="api", station=station, client_scan_id=client_id))
        except Exception as e:  # a scan refused or failed: not acknowledged, so it may be missing
            errors.append(f"{client_id}: {type(e).__name__}: {e}"[:300])
            continue
        answers.append(
            {
                "client": client_id,
                "id": r.scan_id,
                "credited": r.credited,
                "class": r.scan_class.value,
                "replayed": r.replayed,
                "ms": (time.perf_counter() - start) * 1000,
            }
        )
    elapsed = time.perf_counter() - begin
    Path(out_file).write_text(json.dumps({"answers": answers, "errors": errors, "elapsed": elapsed, "lag": lag}))
    emit(scans=len(answers), errors=len(errors), elapsed=elapsed)


def step_concurrency(url: str, act_id: int, seconds: float, folder: str) -> None:
    """Four station processes on one act, then the journal and the credits are checked."""
    db = Database(url)
    n = int(RATE * seconds)
    procs, outs = [], []
    start_at = time.time() + 3.0  # every station has started its interpreter by then
    for k in range(STREAMS):
        station = f"bench-{k + 1}"
        codes_file, out_file = Path(folder) / f"{station}.codes.json", Path(folder) / f"{station}.out.json"
        codes_file.write_text(json.dumps(_stream_codes(db, act_id, n, seed=100 + k)))
        outs.append(out_file)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "stream",
                    url,
                    str(act_id),
                    station,
                    str(codes_file),
                    str(start_at),
                    str(out_file),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    station_rss = []
    for p in procs:
        stdout, _ = p.communicate()
        if p.returncode:
            raise SystemExit(f"a station failed (exit {p.returncode})")
        station_rss.append(json.loads(stdout.strip().splitlines()[-1].removeprefix(RESULT))["rss_mb"])
    runs = [json.loads(o.read_text()) for o in outs]
    answers = [a for run in runs for a in run["answers"]]
    errors = [e for run in runs for e in run["errors"]]
    first = {a["client"]: a for a in answers if not a["replayed"]}
    with db.read() as s:
        stored = {
            c: (i, cr)
            for c, i, cr in s.execute(
                text(
                    "SELECT client_scan_id, id, credited FROM scans WHERE act_id = :a AND client_scan_id LIKE 'bench-%'"
                ),
                {"a": act_id},
            )
        }
        credited_codes = s.execute(
            text("SELECT count(*) FROM act_codes WHERE act_id = :a AND credited_scan_id IS NOT NULL"), {"a": act_id}
        ).scalar_one()
        credited_by_scans = s.execute(
            text("SELECT coalesce(sum(credited), 0) FROM scans WHERE act_id = :a"), {"a": act_id}
        ).scalar_one()
        by_counters = s.execute(
            text("SELECT coalesce(sum(credited), 0) FROM act_counters WHERE act_id = :a"), {"a": act_id}
        ).scalar_one()
        scan_mismatch = s.execute(
            text(
                "SELECT count(*) FROM scans s LEFT JOIN (SELECT credited_scan_id AS id, count(*) AS n FROM act_codes "
                "WHERE act_id = :a AND credited_scan_id IS NOT NULL GROUP BY credited_scan_id) c ON c.id = s.id "
                "WHERE s.act_id = :a AND s.credited <> coalesce(c.n, 0)"
            ),
            {"a": act_id},
        ).scalar_one()
        orphans = s.execute(
            text(
                "SELECT count(*) FROM act_codes c "
                "LEFT JOIN scans s ON s.id = c.credited_scan_id AND s.act_id = c.act_id "
                "WHERE c.act_id = :a AND c.credited_scan_id IS NOT NULL AND s.id IS NULL"
            ),
            {"a": act_id},
        ).scalar_one()
    lost = sum(1 for a in answers if stored.get(a["client"], (None, None))[0] != a["id"])
    lost += sum(1 for a in first.values() if stored.get(a["client"], (None, None))[1] != a["credited"])
    unacknowledged = len(set(stored) - set(first))
    replays_wrong = sum(
        1 for a in answers if a["replayed"] and (a["client"] not in first or first[a["client"]]["id"] != a["id"])
    )
    double = abs(credited_codes - credited_by_scans) + abs(credited_codes - by_counters) + scan_mismatch + orphans
    classes: dict[str, int] = {}
    for a in first.values():
        classes[a["class"]] = classes.get(a["class"], 0) + 1
    ms = [a["ms"] for a in answers]
    emit(
        streams=STREAMS,
        seconds=seconds,
        acknowledged=len(answers),
        errors=len(errors),
        error_sample=errors[:3],
        lost=lost,
        unacknowledged_rows=unacknowledged,
        replays=sum(a["replayed"] for a in answers),
        replays_wrong=replays_wrong,
        double_credited=double,
        credited_codes=credited_codes,
        credited_by_scans=credited_by_scans,
        by_counters=by_counters,
        classes=classes,
        elapsed=max(r["elapsed"] for r in runs),
        lag=max(r["lag"] for r in runs),
        p50=quantile(ms, 0.5),
        p99=quantile(ms, 0.99),
        station_rss_mb=max(station_rss),
    )


STEPS: dict[str, Callable[..., None]] = {
    "write": step_write,
    "import": step_import,
    "baseline-sqlite": step_baseline_sqlite,
    "baseline-pg": step_baseline_pg,
    "latency": step_latency,
    "stream": step_stream,
    "concurrency": step_concurrency,
}


# ---------------------------------------------------------------------------------------------------
# the driver


def run(*args: Any) -> dict[str, Any]:
    """One step in a fresh interpreter; its RESULT line, parsed."""
    started = time.perf_counter()
    shown = " ".join(str(a) for a in args[1:] if len(str(a)) < 20 and "/" not in str(a))
    print(f"  {args[0]} {shown}".rstrip(), end=" ", flush=True)
    done = subprocess.run([sys.executable, __file__, *map(str, args)], capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode or not lines:
        print()
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-5000:])
        raise SystemExit(f"step {args[0]} failed (exit {done.returncode})")
    print(f"({time.perf_counter() - started:.0f} s)", flush=True)
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT))
    return result


class Table:
    """The rows printed for people; ``figures`` the same measurements as numbers, for bench-results/."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []
        self.missed: list[str] = []
        self.figures = Results("receiving")

    def add(self, what: str, figure: str, target: str = "", ok: bool | None = None) -> None:
        verdict = "" if ok is None else "OK" if ok else "MISSED"
        if ok is False:
            self.missed.append(what)
        self.rows.append((what, figure, target, verdict))

    def print(self) -> None:
        widths = [max(len(r[i]) for r in self.rows) for i in range(3)]
        for what, figure, target, verdict in self.rows:
            print(f"{what:<{widths[0]}}  {figure:<{widths[1]}}  {target:<{widths[2]}}  {verdict}".rstrip())


def bench_database(
    name: str,
    urls: dict[str, str],
    folder: Path,
    files: dict[str, Path],
    seconds: float,
    table: Table,
    rss: dict[str, float],
) -> None:
    print(f"== {name}", flush=True)
    imported: dict[str, dict[str, Any]] = {}
    for kind in ("json", "csv"):
        imported[kind] = r = run("import", kind, urls[kind], folder / f"{name}-{kind}", files[kind])
        rss[f"{name} import {kind}"] = r["rss_mb"]
        rss[f"{name} import {kind} (reader process)"] = r["reader_rss_mb"]
    if name == "SQLite":
        base = run("baseline-sqlite", urls["json"], imported["json"]["act_id"], folder / "SQLite-baseline")
        base_label = "raw sqlite3 executemany, same rows"
    else:
        base = run("baseline-pg", urls["json"], imported["json"]["act_id"], urls["baseline"], folder / "pg-baseline")
        base_label = "raw psycopg COPY, same rows"
    rss[f"{name} baseline"] = base["rss_mb"]
    lat = run("latency", urls["json"], imported["json"]["act_id"], "pack,block,box")
    rss[f"{name} latency"] = lat["rss_mb"]
    pal = run("latency", urls["csv"], imported["csv"]["act_id"], "pallet")
    rss[f"{name} latency pallets"] = pal["rss_mb"]
    conc = run("concurrency", urls["json"], imported["json"]["act_id"], seconds, folder)
    rss[f"{name} concurrency (checker)"] = conc["rss_mb"]
    rss[f"{name} concurrency (largest station)"] = conc["station_rss_mb"]

    table.add(
        f"[{name}] {base_label}",
        f"{base['seconds']:.1f} s (cpu {base['cpu']:.1f} s), {base['rows']:,} rows, load {base['load']:.1f}",
    )
    table.figures.add(f"[{name}] {base_label}", base["seconds"], "s")
    for kind in ("json", "csv"):
        r = imported[kind]
        table.add(
            f"[{name}] import {kind.upper()}",
            f"{r['seconds']:.1f} s (cpu {r['cpu']:.1f} s, 2 processes), {r['codes']:,} codes, load {r['load']:.1f}",
            f"<= {TARGETS['import_s']:.0f} s",
            r["seconds"] <= TARGETS["import_s"],
        )
        table.figures.add(
            f"[{name}] import {kind.upper()}", r["seconds"], "s", at_most=TARGETS["import_s"], baseline=base["seconds"]
        )
        ratio = r["seconds"] / base["seconds"]
        if name == "SQLite":
            table.add(
                f"[{name}]   ratio to executemany",
                f"{ratio:.2f}x",
                f"<= {TARGETS['ratio']:.0f}x",
                ratio <= TARGETS["ratio"],
            )
            table.figures.add(f"[{name}] import {kind.upper()} / executemany", ratio, "x", at_most=TARGETS["ratio"])
        else:
            table.add(f"[{name}]   ratio to COPY", f"{ratio:.2f}x")
    for kind, figures in [*lat.items(), *pal.items()]:
        if kind in ("rss_mb", "load"):
            continue
        table.add(
            f"[{name}] record_scan {kind} ({figures['credited_per_scan']:,.0f} codes)",
            f"p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, max {figures['max']:.0f} ms, "
            f"n={figures['n']:,}, load {(lat if kind != 'pallet' else pal)['load']:.1f}",
            f"p99 <= {TARGETS[kind]:.0f} ms",
            figures["p99"] <= TARGETS[kind],
        )
        table.figures.add(f"[{name}] record_scan {kind} p50", figures["p50"], "ms")
        table.figures.add(f"[{name}] record_scan {kind} p99", figures["p99"], "ms", at_most=TARGETS[kind])
        table.figures.add(f"[{name}] record_scan {kind} max", figures["max"], "ms")
    rate = conc["acknowledged"] / conc["elapsed"] if conc["elapsed"] else 0.0
    table.add(
        f"[{name}] {STREAMS} stations x {RATE:.0f}/s x {conc['seconds']:.0f} s",
        f"{conc['acknowledged']:,} acknowledged ({rate:.0f}/s, max lag {conc['lag']:.1f} s), "
        f"{conc['errors']} refused, p50 {conc['p50']:.1f} ms, p99 {conc['p99']:.1f} ms, load {conc['load']:.1f}",
    )
    table.figures.add(f"[{name}] {STREAMS} stations acknowledged", rate, "scans/s")
    table.figures.add(f"[{name}] {STREAMS} stations max lag", conc["lag"], "s")
    table.figures.add(f"[{name}] {STREAMS} stations p50", conc["p50"], "ms")
    table.figures.add(f"[{name}] {STREAMS} stations p99", conc["p99"], "ms")
    table.add(
        f"[{name}]   lost scans",
        f"{conc['lost']} (+{conc['unacknowledged_rows']} rows not acknowledged)",
        "0",
        conc["lost"] == 0 and conc["errors"] == 0,
    )
    table.figures.add(f"[{name}] lost scans", conc["lost"], "scans", at_most=0, met=conc["lost"] == conc["errors"] == 0)
    table.figures.add(f"[{name}] refused scans", conc["errors"], "scans", at_most=0)
    table.add(
        f"[{name}]   double-credited",
        f"{conc['double_credited']} (codes {conc['credited_codes']:,}, by scans "
        f"{conc['credited_by_scans']:,}, counters {conc['by_counters']:,}; {conc['replays']} retries, "
        f"{conc['replays_wrong']} wrong)",
        "0",
        conc["double_credited"] == 0 and conc["replays_wrong"] == 0,
    )
    table.figures.add(
        f"[{name}] double-credited",
        conc["double_credited"],
        "codes",
        at_most=0,
        met=conc["double_credited"] == conc["replays_wrong"] == 0,
    )
    table.add(f"[{name}]   classes", ", ".join(f"{k} {v}" for k, v in sorted(conc["classes"].items())))
    if conc["errors"]:
        print("  refused:", *conc["error_sample"], sep="\n    ")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in STEPS:
        STEPS[sys.argv[1]](
            *[int(a) if a.isdigit() else float(a) if a.replace(".", "", 1).isdigit() else a for a in sys.argv[2:]]
        )
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="concurrent streams for 10 s instead of 60 s")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    options = parser.parse_args()
    seconds = 10.0 if options.quick else 60.0
    load0 = os.getloadavg()
    print(
        f"full truck: {PALLETS} pallets x {BOXES_PER_PALLET} boxes x {BLOCKS_PER_BOX} blocks x {PACKS_PER_BLOCK} "
        f"packs; {os.cpu_count()} CPUs, load average {load0[0]:.1f} at start",
        flush=True,
    )
    table, rss = Table(), {}
    with tempfile.TemporaryDirectory(prefix="bench-receiving-") as tmp:
        folder = Path(tmp)
        files = {kind: folder / f"truck.{kind}" for kind in ("json", "csv")}
        print("== files", flush=True)
        for kind in ("json", "csv"):
            r = run("write", kind, folder)
            rss[f"write {kind}"] = r["rss_mb"]
            table.add(f"write {kind.upper()}", f"{r['seconds']:.1f} s, {r['lines']:,} lines, {r['mb']:.0f} MB")
            table.figures.add(f"write {kind.upper()}", r["seconds"], "s")
        urls = {kind: sqlite_url(folder / f"SQLite-{kind}") for kind in ("json", "csv")}
        bench_database("SQLite", urls, folder, files, seconds, table, rss)
        if not options.no_pg:
            from tests.pg import Cluster

            cluster = Cluster()
            try:
                urls = {kind: cluster.new_database() for kind in ("json", "csv", "baseline")}
                bench_database("PostgreSQL", urls, folder, files, seconds, table, rss)
            finally:
                cluster.stop()
    worst = max(rss, key=lambda k: rss[k])
    table.add(
        "peak RSS, every step's process",
        f"max {rss[worst]:.0f} MB ({worst})",
        f"<= {TARGETS['rss']:.0f} MB",
        all(v <= TARGETS["rss"] for v in rss.values()),
    )
    table.figures.add("peak RSS, every step's process", rss[worst], "MB", at_most=TARGETS["rss"])
    print()
    table.print()
    print("peak RSS by step: " + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()))
    load1 = os.getloadavg()
    print(f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at the end (2 CPUs: above 2, others were running too)")
    if table.missed:
        print("MISSED: " + "; ".join(table.missed))
    table.figures.write()


if __name__ == "__main__":
    main()
