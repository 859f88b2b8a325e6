"""A station as `warehouse run` serves it, in a subprocess on a free port, and real HTTP clients for it.

Used by tests/web/test_serving.py and tests/bench/bench_sse.py: open live screens (SSE streams read on
one asyncio loop), handheld scans through the API at a fixed rate, and the login page, each timed.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.factory import create_app
from warehouse.services import demo, devices, importing
from warehouse.services.users import authenticate, badge_key

ROOT = Path(__file__).resolve().parents[1]
ROW_ID = re.compile(rb'id="scan-(\d+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Prepared:
    """A station's database with people, an act of `packs` packs and a handheld's token."""

    env: dict[str, str]
    act_id: int
    codes: list[str]
    token: str


def prepare(
    folder: Path,
    *,
    pallets: int = 1,
    boxes: int = 4,
    blocks: int = 10,
    packs: int = 10,
    url: str | None = None,
    station_name: str = "dock-1",
) -> Prepared:
    """`url`: the database (default: a SQLite file in `folder`); the token is a handheld of `station_name`."""
    instance = folder / "instance"
    env = {
        "WAREHOUSE_DATABASE_URL": url or f"sqlite:///{folder / 'warehouse.sqlite3'}",
        "WAREHOUSE_INSTANCE_PATH": str(instance),
        "WAREHOUSE_SECRET_KEY": "served-test",
        "WAREHOUSE_BACKUP_DIR": "off",
        "WAREHOUSE_SCANNERS": "",
    }
    app = create_app(
        {"DATABASE_URL": env["WAREHOUSE_DATABASE_URL"], "SECRET_KEY": env["WAREHOUSE_SECRET_KEY"]},
        instance_path=instance,
    )
    db = get_db(app)
    demo.load(db, act=False, badge_key=badge_key(app.config["SECRET_KEY"]))
    f = ActFactory(pallets=pallets, boxes=boxes, blocks=blocks, packs=packs)
    act_id = importing.import_act(db, f.write(folder / "act.json")).act_id
    with db.write() as s:
        token = devices.issue_token(s, "TSD-01", station_name, authenticate(s, "staff", "staff"))
    db.dispose()
    return Prepared(env, act_id, list(f.codes["pack"]), token)


# The server `warehouse run` used before the live screens moved to the event loop: the baseline the test
# and the bench measure against (each open stream holds one of its 16 threads).
WAITRESS = (
    "import sys; from waitress import serve; from warehouse.factory import create_app; "
    "serve(create_app(), host='127.0.0.1', port=int(sys.argv[1]), threads=16, channel_timeout=3600)"
)


@contextmanager
def station(prepared: Prepared, *args: str, server: str = "uvicorn") -> Iterator[str]:
    """`warehouse run` on a free port in a subprocess; yields its base URL, stops it at the end.

    `server="waitress"`: the app served by waitress as `warehouse run` did before (the baseline).
    """
    port = free_port()
    env = {**os.environ, **prepared.env, "PYTHONUNBUFFERED": "1"}
    if server == "waitress":
        command = [sys.executable, "-c", WAITRESS, str(port)]
    else:
        command = [sys.executable, "-c", "from warehouse.cli import main; main()", "run", "--port", str(port), *args]
    child = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the station did not start: {child.stderr.read().decode()[-2000:]}") from None  # type: ignore[union-attr]
                time.sleep(0.05)
        yield url
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextmanager
def served_here(prepared: Prepared, **config: object) -> Iterator[str]:
    """The serving of `warehouse run` (warehouse/web/serving.py) in a thread of this process, so a test can
    look inside (the open screens in `live.hub`); `config` overrides the app's settings."""
    from warehouse.web import serving  # imported here: tests that only start a subprocess need no uvicorn

    app = create_app(
        {
            "DATABASE_URL": prepared.env["WAREHOUSE_DATABASE_URL"],
            "SECRET_KEY": prepared.env["WAREHOUSE_SECRET_KEY"],
            "BACKUP_DIR": "off",
            **config,
        },
        instance_path=prepared.env["WAREHOUSE_INSTANCE_PATH"],
    )
    port = free_port()
    sock = serving.listen("127.0.0.1", port)
    server = serving.server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="served-here", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the station did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        get_db(app).dispose()


def _conn(url: str, timeout: float) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def login(url: str, username: str = "staff", timeout: float = 10.0) -> tuple[str, float]:
    """Log in through the real form; returns the session cookie and how long the whole login took (s)."""
    started = time.perf_counter()
    conn = _conn(url, timeout)
    try:
        conn.request("GET", "/login")
        r = conn.getresponse()
        page = r.read().decode()
        cookie = r.getheader("Set-Cookie", "").split(";")[0]
        m = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert r.status == 200 and m, f"/login answered {r.status}"
        body = urlencode({"username": username, "password": username, "csrf_token": m.group(1)})
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        conn.request("POST", "/login", body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        assert r.status == 302, f"login answered {r.status}"
        return r.getheader("Set-Cookie", "").split(";")[0], time.perf_counter() - started
    finally:
        conn.close()


def login_page(url: str, timeout: float) -> float:
    """Seconds until GET /login answered (raises TimeoutError past `timeout`)."""
    started = time.perf_counter()
    conn = _conn(url, timeout)
    try:
        conn.request("GET", "/login")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        return time.perf_counter() - started
    finally:
        conn.close()


@dataclass
class Screen:
    """One open live screen: what it received, and when each row first reached it."""

    index: int
    opened: bool = False
    data: bytearray = field(default_factory=bytearray)
    rows_at: dict[int, float] = field(default_factory=dict)

    def rows(self) -> set[int]:
        return set(self.rows_at)


class Screens:
    """`n` SSE streams of one path, held open and read on one asyncio loop in a thread."""

    def __init__(self, url: str, path: str, cookie: str, n: int) -> None:
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.path, self.cookie = path, cookie
        self.screens = [Screen(i) for i in range(n)]
        self.loop = asyncio.new_event_loop()
        self._tasks: list[asyncio.Task[None]] = []
        self._thread = threading.Thread(target=self.loop.run_forever, name="screens", daemon=True)
        self._thread.start()

    def open(self, timeout: float = 20.0) -> None:
        """Connect every screen; returns once each has its stream's first line (raises TimeoutError)."""

        async def start() -> None:
            self._tasks = [asyncio.ensure_future(self._read(s)) for s in self.screens]

        asyncio.run_coroutine_threadsafe(start(), self.loop).result()
        deadline = time.monotonic() + timeout
        while not all(s.opened for s in self.screens):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sum(s.opened for s in self.screens)} of {len(self.screens)} screens opened")
            time.sleep(0.02)

    async def _read(self, screen: Screen) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nCookie: {self.cookie}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        )
        writer.write(request.encode())
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head[:200]
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                screen.opened = True
                now = time.perf_counter()
                for m in ROW_ID.finditer(chunk):
                    screen.rows_at.setdefault(int(m.group(1)), now)
                screen.data += chunk
        finally:
            writer.close()

    def close(self) -> None:
        for task in self._tasks:
            self.loop.call_soon_threadsafe(task.cancel)
        time.sleep(0.1)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


@dataclass
class Scans:
    """Handheld scans sent through the API at a fixed total rate; each one's latency and journal id."""

    latencies: list[float] = field(default_factory=list)  # seconds
    sent_at: dict[int, float] = field(default_factory=dict)  # journal id -> perf_counter when it was sent
    failures: list[str] = field(default_factory=list)


def scan_at_rate(
    url: str, prepared: Prepared, *, rate: float, seconds: float, workers: int = 4, timeout: float = 5.0, start: int = 0
) -> Scans:
    """Scan the act's packs (then duplicates) at `rate` per second for `seconds`, from `workers` connections."""
    out = Scans()
    lock = threading.Lock()
    per_worker = rate / workers
    total = int(rate * seconds)
    began = time.perf_counter() + 0.05

    def work(w: int) -> None:
        conn = _conn(url, timeout)
        headers = {"Authorization": f"Bearer {prepared.token}", "Content-Type": "application/json"}
        for k in range(w, total, workers):
            due = began + (k // workers) / per_worker
            wait = due - time.perf_counter()
            if wait < -timeout:  # the server stopped answering: what is left of the schedule is lost, not late
                with lock:
                    out.failures.append("not sent: the server was behind by more than the timeout")
                continue
            if wait > 0:
                time.sleep(wait)
            n = start + k
            code = prepared.codes[n % len(prepared.codes)]
            body = json.dumps({"scans": [{"code": code, "scan_id": f"s{n}"}]})
            sent = time.perf_counter()
            try:
                conn.request("POST", f"/api/v1/acts/{prepared.act_id}/scans", body=body, headers=headers)
                r = conn.getresponse()
                answer = r.read()
                took = time.perf_counter() - sent
                if r.status != 200:
                    raise RuntimeError(f"HTTP {r.status}: {answer[:200]!r}")
                journal_id = int(json.loads(answer)["results"][0]["journal_id"])
                with lock:
                    out.latencies.append(took)
                    out.sent_at[journal_id] = sent
            except Exception as e:  # a timeout or a refusal is a figure of the test, not a crash of the client
                with lock:
                    out.failures.append(f"{type(e).__name__}: {e}")
                conn.close()
                conn = _conn(url, timeout)
        conn.close()

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Load:
    """What one run of `under_load` saw: scans with no screen open, then with the screens open."""

    alone: Scans
    busy: Scans
    logins: list[float]  # seconds of each GET /login while the screens were open (inf: timed out)
    screens: list[Screen]


def under_load(
    url: str, prepared: Prepared, *, screens: int, rate: float, seconds: float = 5.0, handhelds: int = 4
) -> Load:
    """Scans at `rate` (from `handhelds` connections) alone, then with `screens` live screens open and
    someone opening /login every 0.5 s."""
    cookie, _ = login(url)
    scan_at_rate(url, prepared, rate=rate, seconds=0.5, workers=handhelds)  # warm up: caches, connections
    alone = scan_at_rate(url, prepared, rate=rate, seconds=seconds, workers=handhelds, start=100_000)
    opened = Screens(url, f"/acts/{prepared.act_id}/events", cookie, screens)
    logins: list[float] = []
    try:
        with suppress(TimeoutError):  # judged by `verdict`, after what the people at the station notice first
            opened.open(timeout=10)
        probing = threading.Event()

        def probe() -> None:
            while not probing.is_set():
                try:
                    logins.append(login_page(url, timeout=5))
                except TimeoutError:
                    logins.append(float("inf"))
                probing.wait(0.5)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        busy = scan_at_rate(url, prepared, rate=rate, seconds=seconds, workers=handhelds, start=200_000)
        probing.set()
        prober.join()
        # a channel renders 10 times a second: the last rows reach every screen well within the second given
        # them (waited for, not slept: `verdict` fails a screen still missing one at the deadline)
        expected, deadline = set(busy.sent_at), time.monotonic() + 1.0
        while time.monotonic() < deadline and any(s.opened and expected - s.rows() for s in opened.screens):
            time.sleep(0.02)
    finally:
        opened.close()
    return Load(alone, busy, logins, opened.screens)


# "Scan latency unchanged" on a shared machine (2 cores, other tests running): the open screens may cost
# the scans twice their median plus 20 ms, twice their p95 plus 100 ms, and no scan comes near a timeout
# (p99 under a second: the 3rd slowest of 250 is one pause of the machine, so it gets no ratio). A server
# whose streams hold its request threads misses by seconds: its scans time out.
P50_RATIO, P50_MARGIN_S = 2.0, 0.020
P95_RATIO, P95_MARGIN_S = 2.0, 0.100
P99_MAX_S = 1.0
LOGIN_S = 1.0


def verdict(load: Load) -> list[str]:
    """What the run got wrong (empty: open screens left the scans and the logins alone)."""
    wrong: list[str] = []
    n = len(load.screens)
    if not load.logins or max(load.logins) >= LOGIN_S:
        wrong.append(f"slowest /login with {n} screens open: {max(load.logins, default=float('inf')):.2f} s")
    for phase, scans in (("without screens", load.alone), (f"with {n} screens", load.busy)):
        if scans.failures:
            wrong.append(f"{len(scans.failures)} scans failed {phase}, e.g. {scans.failures[0]}")
    opened = sum(s.opened for s in load.screens)
    if opened < n:
        wrong.append(f"{opened} of {n} screens opened")
    base50, base95 = quantile(load.alone.latencies, 0.5), quantile(load.alone.latencies, 0.95)
    p50, p95, p99 = (quantile(load.busy.latencies, q) for q in (0.5, 0.95, 0.99))
    if not p50 <= P50_RATIO * base50 + P50_MARGIN_S:  # `not <=`: no latencies at all (nan) fails too
        wrong.append(f"scan p50 {p50 * 1e3:.1f} ms with {n} screens, {base50 * 1e3:.1f} ms without")
    if not p95 <= P95_RATIO * base95 + P95_MARGIN_S:
        wrong.append(f"scan p95 {p95 * 1e3:.1f} ms with {n} screens, {base95 * 1e3:.1f} ms without")
    if not p99 < P99_MAX_S:
        wrong.append(f"scan p99 {p99 * 1e3:.1f} ms with {n} screens")
    expected = set(load.busy.sent_at)
    missed = [s.index for s in load.screens if s.opened and expected - s.rows()]
    if missed:
        wrong.append(f"{len(missed)} screens missed rows (e.g. screen {missed[0]})")
    return wrong
