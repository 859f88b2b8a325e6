"""Every fixed text exists in Russian, Kazakh and English, and the inputs refuse values they cannot print."""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Mapping

import pytest

from reports.model import KINDS, LEVELS, CodeRow, Decision, DiscrepancyLine, GtinLine, LabelItem
from reports.texts import EN, KK, RU, Texts, word
from tests.factories import KAZAKH_LETTERS

FIELDS = [field.name for field in dataclasses.fields(Texts)]


@pytest.mark.parametrize("name", FIELDS)
def test_every_text_is_there_in_every_language_with_the_same_placeholders(name: str) -> None:
    values = [getattr(t, name) for t in (RU, KK, EN)]
    if isinstance(values[0], Mapping):
        assert values[0].keys() == values[1].keys() == values[2].keys()
        assert all(v for mapping in values for v in mapping.values())
    elif isinstance(values[0], tuple):
        assert len({len(v) for v in values}) == 1 and all(all(v) for v in values)
    else:
        assert all(values), name
        fields = [{f for _, f, _, _ in string.Formatter().parse(v) if f} for v in values]
        assert fields[0] == fields[1] == fields[2], name


def test_closed_sets_have_words_for_every_member() -> None:
    for t in (RU, KK, EN):
        assert set(t.levels) == set(t.levels_plural) == set(LEVELS)
        assert set(t.kinds) == set(KINDS)


def test_kazakh_is_kazakh_and_not_russian() -> None:
    kazakh = " ".join(str(getattr(KK, name)) for name in FIELDS)
    assert set(KAZAKH_LETTERS) - {"һ"} <= set(kazakh.lower())
    same = [name for name in FIELDS if getattr(KK, name) == getattr(RU, name) and isinstance(getattr(KK, name), str)]
    assert set(same) <= {"gtin", "number", "code", "none", "aggregate", "col_code_hri"}


def test_page_text_ends_where_the_total_is_drawn() -> None:
    for t in (RU, KK, EN):
        assert t.page.format(n=3).endswith(" ")


def test_word_falls_back_to_the_value_itself() -> None:
    assert word(RU.statuses, "INTRODUCED") == "в обороте"
    assert word(RU.statuses, "SOMETHING_NEW") == "SOMETHING_NEW"
    assert word(RU.statuses, None, "—") == "—"


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
