"""`make test` runs the docstring examples of the modules listed in the Makefile's DOCTESTS: none may be left out."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("warehouse", "reports", "hardware")
PROMPT = re.compile(r"^\s*>>> ", re.MULTILINE)


def listed() -> list[Path]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^DOCTESTS\s*:=(.*)$", makefile, re.MULTILINE)
    assert match, "the Makefile has no DOCTESTS list"
    return [ROOT / p for p in match.group(1).split()]


def with_examples() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and PROMPT.search(path.read_text(encoding="utf-8"))
    )


def test_every_listed_path_exists() -> None:
    missing = [str(p.relative_to(ROOT)) for p in listed() if not p.exists()]
    assert missing == [], "moved? list the new path in the Makefile's DOCTESTS"


def test_every_module_with_examples_is_listed() -> None:
    paths = listed()
    left_out = [str(m.relative_to(ROOT)) for m in with_examples() if not any(m == p or p in m.parents for p in paths)]
    assert left_out == [], "add these to the Makefile's DOCTESTS so that `make test` runs their examples"


def test_the_list_finds_the_examples() -> None:
    assert ROOT / "warehouse" / "canonical.py" in with_examples()  # the scan itself works
