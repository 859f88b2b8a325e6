"""The Flask extensions the blueprints use, created here so that no blueprint imports the app factory."""

from __future__ import annotations

from flask_htmx import HTMX
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
htmx = HTMX()
