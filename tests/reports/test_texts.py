"""Every fixed text exists in Russian, Kazakh and English, and the inputs refuse values they cannot print."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

import reports
from reports.errors import ReportError
from reports.model import KINDS, LEVELS, CodeRow, Decision, DiscrepancyLine, GtinLine, LabelItem
from reports.texts import LANGS, NOTES, word, words
from tests.factories import KAZAKH_LETTERS
from warehouse.messages import catalog, say


def _report_msgids() -> list[str]:
    """Every msgid the renderers and reports.texts mark with N_."""
    found: list[str] = []
    for name in ("pdf.py", "excel.py", "texts.py"):
        tree = ast.parse((Path(reports.__file__).parent / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
                arg = node.args[0]
                assert isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                found.append(arg.value)
    return sorted(set(found))


MSGIDS = _report_msgids()
CLOSED_SETS = ("levels", "levels_plural", "kinds", "decisions", "reasons", "statuses", "modes", "turnovers")


@pytest.mark.parametrize("msgid", MSGIDS)
def test_every_text_is_there_in_every_language_with_the_same_placeholders(msgid: str) -> None:
    values = [say(msgid, lang) for lang in LANGS]
    for lang in ("ru", "kk"):
        assert catalog(lang).gettext(msgid) != msgid, f"no {lang} translation of {msgid!r}"
    assert all(values), msgid
    fields = [{f for _, f, _, _ in string.Formatter().parse(v) if f} for v in values]
    assert fields[0] == fields[1] == fields[2], msgid
    assert not values[2].endswith(" (report)"), f"{msgid}: the English catalog must drop the tag"


def test_closed_sets_have_words_for_every_member() -> None:
    for lang in LANGS:
        w = words(lang)
        assert set(w.levels) == set(w.levels_plural) == set(LEVELS)
        assert set(w.kinds) == set(KINDS)
        assert all(v for name in CLOSED_SETS for v in getattr(w, name).values())
        assert len(w.notes) == len(NOTES) and all(w.notes)


def test_kazakh_is_kazakh_and_not_russian() -> None:
    kazakh = " ".join(say(m, "kk") for m in MSGIDS)
    assert set(KAZAKH_LETTERS) - {"һ"} <= set(kazakh.lower())
    same = [m for m in MSGIDS if say(m, "kk") == say(m, "ru")]
    assert set(same) <= {"No.", "Code", "Aggregate", "Code (HRI)"}


def test_page_text_ends_where_the_total_is_drawn() -> None:
    for lang in LANGS:
        assert say("Page {n} of ", lang, n=3).endswith(" ")


def test_word_falls_back_to_the_value_itself() -> None:
    ru = words("ru")
    assert word(ru.statuses, "INTRODUCED") == "в обороте"
    assert word(ru.statuses, "SOMETHING_NEW") == "SOMETHING_NEW"
    assert word(ru.statuses, None, "—") == "—"


def test_a_language_the_reports_do_not_speak_is_refused() -> None:
    with pytest.raises(ReportError) as e:
        words("de")  # type: ignore[arg-type]
    assert "de" in e.value.message("ru")


def test_inputs_refuse_values_outside_their_closed_sets() -> None:
    with pytest.raises(ValueError, match="carton"):
        CodeRow("x", "carton")
    with pytest.raises(ValueError, match="lost"):
        DiscrepancyLine("lost", "x")
    with pytest.raises(ValueError):
        GtinLine("1", None, "crate", 1, 1)
    with pytest.raises(ValueError):
        LabelItem("x", "shelf")
    with pytest.raises(ValueError):
        Decision("maybe")
    assert DiscrepancyLine("invalid", "garbage").level is None
