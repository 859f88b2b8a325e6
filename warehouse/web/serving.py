"""How `warehouse run` serves the station: uvicorn, Flask in request threads, live screens on the event loop.

Every request goes to the Flask app through a2wsgi, in a pool of request threads. A live screen's request
too, once: its view checks the login and the act there (warehouse/web/live.py), then hands the stream
over to the event loop, where it holds no thread however long the screen stays open. So scans and logins
always find a free thread, whatever the number of screens.

A client that goes away is noticed within 30 s: closed sockets at once (uvicorn hears the disconnect),
a pulled cable or a sleeping laptop by the kernel (TCP keepalive, and TCP_USER_TIMEOUT ends a connection
whose sent data stays unacknowledged: the 15 s keepalive comment is such data).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from typing import Any

import uvicorn
from a2wsgi import WSGIMiddleware
from flask import Flask

from warehouse.web import live

THREADS = 16  # request threads: scans, pages, logins (live screens need none)
TCP_KEEPIDLE_S = 10  # an idle connection is probed after this long ...
TCP_KEEPINTVL_S = 5  # ... then this often ...
TCP_KEEPCNT = 3  # ... and dropped after this many unanswered probes (10 + 3 × 5 = 25 s)
TCP_USER_TIMEOUT_MS = 10_000  # sent data unacknowledged this long: the peer is gone
SHUTDOWN_S = 3.0  # open streams get this long to end when the server stops

Scope = dict[str, Any]
Message = dict[str, Any]


class StationApp:
    """The ASGI application: the Flask app in request threads, its live streams on the event loop."""

    def __init__(self, app: Flask, threads: int = THREADS) -> None:
        self.flask = app
        self.wsgi = WSGIMiddleware(app, workers=threads)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.wsgi(scope, receive, send)  # type: ignore[arg-type]
            return
        handoff: list[live.Viewer] = []
        scope[live.HANDOFF] = handoff  # live.stream finds it in environ["asgi.scope"]
        start: Message | None = None

        async def intercept(message: Message) -> None:
            nonlocal start
            if handoff and message["type"] == "http.response.start" and message["status"] == 200:
                # a live screen: its headers now (not the empty view's length), its body from the event loop below
                start = {**message, "headers": [(k, v) for k, v in message["headers"] if k != b"content-length"]}
            elif start is None:
                await send(message)
            # else: the empty body of the handed-over view, not sent

        await self.wsgi(scope, receive, intercept)  # type: ignore[arg-type]
        if start is not None:
            await stream(handoff[0], start, receive, send)


async def stream(viewer: live.Viewer, start: Message, receive: Any, send: Any) -> None:
    """Send a viewer its channel's messages until it goes away or its session ends."""
    messages: asyncio.Queue[str] = asyncio.Queue(live.VIEWER_QUEUE)
    viewer.loop = asyncio.get_running_loop()
    viewer.put = lambda m: live.put_dropping_oldest(messages, m)
    channel = live.hub.join(viewer)
    tasks: list[asyncio.Future[None]] = []
    try:
        await send(start)
        await send({"type": "http.response.body", "body": b"retry: 1000\n\n", "more_body": True})
        tasks = [asyncio.ensure_future(_gone(receive)), asyncio.ensure_future(_write(viewer, channel, messages, send))]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done() and task.exception() is not None:  # a write failed: the client is gone
                viewer.app.logger.info("live screen closed: %r", task.exception())
        with contextlib.suppress(Exception):  # the session ended: end the response (a no-op once gone)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        live.hub.leave(viewer)
        for task in tasks:
            task.cancel()


async def _gone(receive: Any) -> None:
    """Returns when the client disconnects (uvicorn's send alone would not say so)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _write(viewer: live.Viewer, channel: live.Channel, messages: asyncio.Queue[str], send: Any) -> None:
    checked = last_sent = time.monotonic()
    while True:
        now = time.monotonic()
        if now - checked >= live.SESSION_CHECK_S:
            if viewer.session is not None:
                if channel.in_use_at > checked:  # it showed this station's scans: its person is at work
                    await asyncio.to_thread(viewer.session.touch)
                if not await asyncio.to_thread(viewer.session.alive):
                    return  # logged out, idle or deactivated: the screen reconnects to the login page
            checked = now
        wait = min(last_sent + live.KEEPALIVE_S, checked + live.SESSION_CHECK_S) - now
        try:
            body = viewer.text(await asyncio.wait_for(messages.get(), max(wait, 0.0)))
        except TimeoutError:
            if time.monotonic() - last_sent < live.KEEPALIVE_S:
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


def server(app: Flask, threads: int = THREADS) -> uvicorn.Server:
    """A uvicorn server for the station (not started: `.run(sockets=[listen(...)])`)."""
    config = uvicorn.Config(
        StationApp(app, threads),
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=int(SHUTDOWN_S),
        ws="none",
    )
    return uvicorn.Server(config)


def serve(app: Flask, host: str, port: int, threads: int = THREADS) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM)."""
    server(app, threads).run(sockets=[listen(host, port)])
