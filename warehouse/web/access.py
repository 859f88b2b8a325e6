"""Who may open which view. Deny by default: a view without a declared policy answers 403.

Every view is marked `@public` or `@roles(...)`; `enforce()` runs before each request, so a view that
forgets its decorator is closed rather than open, and a test lists any endpoint without a policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, abort, current_app, g, redirect, request, session, url_for
from flask_htmx import make_response

from warehouse.db import get_db
from warehouse.services.users import active_user
from warehouse.vocab import Role

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "_warehouse_access"
ANY_ROLE = frozenset(Role)
TOKEN = "token"  # noqa: S105  # the name of an access policy, not a secret


def public(view: F) -> F:
    setattr(view, ACCESS_ATTR, None)
    return view


def token_auth(view: F) -> F:
    """The view authenticates by itself (API bearer tokens), not by the browser session."""
    setattr(view, ACCESS_ATTR, TOKEN)
    return view


def roles(*allowed: Role) -> Callable[[F], F]:
    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTR, frozenset(allowed) or ANY_ROLE)
        return view

    return mark


def policy_of(endpoint: str) -> frozenset[Role] | bool | str | None:
    """The endpoint's policy: None for public, a role set, or False when undeclared."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    result: frozenset[Role] | bool | str | None = getattr(view, ACCESS_ATTR, False)
    return result


def load_user() -> None:
    user_id = session.get("user_id")
    g.user = active_user(get_db(), user_id) if user_id is not None else None


def enforce() -> Response | None:
    load_user()
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    policy = policy_of(endpoint)
    if policy is None or policy == TOKEN:
        return None
    if policy is False:
        abort(403)
    if g.user is None:
        target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        if request.headers.get("HX-Request"):
            # htmx would swap the login page into a fragment; make the browser navigate instead.
            response: Response = make_response("", 401, redirect=target)
            return response
        return redirect(target)  # type: ignore[return-value]
    assert isinstance(policy, frozenset)
    if Role(g.user.role) not in policy:
        abort(403)
    return None
