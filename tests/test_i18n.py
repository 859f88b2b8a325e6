"""Every string a person reads exists in Russian, Kazakh and English, and the compiled catalogs are fresh."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "warehouse" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_msgids() -> set[str]:
    found: set[str] = set()
    for sub, method in (("warehouse", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / sub, method_map=[(pattern, method)], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_template_lists_every_string_in_the_sources() -> None:
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        pot = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    missing = _source_msgids() - pot
    assert not missing, f"run `make i18n`: not in messages.pot: {sorted(missing)[:10]}"


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_string_is_translated(lang: str) -> None:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale=lang)
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == [], f"{lang}: untranslated {untranslated[:10]}"
    assert _source_msgids() <= {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_compiled_catalog_matches_its_source(lang: str) -> None:
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as f:
        po = {m.id: m.string for m in read_po(f, locale=lang) if m.id and m.string}
    mo = {m.id: m.string for m in read_mo(BytesIO((folder / "messages.mo").read_bytes())) if m.id}
    assert mo == po, "run `make i18n` to compile the catalogs"
