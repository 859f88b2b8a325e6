"""Fill the Russian, Kazakh and English catalogs without hand-editing .po files.

    .venv/bin/python tools/catalogs.py fill WORDS.json      # [{"msgid": …, "ru": …, "kk": …, "en": …?}, …]
    .venv/bin/python tools/catalogs.py union REV [REV …]    # take translations the catalogs of REV have

Run `make i18n` first (it extracts new msgids into every catalog); both commands then set the empty
msgstrs and compile. `union` is for merging branches: a msgid translated on either side keeps its words.
"""

from __future__ import annotations

import json
import subprocess
import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("ru", "kk", "en")


def _po(lang: str) -> Path:
    return ROOT / "warehouse" / "translations" / lang / "LC_MESSAGES" / "messages.po"


def _load(lang: str) -> Catalog:
    with _po(lang).open("rb") as f:
        return read_po(f, locale=lang)


def _save(lang: str, catalog: Catalog) -> None:
    with _po(lang).open("wb") as f:
        write_po(f, catalog, width=120)
    with _po(lang).with_suffix(".mo").open("wb") as f:
        write_mo(f, catalog)


def fill(words: dict[str, dict[str, str]], *, overwrite: bool) -> int:
    """Set msgstr of each msgid present in the catalogs; returns how many were set."""
    changed = 0
    for lang in LANGS:
        catalog = _load(lang)
        for msgid, texts in words.items():
            text = texts.get(lang)
            message = catalog.get(msgid)
            if not text or message is None or (message.string and not overwrite):
                continue
            if message.string != text:
                message.string = text
                changed += 1
        _save(lang, catalog)
    return changed


def _translations_at(rev: str) -> dict[str, dict[str, str]]:
    words: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        path = _po(lang).relative_to(ROOT).as_posix()
        git = ["/usr/bin/git", "show", f"{rev}:{path}"]  # a developer's own revision names
        shown = subprocess.run(git, cwd=ROOT, capture_output=True, check=True)  # noqa: S603
        for message in read_po(BytesIO(shown.stdout), locale=lang):
            if message.id and isinstance(message.id, str) and message.string:
                words.setdefault(message.id, {})[lang] = str(message.string)
    return words


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "fill":
        entries = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        words = {e["msgid"]: {lang: e[lang] for lang in LANGS if e.get(lang)} for e in entries}
        missing = [m for m in words if _load("ru").get(m) is None]
        print(f"set {fill(words, overwrite=True)} translations")
        if missing:
            print(f"not in the catalogs (run make i18n first, or the msgid differs): {missing}", file=sys.stderr)
            return 1
        return 0
    if len(argv) >= 2 and argv[0] == "union":
        total = 0
        for rev in argv[1:]:
            total += fill(_translations_at(rev), overwrite=False)
        print(f"set {total} translations")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
