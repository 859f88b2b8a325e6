"""The printed reports, read back with poppler (text) and zxing-cpp (every Data Matrix on every page)."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate

from reports import datamatrix
from reports.codes_text import hri
from reports.datamatrix import DataMatrixFlowable
from reports.errors import ReportError
from reports.model import DiscrepancyLine, GtinLine, LabelItem
from reports.pdf import acceptance_pdf, discrepancy_pdf, display_code, labels_pdf, outgoing_act_pdf
from reports.pdf_layout import Column, RowStream, TableLayout
from reports.texts import LANGS, Lang, words
from tests import factories as f
from tests.reports.pdftools import page_count, pdf_text, read_symbols
from warehouse.messages import N_, say

KAZAKH_NAME = "Шаһар темекісі «Әңгіме» ғүұқө"  # "city tobacco": every Kazakh-only letter, һ included


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("lang", LANGS)
def test_acceptance_act_carries_parties_counts_decision_and_signature(lang: Lang, tmp_path: Path) -> None:
    t = words(lang)
    out = tmp_path / "acceptance.pdf"
    lines = [*f.gtin_lines(), GtinLine(f.gtin(1003), KAZAKH_NAME, "block", 5, 6, 100)]
    acceptance_pdf(out, f.act(), iter(lines), f.decision(), f.signature(), lang)
    text = pdf_text(out)
    flat = squash(text)
    for expected in (
        say(N_("Acceptance act"), lang),
        "ТА-000123 <&>",
        "ТОО «Табак-Трейд» <опт> & Ко",
        "ТОО \"Қойма Әліқан\" 'Өскемен'",
        f.gtin(1001),
        t.decisions["accepted_with_discrepancies"],
        t.reasons["shortage"],
        "custom_code",
        "Ғалым Құрманов",
        "ҚҰРМАНОВ ҒАЛЫМ",
        "880101300123",
        "0F0F 0F0F",
        say(N_("Summary by GTIN and level"), lang),
        say(N_("Electronic digital signature"), lang),
    ):
        assert squash(expected) in flat, expected
    assert "Коробка вскрыта <b>не</b> & помята" in text  # markup in a comment is shown, not obeyed
    assert squash(KAZAKH_NAME) in flat
    assert squash(say(N_("Total, {level}"), lang, level=t.levels["block"])) in flat
    assert "+1" in text and "−3" in text  # credited minus expected, signed
    assert squash(say(N_("Page {n} of "), lang, n=1) + "1") in flat


def test_kazakh_act_is_in_kazakh(tmp_path: Path) -> None:
    out = tmp_path / "kk.pdf"
    acceptance_pdf(out, f.act(), f.gtin_lines(), f.decision(), f.signature(), "kk")
    text = pdf_text(out)
    for phrase in (
        "Қабылдау актісі",
        "Жөнелтуші",
        "Алушы",
        "БСН",
        "GTIN және деңгейлер бойынша жиынтық",
        "Сәйкессіздіктермен қабылданды",
        "Электрондық цифрлық қолтаңба",
        "Қол қоюшы",
        "Бет 1 / 1",
    ):
        assert phrase in text
    assert "Акт приёмки" not in text


def test_acceptance_without_decision_or_signature_says_so(tmp_path: Path) -> None:
    out = tmp_path / "a.pdf"
    acceptance_pdf(out, f.act(), [], None, None, "ru")
    text = pdf_text(out)
    assert "Решение не принято" in text
    assert "Документ не подписан ЭЦП." in text


def test_discrepancy_notice_groups_codes_by_aggregate(tmp_path: Path) -> None:
    out = tmp_path / "notice.pdf"
    lines = list(f.discrepancy_lines(95))
    discrepancy_pdf(out, f.act(), iter(lines), "ru")
    text = pdf_text(out)
    flat = squash(text)
    for line in lines:
        assert squash(hri(line.code, line.level)) in flat, line.code  # shown escaped for markup? never: drawn
    boxes = {line.parent_code for line in lines}
    assert len(boxes) == 10
    for box in boxes:
        assert squash(f"В составе: короб {hri(box or '')}") in flat
    assert text.count("Итого по агрегату: 10") == 9 and text.count("Итого по агрегату: 5") == 1
    assert squash("Отсутствует32") in flat and squash("Излишек32") in flat and squash("Дубликат31") in flat
    assert squash("Итого95") in flat
    assert "блок <вскрыт> & пуст" in text
    assert "не отсканирован" in text


def test_every_page_has_the_header_and_page_n_of_m(tmp_path: Path) -> None:
    out = tmp_path / "notice.pdf"
    discrepancy_pdf(out, f.act("№ 7/2026"), f.discrepancy_lines(200), "kk")
    pages = page_count(out)
    assert pages >= 4
    for page in range(1, pages + 1):
        text = pdf_text(out, page=page)
        assert "Сәйкессіздіктер туралы хабарлама" in text
        assert "№ № 7/2026" in text  # the act reference, number and date, in the header and footer
        assert f"Бет {page} / {pages}" in text


def test_empty_notice_says_there_is_nothing(tmp_path: Path) -> None:
    out = tmp_path / "notice.pdf"
    discrepancy_pdf(out, f.act(), iter(()), "en")
    assert "No discrepancies." in pdf_text(out)


def test_a_huge_comment_is_cut_rather_than_breaking_the_page(tmp_path: Path) -> None:
    out = tmp_path / "notice.pdf"
    line = DiscrepancyLine("surplus", f.sscc_code(1), "box", None, None, None, "not_in_act", "очень длинно " * 3000)
    discrepancy_pdf(out, f.act(), [line], "ru")
    assert "…" in pdf_text(out)
    assert page_count(out) == 1


def test_rows_are_pulled_one_page_at_a_time() -> None:
    layout = TableLayout([Column("n", 100), Column("code", 200, mono=True)])
    pulled = 0

    def rows() -> Iterator:  # type: ignore[type-arg]
        nonlocal pulled
        for n in range(100_000):
            pulled += 1
            yield layout.row([str(n), f"code {n}"])

    stream = RowStream(layout, rows())
    first, rest = stream.split(300, A4[1] / 2)
    assert 10 < pulled < 60  # half a page of rows and the one that did not fit, not 100,000
    assert isinstance(rest, RowStream)
    assert len(first.rows) == pulled  # the header plus every row that fitted


def test_display_code_spells_out_control_characters() -> None:
    assert display_code("AB\x1dC\x01") == ["AB<GS>C<0x01>"]
    assert display_code(f.sscc_code(3)) == ["(00)" + f.sscc(3)]


LABEL_CODES = [
    (f.sscc_code(1), "pallet"),
    (f.sscc_code(2), "box"),
    (f.block(f.gtin(1001), '(a)<&>"'), "block"),
    (f.block(f.gtin(1001), "'%*+,-."), "block"),
    (f.block(f.gtin(1002), "A[b]C"), "block"),  # brackets: written by libdmtx
    (f.pack(f.gtin(1001), f.serial(5)), "pack"),  # plain Data Matrix
    *[(f.sscc_code(100 + i), "box") for i in range(5)],
]


def test_every_label_reads_back_as_the_stored_code(tmp_path: Path) -> None:
    out = tmp_path / "labels.pdf"
    items = (LabelItem(code, level, f"{level} № {i} «Әңгіме» <50> & co") for i, (code, level) in enumerate(LABEL_CODES))
    labels_pdf(out, items, "kk", reference="ТА-000123")
    assert page_count(out) == 2  # eight labels a page
    found = read_symbols(out, tmp_path)
    assert Counter(r.bytes for r in found) == Counter(code.encode() for code, _ in LABEL_CODES)
    for result in found:
        is_pack = len(result.bytes) == 29
        assert result.symbology_identifier == ("]d1" if is_pack else "]d2")
        assert result.content_type == (zxingcpp.ContentType.Text if is_pack else zxingcpp.ContentType.GS1)
    text = pdf_text(out)
    flat = squash(text)
    for code, level in LABEL_CODES:
        assert squash(hri(code, level)) in flat
    assert "ЖӘШІК" in text and "ПАЛЛЕТА" in text and "<50> & co" in text
    assert "Бет 2 / 2" in text


def test_labels_read_back_when_libdmtx_draws_them_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datamatrix, "HAVE_ZXING", False)
    datamatrix._encode.cache_clear()
    out = tmp_path / "labels.pdf"
    codes = [code for code, level in LABEL_CODES if level != "pack"][:8]
    labels_pdf(out, [LabelItem(code, "box") for code in codes], "ru")
    datamatrix._encode.cache_clear()
    found = read_symbols(out, tmp_path)
    assert sorted(r.bytes for r in found) == sorted(code.encode() for code in codes)
    assert {r.symbology_identifier for r in found} == {"]d2"}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(serials=st.lists(st.text(alphabet=f.SET82, min_size=1, max_size=20), min_size=1, max_size=8, unique=True))
def test_random_serials_survive_print_and_scan(serials: list[str], tmp_path: Path) -> None:
    codes = [f.block(f.gtin(1001), ser) for ser in serials]
    buffer = io.BytesIO()
    labels_pdf(buffer, [LabelItem(code, "block") for code in codes], "en")
    out = tmp_path / "random.pdf"
    out.write_bytes(buffer.getvalue())
    found = read_symbols(out, tmp_path)
    assert sorted(r.bytes for r in found) == sorted(code.encode() for code in codes)
    assert all(r.symbology_identifier == "]d2" for r in found)


def test_an_empty_label_sheet_is_still_a_pdf(tmp_path: Path) -> None:
    out = tmp_path / "none.pdf"
    labels_pdf(out, [], "ru")
    assert page_count(out) == 1
    assert read_symbols(out, tmp_path) == []


def test_vector_flowable_reads_back_from_a_platypus_story(tmp_path: Path) -> None:
    out = tmp_path / "story.pdf"
    codes = [f.sscc_code(77), f.block(f.gtin(1001), "Q(&)<>")]
    SimpleDocTemplate(str(out), pagesize=A4).build([DataMatrixFlowable(code) for code in codes])
    assert sorted(r.bytes for r in read_symbols(out, tmp_path)) == sorted(c.encode() for c in codes)


def test_outgoing_act_lists_codes_with_their_aggregates(tmp_path: Path) -> None:
    out = tmp_path / "outgoing.pdf"
    codes = list(f.tree(1, 2, 2, 3))
    outgoing_act_pdf(out, f.act(), f.gtin_lines(), iter(codes), "ru")
    flat = squash(pdf_text(out))
    for row in codes:
        assert squash(hri(row.code, row.level)) in flat
    assert squash("Акт приёма-передачи") in flat and squash("Коды маркировки") in flat
    assert "Сдал" in flat and "Принял" in flat and squash("в обороте") in flat


def test_outgoing_act_without_codes_has_no_code_list(tmp_path: Path) -> None:
    out = tmp_path / "outgoing.pdf"
    outgoing_act_pdf(out, f.act(), f.gtin_lines(), None, "en")
    text = pdf_text(out)
    assert "Summary by GTIN and level" in text and "Marking codes" not in text


def test_a_failed_render_leaves_no_half_written_file(tmp_path: Path) -> None:
    out = tmp_path / "notice.pdf"
    out.write_bytes(b"the previous report")

    def broken() -> Iterator[DiscrepancyLine]:
        yield from f.discrepancy_lines(300)
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        discrepancy_pdf(out, f.act(), broken(), "ru")
    assert out.read_bytes() == b"the previous report"
    assert list(tmp_path.iterdir()) == [out]


def test_unknown_language_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError):
        acceptance_pdf(tmp_path / "x.pdf", f.act(), [], None, None, "de")  # type: ignore[arg-type]


def test_progress_is_reported_while_lines_are_laid_out() -> None:
    seen: list[int] = []
    discrepancy_pdf(io.BytesIO(), f.act(), f.discrepancy_lines(2500), "ru", progress=seen.append)
    assert seen == [1000, 2000]
