"""A GS inside a code is shown with a visible mark (issue 16, item 10): no installed font draws ␝."""

from __future__ import annotations

from warehouse.web.labels import show_gs


def test_each_gs_becomes_a_visible_mark_and_the_rest_stays_escaped() -> None:
    html = str(show_gs("01<b>&\"'\x1d8005112000\x1d93Ab1+"))
    assert html == (
        "01&lt;b&gt;&amp;&#34;&#39;"
        '<span class="gs" title="GS">\u241d</span>8005112000'
        '<span class="gs" title="GS">\u241d</span>93Ab1+'
    )
    assert "<b>" not in html and "\x1d" not in html


def test_a_code_without_gs_is_only_escaped() -> None:
    assert str(show_gs("00046000000000000017<")) == "00046000000000000017&lt;"
