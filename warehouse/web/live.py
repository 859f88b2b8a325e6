"""Server-sent events for the live screens: one channel per (view, act, language), shared by its viewers.

A view (an act's receiving or outgoing screen, the stock page) calls `stream(act_id, render)` in its
request: the request thread checks the login and the act once, at connect. The first viewer of a
(view, act, language) opens a channel: one thread subscribed to the broker (fed by the services'
`announce`) that renders the fragments at most `RENDERS_PER_S` times a second and hands the same text to
every viewer. Each viewer's own CSRF token goes into that shared text at `CSRF_PLACEHOLDER` as it is
sent. Under `warehouse run` (warehouse/web/serving.py) the viewers are tasks on the event loop and hold
no request thread; under any other WSGI server a viewer holds its request thread, as streams always did.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

from warehouse.db import get_db
from warehouse.events import Event, broker, ensure_relay
from warehouse.web.access import LiveSession, live_session

# A comment this often (config LIVE_KEEPALIVE_SECONDS): proxies keep the stream, a dead client shows on a write
KEEPALIVE_S = 15.0
SESSION_CHECK_S = 60.0  # a stream re-checks its session (logout, idle, deactivated) this often
RENDERS_PER_S = 10  # a channel renders at most this often, whatever the scan rate
VIEWER_QUEUE = 100  # messages waiting for one slow viewer; past it the oldest are dropped
HANDOFF = "warehouse.live"  # the WSGI environ's key under which serving.py takes streams over
SCREEN_ATTR = "_warehouse_live_screen"
# Fragments are shared by every viewer; each viewer's CSRF token replaces this as the text is sent.
CSRF_PLACEHOLDER = f"live-csrf-{secrets.token_hex(12)}"
_STOP = Event(None, "stop")  # tells a channel's thread to end (never announced by a service)
TICK = "tick"
"""The kind of the event a channel with a `tick` renders when no other came for that long: a render that
shows what no service announces (the station's database connection, which is what is down) reads it
then, from memory — a tick's render must not need the database."""

Fragments = Iterable[tuple[str, str]]  # (SSE event name, rendered HTML)
Render = Callable[[Event], Fragments]
ChannelKey = tuple[str, int | None, str]  # (view, act or None for the stock page, language)


@dataclass(eq=False)
class Viewer:
    """One open stream: where its messages go, its CSRF token and its session."""

    key: ChannelKey
    csrf: str
    session: LiveSession | None
    app: Flask
    path: str
    render: Render
    keepalive: float = KEEPALIVE_S  # seconds between keepalive comments
    current: tuple[str, ...] = ()  # events whose latest fragment a viewer joining the channel is sent at once
    tick: float | None = None  # seconds without an event after which the channel renders a TICK; None: never
    put: Callable[[str], object] = field(default=lambda _m: None)  # called from the channel's thread
    loop: Any = None  # the asyncio loop whose thread `put` must run on; None: `put` is thread-safe

    def text(self, message: str) -> bytes:
        return message.replace(CSRF_PLACEHOLDER, self.csrf).encode()


class Channel:
    """The renders of one (view, act, language), shared by its viewers."""

    def __init__(self, hub: Hub, first: Viewer) -> None:
        self.hub, self.key = hub, first.key
        self.app, self.path, self.render, self.current = first.app, first.path, first.render, first.current
        self.tick = first.tick
        # The latest message of each `current` event: the channel's render may send a fragment only when it
        # changes, so a viewer joining later would otherwise show its page's older one until the next change.
        self.latest: dict[str, str] = {}
        self.viewers: set[Viewer] = set()
        self.in_use_at = 0.0  # monotonic time of the last render that showed this station's scans
        self.renders = 0
        self._events: queue.Queue[Event] = queue.Queue(1000)
        broker.subscribe(self.key[1], into=self._events)
        self._thread = threading.Thread(target=self._run, name=f"live-{self.key}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with contextlib.suppress(queue.Full):
            self._events.put_nowait(_STOP)

    def _run(self) -> None:
        try:
            while True:
                started = time.monotonic()
                try:
                    batch = [self._events.get(timeout=self.tick)]
                except queue.Empty:  # only with a tick: nothing was announced for that long
                    batch = [Event(self.key[1], TICK)]
                while True:  # everything that came meanwhile is one render
                    try:
                        batch.append(self._events.get_nowait())
                    except queue.Empty:
                        break
                if _STOP in batch:
                    return
                message = self._render(batch)
                if message:
                    self._send(message)
                time.sleep(max(0.0, started + 1 / RENDERS_PER_S - time.monotonic()))
        finally:
            broker.unsubscribe(self.key[1], self._events)

    def _render(self, batch: list[Event]) -> str:
        # The first event of each kind: a receiving screen renders every row after the last one it sent
        # (or after the earliest event's), so one render of a batch misses none of its scans.
        firsts: dict[str, Event] = {}
        for e in batch:
            firsts.setdefault(e.kind, e)
        view, _act, lang = self.key
        with self.app.test_request_context(self.path, headers={"Accept-Language": lang}):
            g.live_render = True
            try:
                fragments = [(name, sse(name, html)) for e in firsts.values() for name, html in self.render(e)]
            except Exception:  # a broken render must not end the channel: the next event renders again
                self.app.logger.exception("live screen %s failed to render", view)
                return ""
            if g.get("live_in_use"):
                self.in_use_at = time.monotonic()
        self.renders += 1
        with self.hub.lock:  # read by `Hub.join` as a viewer joins
            self.latest.update((name, message) for name, message in fragments if name in self.current)
        return "".join(message for _name, message in fragments)

    def _send(self, message: str) -> None:
        viewers = self.hub.viewers_of(self)
        by_loop: dict[Any, list[Viewer]] = {}
        for v in viewers:
            if v.loop is None:
                v.put(message)
            else:
                by_loop.setdefault(v.loop, []).append(v)
        for loop, on_loop in by_loop.items():  # one wake-up of each event loop per message, not per viewer
            with contextlib.suppress(RuntimeError):  # the loop closed: the server is stopping
                loop.call_soon_threadsafe(_put_all, on_loop, message)


def _put_all(viewers: list[Viewer], message: str) -> None:
    for v in viewers:
        v.put(message)


class Hub:
    """The open channels of this process and their viewers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._channels: dict[ChannelKey, Channel] = {}

    def join(self, viewer: Viewer) -> Channel:
        with self.lock:
            channel = self._channels.get(viewer.key)
            if channel is None:
                channel = self._channels[viewer.key] = Channel(self, viewer)
            channel.viewers.add(viewer)
            for message in channel.latest.values():  # on the viewer's thread or loop: `put` may be called here
                viewer.put(message)
            return channel

    def leave(self, viewer: Viewer) -> None:
        with self.lock:
            channel = self._channels.get(viewer.key)
            if channel is None:
                return
            channel.viewers.discard(viewer)
            if not channel.viewers:
                del self._channels[viewer.key]
                channel.stop()

    def viewers_of(self, channel: Channel) -> list[Viewer]:
        with self.lock:
            return list(channel.viewers)

    def count(self, key: ChannelKey | None = None) -> int:
        """Open viewers (of one channel, or of all)."""
        with self.lock:
            if key is None:
                return sum(len(c.viewers) for c in self._channels.values())
            channel = self._channels.get(key)
            return len(channel.viewers) if channel is not None else 0

    def channels(self) -> list[ChannelKey]:
        with self.lock:
            return list(self._channels)


hub = Hub()

F = TypeVar("F", bound=Callable[..., Any])


def screen(view: F) -> F:
    """Marks a view that answers with `stream`: `warehouse run` streams it on the event loop."""
    setattr(view, SCREEN_ATTR, True)
    return view


def is_screen(view: object) -> bool:
    return bool(getattr(view, SCREEN_ATTR, False))


def in_use() -> None:
    """Called by a render that shows this station's scans: its viewers' sessions count as active."""
    g.live_in_use = True


def stream(act_id: int | None, render: Render, current: tuple[str, ...] = (), tick: float | None = None) -> Response:
    """The SSE response of a live screen: `render(event)` for the events of the act (None: of the stock page).

    Called in the view's request, after the login was checked; `render` runs later, in its channel's thread,
    in a request context of the channel's language (a viewer's CSRF token is put in as it is sent).
    `current`: the events (regions swapped whole) whose latest fragment a viewer joining an open channel
    is sent at once, for a render that sends a fragment only when it changes. `tick`: `render` also gets a
    TICK event after that many seconds without another (it must then not need the database).
    """
    ensure_relay(get_db().url)
    viewer = Viewer(
        key=(str(request.endpoint), act_id, str(get_locale() or "ru")),
        csrf=generate_csrf(),
        session=live_session(),
        app=current_app._get_current_object(),  # type: ignore[attr-defined]
        path=request.path,
        render=render,
        current=current,
        tick=tick,
        keepalive=float(current_app.config.get("LIVE_KEEPALIVE_SECONDS", KEEPALIVE_S)),
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    handoff = request.environ.get(HANDOFF)
    if handoff is not None:  # served by warehouse/web/serving.py: the event loop streams it from here
        handoff.append(viewer)
        return Response(b"", mimetype="text/event-stream", headers=headers)
    return Response(_blocking(viewer), mimetype="text/event-stream", headers=headers)


def _blocking(viewer: Viewer) -> Iterator[bytes]:
    """The stream for a plain WSGI server: the viewer holds its request thread."""
    messages: queue.Queue[str] = queue.Queue(VIEWER_QUEUE)
    viewer.put = lambda m: put_dropping_oldest(messages, m)
    hub.join(viewer)
    checked = time.monotonic()
    try:
        yield b"retry: 1000\n\n"
        while True:
            try:
                yield viewer.text(messages.get(timeout=viewer.keepalive))
            except queue.Empty:
                yield b": keepalive\n\n"
            if viewer.session is not None and time.monotonic() - checked > SESSION_CHECK_S:
                checked = time.monotonic()
                if not viewer.session.alive():
                    return
    finally:
        hub.leave(viewer)


def put_dropping_oldest(q: queue.Queue[str] | asyncio.Queue[str], message: str) -> bool:
    """Queue `message`; a full queue (a viewer not keeping up) loses its oldest. True when one was lost."""
    try:
        q.put_nowait(message)
        return False
    except (queue.Full, asyncio.QueueFull):
        with contextlib.suppress(queue.Empty, asyncio.QueueEmpty):
            q.get_nowait()
        with contextlib.suppress(queue.Full, asyncio.QueueFull):
            q.put_nowait(message)
        return True


def sse(event: str, html: str) -> str:
    """One SSE message; every line of the fragment is a `data:` line.

    A browser drops a message without data, so a fragment that may render empty must render an element.
    """
    data = "\n".join(f"data: {line}" for line in html.strip().splitlines())
    return f"event: {event}\n{data}\n\n"


def init_app(app: Flask) -> None:
    @app.context_processor
    def shared_csrf() -> dict[str, object]:
        # A channel's render is shared by its viewers: the token is each viewer's, put in as it is sent.
        return {"csrf_token": lambda: CSRF_PLACEHOLDER} if g.get("live_render") else {}
