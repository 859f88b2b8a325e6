"""Server-sent events for the live screens: one stream per act (incoming or outgoing) or for the stock page.

Each stream subscribes to the process's broker (fed by the services' `announce`), and on every event asks
its screen's renderer for the fragments to send, rendered in this viewer's language (htmx's SSE extension
swaps them in by event name).
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable, Iterator

from flask import Response, stream_with_context

from warehouse.db import get_db
from warehouse.events import Event, broker, ensure_relay

KEEPALIVE_S = 15.0
Fragments = Iterable[tuple[str, str]]  # (SSE event name, rendered HTML)


def stream(act_id: int | None, render: Callable[[Event], Fragments]) -> Response:
    """An SSE response that sends `render(event)` for every event of the act (None: of the stock page)."""
    ensure_relay(get_db().url)
    subscription = broker.subscribe(act_id)

    def events() -> Iterator[str]:
        try:
            yield "retry: 1000\n\n"
            while True:
                try:
                    event = subscription.get(timeout=KEEPALIVE_S)
                except queue.Empty:
                    yield ": keepalive\n\n"
                    continue
                for name, html in render(event):
                    yield sse(name, html)
        finally:
            broker.unsubscribe(act_id, subscription)

    return Response(
        stream_with_context(events()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def sse(event: str, html: str) -> str:
    """One SSE message; every line of the fragment is a `data:` line.

    A browser drops a message without data, so a fragment that may render empty must render an element.
    """
    data = "\n".join(f"data: {line}" for line in html.strip().splitlines())
    return f"event: {event}\n{data}\n\n"
