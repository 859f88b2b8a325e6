"""Russian, Kazakh and English for every string a person reads."""

from __future__ import annotations

from flask import Flask, g, request, session
from flask_babel import Babel, get_locale

from warehouse.config import DEFAULT_LANGUAGE, LANGUAGES

LANGUAGE_NAMES = {"ru": "Русский", "kk": "Қазақша", "en": "English"}


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    user = g.get("user")
    if user is not None and user.language in LANGUAGES:
        return str(user.language)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="warehouse/translations")
    app.jinja_env.globals.update(LANGUAGE_NAMES=LANGUAGE_NAMES, get_locale=get_locale)
