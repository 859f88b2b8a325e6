"""Benchmark of live screens under load (issue 15, item 5): run as a script, not collected by pytest.

    .venv/bin/python tests/bench/bench_sse.py [--rate 200] [--handhelds 8] [--screens 50] [--seconds 5]

Handhelds scan through the API at `--rate` a second in all (each its own connection, one scan at a
time: 8 of them, so that a handheld waiting for its answer does not set the rate), first with no screen open, then with
`--screens` live receiving screens open and someone opening /login every half second. Measured on
waitress, the server `warehouse run` used before (each stream holds one of its 16 threads), and on
`warehouse run` (uvicorn: requests in threads, streams on the event loop), each in a subprocess, in the
same run. Judged as tests/web/test_serving.py judges (tests/served.verdict), which scans at 50 a second:
200 a second at ~8 ms of CPU a scan is most of a 2-core machine, so there the figures show the CPU too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.results import Results
from tests.served import LOGIN_S, prepare, quantile, station, under_load, verdict

SERVERS = ("waitress", "uvicorn")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200.0, help="scans per second, from four handhelds")
    parser.add_argument("--handhelds", type=int, default=8, help="connections the scans come from")
    parser.add_argument("--screens", type=int, default=50, help="live screens open in the second phase")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    args = parser.parse_args()
    figures = Results("sse")
    n = args.screens
    for server in SERVERS:
        folder = Path(tempfile.mkdtemp(prefix=f"bench-sse-{server}-"))
        prepared = prepare(folder)
        with station(prepared, server=server) as url:
            load = under_load(url, prepared, screens=n, rate=args.rate, seconds=args.seconds, handhelds=args.handhelds)
        wrong = verdict(load)
        ms = {
            (phase, q): quantile(scans.latencies, q) * 1e3
            for phase, scans in (("alone", load.alone), ("busy", load.busy))
            for q in (0.5, 0.99)
        }
        sent = len(load.busy.latencies) + len(load.busy.failures)
        login_ms = max(load.logins, default=float("inf")) * 1e3
        print(f"== {server}: {args.rate:.0f} scans/s from {args.handhelds} handhelds, {n} screens")
        print(f"scan  0 screens  p50 {ms['alone', 0.5]:6.1f} ms  p99 {ms['alone', 0.99]:6.1f} ms")
        print(f"scan {n:2d} screens  p50 {ms['busy', 0.5]:6.1f} ms  p99 {ms['busy', 0.99]:6.1f} ms")
        print(f"scans failed: {len(load.alone.failures)} alone, {len(load.busy.failures)} of {sent} with screens")
        print(f"screens opened: {sum(s.opened for s in load.screens)} of {n}; slowest /login {login_ms:.0f} ms")
        print("verdict of test_serving: " + ("OK" if not wrong else "FAILS: " + "; ".join(wrong)))
        figures.add(f"{server}: scan p50, 0 screens", ms["alone", 0.5], "ms")
        figures.add(f"{server}: scan p99, 0 screens", ms["alone", 0.99], "ms")
        figures.add(f"{server}: scan p50, {n} screens", ms["busy", 0.5], "ms", baseline=ms["alone", 0.5])
        figures.add(f"{server}: scan p99, {n} screens", ms["busy", 0.99], "ms", baseline=ms["alone", 0.99])
        figures.add(f"{server}: scans failed, {n} screens", len(load.busy.failures), "scans", at_most=0)
        figures.add(f"{server}: slowest /login, {n} screens", login_ms, "ms", at_most=LOGIN_S * 1e3)
        figures.add(f"{server}: screens opened", sum(s.opened for s in load.screens), "screens", at_least=n)
        figures.add(f"{server}: meets test_serving", float(not wrong), "bool", met=not wrong)
    figures.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
