"""How `warehouse run` serves the station: uvicorn, Flask in request threads, live screens on the event loop.

Every request but a live screen's goes to the Flask app through a2wsgi, in a pool of request threads
(scans, pages, logins). A live screen's request (a view marked `@live.screen`) is answered in two steps:
1. Connect, in a thread of its own small pool: the Flask app answers it as it answers any request
   (`app.wsgi_app`: the session cookie, `access.enforce`, the view's role and its act), so the stream's
   access is exactly the page's. The view's `live.stream` sees that the event loop will stream it and
   hands over a `live.Viewer` instead of a blocking body. A refusal (login page, 403, 404) is sent as is.
2. Stream, on the event loop: the viewer's messages (the fan-out of its channel in web/live.py), a
   keepalive comment every `LIVE_KEEPALIVE_SECONDS` (15 s), and a look at its session every `live.SESSION_CHECK_S`.
   The stream holds no thread however long the screen stays open, so scans and logins always find one.

A client that goes away is reaped within 30 s: a closed socket (a closed tab, a killed browser) at once,
as uvicorn hears the disconnect; a pulled cable or a sleeping laptop by the kernel, since the 15 s
keepalive is unacknowledged data and TCP_USER_TIMEOUT ends a connection whose data stays unacknowledged
for 10 s (and TCP keepalive probes an idle one).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ
from flask import Flask
from werkzeug.exceptions import HTTPException

from warehouse.events import ensure_relay
from warehouse.web import live

THREADS = 16  # request threads: scans, pages, logins (live screens hold none)
CONNECT_THREADS = 2  # live screens connecting (a restart reconnects every screen: they queue here, not for scans)
TCP_KEEPIDLE_S = 10  # an idle connection is probed after this long ...
TCP_KEEPINTVL_S = 5  # ... then this often ...
TCP_KEEPCNT = 3  # ... and dropped after this many unanswered probes (10 + 3 × 5 = 25 s)
TCP_USER_TIMEOUT_MS = 10_000  # sent data unacknowledged this long: the peer is gone
SHUTDOWN_S = 3  # open streams get this long to end when the server stops

Scope = dict[str, Any]
Message = dict[str, Any]
Headers = list[tuple[bytes, bytes]]


class StationApp:
    """The ASGI application: the Flask app in request threads, its live screens on the event loop."""

    def __init__(self, app: Flask, threads: int = THREADS) -> None:
        self.flask = app
        self.wsgi = WSGIMiddleware(app, workers=threads)  # type: ignore[arg-type]
        self.connects = ThreadPoolExecutor(CONNECT_THREADS, thread_name_prefix="live-connect")
        self.routes = app.url_map.bind("localhost")  # used on the event loop's thread only
        self.stopping = asyncio.Event()  # set when the server stops: every stream ends at once

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self.is_live(scope["path"]):
            await self.screen(scope, receive, send)
        else:
            await self.wsgi(scope, receive, send)  # type: ignore[arg-type]

    def is_live(self, path: str) -> bool:
        try:
            endpoint, _args = self.routes.match(path, method="GET")
        except HTTPException:
            return False
        return live.is_screen(self.flask.view_functions.get(str(endpoint)))

    async def screen(self, scope: Scope, receive: Any, send: Any) -> None:
        environ = build_environ(scope, None)  # type: ignore[arg-type]  # a GET: no body is read
        loop = asyncio.get_running_loop()
        status, headers, body, viewer = await loop.run_in_executor(self.connects, self.connect, environ)
        if viewer is None:  # refused or redirected: the app's answer as it is
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        headers = [(k, v) for k, v in headers if k != b"content-length"]
        start = {"type": "http.response.start", "status": status, "headers": headers}
        await stream(viewer, start, receive, send, self.stopping)

    def connect(self, environ: Any) -> tuple[int, Headers, bytes, live.Viewer | None]:
        """The Flask app's answer to a live screen's request, and its viewer if it was let in."""
        handoff: list[live.Viewer] = []
        environ[live.HANDOFF] = handoff
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started[:] = [
                int(status.split(" ", 1)[0]),
                [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers],
            ]

        chunks: Iterable[bytes] = self.flask.wsgi_app(environ, start_response)  # type: ignore[arg-type]
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = started
        return status, headers, body, handoff[0] if handoff and status == 200 else None


async def stream(viewer: live.Viewer, start: Message, receive: Any, send: Any, stopping: asyncio.Event) -> None:
    """Send a viewer its channel's messages until it goes away, its session ends or the server stops."""
    messages: asyncio.Queue[str] = asyncio.Queue(live.VIEWER_QUEUE)
    viewer.loop = asyncio.get_running_loop()
    viewer.put = lambda m: live.put_dropping_oldest(messages, m)
    channel = live.hub.join(viewer)
    tasks: list[asyncio.Future[Any]] = []
    try:
        await send(start)
        await send({"type": "http.response.body", "body": b"retry: 1000\n\n", "more_body": True})
        tasks = [
            asyncio.ensure_future(_gone(receive)),
            asyncio.ensure_future(_write(viewer, channel, messages, send)),
            asyncio.ensure_future(stopping.wait()),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        with contextlib.suppress(Exception):  # the session ended or the server stops: end the response
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    except OSError:  # the client went away while the stream began
        pass
    finally:
        live.hub.leave(viewer)
        for task in tasks:
            task.cancel()


async def _gone(receive: Any) -> None:
    """Returns when the client disconnects (uvicorn hears it; a send alone would not raise)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _write(viewer: live.Viewer, channel: live.Channel, messages: asyncio.Queue[str], send: Any) -> None:
    checked = last_sent = time.monotonic()
    while True:
        now = time.monotonic()
        if viewer.session is not None and now - checked >= live.SESSION_CHECK_S:
            if channel.in_use_at > checked:  # it showed this station's scans: its person is at work
                await asyncio.to_thread(viewer.session.touch)
            if not await asyncio.to_thread(viewer.session.alive):
                return  # logged out, idle or deactivated: the screen reconnects to the login page
            checked = now
        wait = min(last_sent + viewer.keepalive, checked + live.SESSION_CHECK_S) - now
        try:
            body = viewer.text(await asyncio.wait_for(messages.get(), max(wait, 0.0)))
        except TimeoutError:
            if time.monotonic() - last_sent < viewer.keepalive:
                continue
            body = b": keepalive\n\n"
        await send({"type": "http.response.body", "body": body, "more_body": True})
        last_sent = time.monotonic()


def listen(host: str, port: int) -> socket.socket:
    """The listening socket; the connections it accepts inherit its keepalive and user timeout."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, TCP_KEEPIDLE_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, TCP_KEEPINTVL_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, TCP_KEEPCNT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, TCP_USER_TIMEOUT_MS)
    sock.bind(address)
    sock.listen(1024)
    return sock


class StationServer(uvicorn.Server):
    """uvicorn's server, which ends the open streams as it stops (it would wait for them `SHUTDOWN_S`)."""

    def __init__(self, config: uvicorn.Config, app: StationApp) -> None:
        super().__init__(config)
        self.station = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.station.stopping.set()
        await super().shutdown(sockets)


def server(app: Flask, threads: int = THREADS) -> StationServer:
    """A uvicorn server for the station (not started: `.run(sockets=[listen(...)])`)."""
    # On PostgreSQL, listen for the other stations' changes from the start, not from the first screen: a
    # scan made elsewhere while that screen connects would reach it only with the next one.
    ensure_relay(app.extensions["warehouse.db"].url)
    station = StationApp(app, threads)
    config = uvicorn.Config(
        station,
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_S,
        ws="none",
    )
    return StationServer(config, station)


def serve(app: Flask, host: str, port: int, threads: int = THREADS) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM)."""
    server(app, threads).run(sockets=[listen(host, port)])
