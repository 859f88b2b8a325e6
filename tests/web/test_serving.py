"""`warehouse run` under load: open live screens never take the threads that scans and logins need.

Each test runs a real server (`warehouse run` in a subprocess, or the same serving in a thread where the
test must look inside) and real HTTP clients on a free port.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.served import Screens, login, login_page, prepare, quantile, scan_at_rate, station

SCREENS = 50
RATE = 200.0  # scans per second, from four handhelds


def test_fifty_open_screens_leave_scans_and_logins_alone(tmp_path: Path) -> None:
    prepared = prepare(tmp_path)
    with station(prepared) as url:
        cookie, _ = login(url)
        scan_at_rate(url, prepared, rate=RATE, seconds=0.5)  # warm up: caches, connections
        alone = scan_at_rate(url, prepared, rate=RATE, seconds=3.0, start=100)
        screens = Screens(url, f"/acts/{prepared.act_id}/events", cookie, SCREENS)
        try:
            try:
                screens.open(timeout=10)
            except TimeoutError:
                pass  # asserted below, after what the people at the station would notice first
            logins: list[float] = []
            probing = threading.Event()

            def probe() -> None:  # someone logs in at the station every half second while the dock scans
                while not probing.is_set():
                    try:
                        logins.append(login_page(url, timeout=5))
                    except TimeoutError:
                        logins.append(float("inf"))
                    probing.wait(0.5)

            prober = threading.Thread(target=probe, daemon=True)
            prober.start()
            busy = scan_at_rate(url, prepared, rate=RATE, seconds=5.0, start=1000)
            probing.set()
            prober.join()
            time.sleep(1.0)  # the last render reaches every screen within a tenth of a second; leave margin
        finally:
            screens.close()

    assert logins and max(logins) < 1.0, f"slowest /login with {SCREENS} screens open: {max(logins):.2f} s"
    assert not busy.failures, busy.failures[:3]
    assert not alone.failures, alone.failures[:3]
    opened = [s for s in screens.screens if s.opened]
    assert len(opened) == SCREENS, f"{len(opened)} of {SCREENS} screens opened"
    base50, base99 = quantile(alone.latencies, 0.5), quantile(alone.latencies, 0.99)
    p50, p99 = quantile(busy.latencies, 0.5), quantile(busy.latencies, 0.99)
    # "unchanged" on a shared 2-core machine: within half again plus a few ms at the median, twice at p99
    assert p50 <= 1.5 * base50 + 0.003, f"scan p50 {p50 * 1e3:.1f} ms with screens, {base50 * 1e3:.1f} ms without"
    assert p99 <= 2.0 * base99 + 0.020, f"scan p99 {p99 * 1e3:.1f} ms with screens, {base99 * 1e3:.1f} ms without"
    expected = set(busy.sent_at)
    for s in screens.screens:
        missing = expected - s.rows()
        assert not missing, f"screen {s.index} missed {len(missing)} of {len(expected)} rows"
