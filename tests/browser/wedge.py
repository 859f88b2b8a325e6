"""A keyboard-wedge scanner in Chromium: the keystrokes a scanner sends under a Russian layout, typed at an
element of the page as key events (a scanner types; it does not fill fields)."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.factories import GS
from warehouse import layouts

_KEYS = (
    ["Backquote", *(f"Digit{d}" for d in "1234567890"), "Minus", "Equal"]
    + [f"Key{c}" for c in "QWERTYUIOP"]
    + ["BracketLeft", "BracketRight", "Backslash"]
    + [f"Key{c}" for c in "ASDFGHJKL"]
    + ["Semicolon", "Quote"]
    + [f"Key{c}" for c in "ZXCVBNM"]
    + ["Comma", "Period", "Slash"]
)


def russian_keystrokes(text: str) -> list[dict[str, object]]:
    """What a keyboard-wedge scanner produces under a Russian layout: physical `code`, Cyrillic `key`."""
    out: list[dict[str, object]] = []
    for ch in text:
        if ch == GS:
            out.append({"code": "BracketRight", "key": "ъ", "ctrlKey": True, "shiftKey": False})
            continue
        shift = ch in layouts.US[1] and ch not in layouts.US[0]
        i = layouts.US[1 if shift else 0].index(ch)
        out.append({"code": _KEYS[i], "key": layouts.RU[1 if shift else 0][i], "ctrlKey": False, "shiftKey": shift})
    out.append({"code": "Enter", "key": "Enter", "ctrlKey": False, "shiftKey": False})
    return out


def type_at(page: Page, selector: str, code: str) -> None:
    """The scanner typing `code` and Enter into the element `selector` names, whether it has the focus or not.
    Waits until the page's wedge.js has taken its fields: key events sent before that are nobody's."""
    page.wait_for_selector("[data-wedge-ready]", state="attached")
    page.evaluate(
        """([selector, keys]) => {
        const target = document.querySelector(selector);
        for (const k of keys) for (const type of ['keydown', 'keyup'])
            target.dispatchEvent(new KeyboardEvent(type, {...k, bubbles: true, cancelable: true}));
    }""",
        [selector, russian_keystrokes(code)],
    )


def scan_into(page: Page, label: str, code: str) -> None:
    """Focus the scan field (found by its label, as a person finds it) and scan `code` into it."""
    page.get_by_label(label).focus()
    type_at(page, "#scan-field", code)
