"""The page furniture shared by the PDF reports: fonts, styles, header and footer, streamed tables.

Two things here exist for big documents:

- ``RowStream`` lays out a table page by page while pulling rows from an iterator, so a 10,000-line
  notice or a million-code act never becomes a list of rows or a giant reportlab ``Table`` (whose
  split re-measures every remaining row on every page). Cells are plain text drawn with
  ``drawString``: no Paragraph markup, so codes with ``< > &`` need no escaping there.
- "page N of M" without a second build pass: every footer draws "page N of " and then a PDF form
  XObject that is defined once, when the canvas is saved and the total is known.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph

from reports.errors import ReportError

FONT_DIR = Path(os.environ.get("WAREHOUSE_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT, FONT_BOLD, FONT_MONO = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"
_FONT_FILES = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf", FONT_MONO: "DejaVuSansMono.ttf"}

PAGE = A4
MARGIN = 12 * mm
HEADER_H = 14 * mm
FOOTER_H = 10 * mm
FRAME_W = PAGE[0] - 2 * MARGIN

SIZE = 7.5  # table text
MONO_SIZE = 7.0  # codes: a block's 50-character HRI fits one line of a 77 mm column
LEADING = SIZE * 1.2
HEADER_SIZE = 6.5  # column titles: "Қабылданғанның сомасы" must fit a money column
PAD_X, PAD_Y = 3.0, 2.2
GRID = colors.Color(0.55, 0.55, 0.55)
SHADE_HEAD = colors.Color(0.86, 0.88, 0.91)
SHADE_GROUP = colors.Color(0.94, 0.95, 0.97)
MAX_CELL_LINES = 24  # a row never outgrows a page: longer comments are cut with an ellipsis
TOTAL_FORM = "pageTotal"

Output = str | os.PathLike[str] | IO[bytes]


def register_fonts() -> None:
    """Register DejaVu once: the built-in PDF fonts have no Cyrillic, let alone ә і ң ғ ү ұ қ ө һ."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name, filename in _FONT_FILES.items():
        path = FONT_DIR / filename
        if not path.is_file():
            raise ReportError("font_missing", path=str(path))
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5, alignment=TA_LEFT)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=15, leading=19, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10.5, leading=13, spaceAfter=6),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4
        ),
        "mono": ParagraphStyle("mono", parent=base, fontName=FONT_MONO, fontSize=8, leading=10),
    }


def esc(text: object) -> str:
    """Text for Paragraph markup: ``& < >`` escaped (codes and company names contain them)."""
    return escape(str(text))


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of plain text: escaped, line breaks kept."""
    return Paragraph(esc(text).replace("\n", "<br/>"), style)


# --- documents -------------------------------------------------------------------------------------


class DocCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type information
    """Counts pages and, on save, defines the form that every footer refers to for the total."""

    pages = 0

    def showPage(self) -> None:
        self.pages += 1
        super().showPage()

    def save(self) -> None:
        self.beginForm(TOTAL_FORM, lowerx=0, lowery=-4, upperx=80, uppery=12)
        self.setFont(FONT, 7.5)
        self.drawString(0, 0, str(self.pages))
        self.endForm()
        super().save()


def draw_page_total(canv: Canvas, x: float, y: float) -> None:
    canv.saveState()
    canv.translate(x, y)
    canv.doForm(TOTAL_FORM)
    canv.restoreState()


@dataclass(frozen=True)
class PageFurniture:
    title: str  # document title, left of the header
    reference: str  # act number and date, right of the header
    page_text: str  # "Страница {n} из "
    mark: str | None = None  # "DEMO — not legally valid": in the header and footer of every page
    watermark: bool = True  # and across the page, under the text (not on labels: it would hide the symbols)


MARK_COLOR = colors.Color(0.75, 0.05, 0.05)
WATERMARK_COLOR = colors.Color(0.75, 0.05, 0.05, alpha=0.12)


def _draw_mark(canv: Canvas, furniture: PageFurniture, top: float, bottom: float) -> None:
    mark = furniture.mark
    assert mark is not None
    width, height = PAGE
    canv.setFillColor(MARK_COLOR)
    canv.setFont(FONT_BOLD, 9)
    canv.drawCentredString(width / 2, top - 22, mark)  # a second header line, under the title
    canv.setFont(FONT_BOLD, 7.5)
    canv.drawCentredString(width / 2, bottom, mark)
    if furniture.watermark:
        canv.saveState()
        canv.setFillColor(WATERMARK_COLOR)
        canv.translate(width / 2, height / 2)
        canv.rotate(45)
        size = 40.0
        while size > 12 and pdfmetrics.stringWidth(mark, FONT_BOLD, size) > height * 0.8:
            size -= 2
        canv.setFont(FONT_BOLD, size)
        canv.drawCentredString(0, 0, mark)
        canv.restoreState()
    canv.setFillColor(colors.black)


def page_furniture(furniture: PageFurniture) -> Callable[[Canvas, Any], None]:
    def on_page(canv: Canvas, doc: Any) -> None:
        width, height = PAGE
        canv.saveState()
        top = height - MARGIN
        if furniture.mark:
            _draw_mark(canv, furniture, top, MARGIN + 2 * mm)
        canv.setFont(FONT_BOLD, 10)
        canv.drawString(MARGIN, top - 10, furniture.title)
        canv.setFont(FONT, 9)
        canv.drawRightString(width - MARGIN, top - 10, furniture.reference)
        canv.setStrokeColor(GRID)
        canv.setLineWidth(0.5)
        canv.line(MARGIN, top - HEADER_H + 4 * mm, width - MARGIN, top - HEADER_H + 4 * mm)
        y = MARGIN + 2 * mm
        canv.line(MARGIN, y + 9, width - MARGIN, y + 9)
        text = furniture.page_text.format(n=canv.getPageNumber())
        canv.setFont(FONT, 7.5)
        canv.drawString(MARGIN, y, text)
        draw_page_total(canv, MARGIN + pdfmetrics.stringWidth(text, FONT, 7.5), y)
        canv.drawRightString(width - MARGIN, y, furniture.reference)
        canv.restoreState()

    return on_page


def build(out: Output, furniture: PageFurniture, flowables: list[Flowable], *, subject: str = "") -> None:
    """Lay ``flowables`` out on A4 pages with the header and the "page N of M" footer; write to ``out``."""
    register_fonts()
    with open_output(out) as stream:
        doc = BaseDocTemplate(
            stream,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + HEADER_H,
            bottomMargin=MARGIN + FOOTER_H,
            title=f"{furniture.title} — {furniture.reference}",
            subject=subject,
            creator="warehouse reports",
            invariant=1,
            pageCompression=1,
        )
        frame = Frame(
            doc.leftMargin,
            doc.bottomMargin,
            doc.width,
            doc.height,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=page_furniture(furniture))])
        doc.build(flowables, canvasmaker=DocCanvas)


@contextmanager
def open_output(out: Output) -> Iterator[IO[bytes]]:
    """A binary stream for ``out``. A path is written through a temporary file and renamed, so a
    report that fails half-way never leaves a truncated file where the old one was."""
    if not isinstance(out, (str, os.PathLike)):
        yield out
        return
    target = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- streamed tables -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    width: float  # points
    mono: bool = False
    align: Literal["left", "right"] = "left"


@dataclass(frozen=True, slots=True)
class Code:
    """A cell value that is a code: monospaced, wrapped only between its ``(AI)value`` parts."""

    parts: Sequence[str]


CellValue = str | Code
RowStyle = Literal["body", "group", "total"]


@dataclass(frozen=True, slots=True)
class TableRow:
    cells: tuple[tuple[str, ...], ...]  # lines of each cell; a span has one cell across all columns
    height: float
    style: RowStyle = "body"
    span: bool = False


class TableLayout:
    """Column geometry and the row builder of one streamed table."""

    def __init__(self, columns: Sequence[Column]) -> None:
        register_fonts()
        self.columns = tuple(columns)
        self.width = sum(c.width for c in columns)
        self._mono_char = pdfmetrics.stringWidth("0", FONT_MONO, MONO_SIZE)
        self.header = self.row([c.title for c in columns], "total", size=HEADER_SIZE)

    def _lines(self, value: CellValue, column: Column, font: str, size: float) -> tuple[str, ...]:
        inner = column.width - 2 * PAD_X
        if isinstance(value, Code) or column.mono:
            parts = value.parts if isinstance(value, Code) else [value]
            lines = wrap_parts(parts, max(1, int(inner // self._mono_char)))
        elif "\n" in value or pdfmetrics.stringWidth(value, font, size) > inner:
            lines = [
                piece
                for chunk in value.split("\n")
                for line in (simpleSplit(chunk, font, size, inner) or [""])
                for piece in _break_word(line, font, size, inner)
            ]
        else:
            return (value,)
        if len(lines) > MAX_CELL_LINES:
            lines = [*lines[: MAX_CELL_LINES - 1], lines[MAX_CELL_LINES - 1][:-1] + "…"]
        return tuple(lines)

    def row(self, values: Sequence[CellValue], style: RowStyle = "body", *, size: float = SIZE) -> TableRow:
        font = FONT if style == "body" else FONT_BOLD
        cells = tuple(self._lines(v, c, font, size) for v, c in zip(values, self.columns, strict=True))
        return TableRow(cells, _height(max(len(c) for c in cells), size), style)

    def span(self, text: str, style: RowStyle = "group") -> TableRow:
        """A row across all columns: an aggregate's heading, a subtotal."""
        lines = tuple(simpleSplit(text, FONT_BOLD, SIZE, self.width - 2 * PAD_X) or [""])[:MAX_CELL_LINES]
        return TableRow((lines,), _height(len(lines)), style, span=True)


def _break_word(line: str, font: str, size: float, width: float) -> list[str]:
    """A line that is still too wide (one long word) cut by characters: text never overflows its cell."""
    if pdfmetrics.stringWidth(line, font, size) <= width:
        return [line]
    pieces: list[str] = []
    current = ""
    for char in line:
        if current and pdfmetrics.stringWidth(current + char, font, size) > width:
            pieces.append(current)
            current = ""
        current += char
    pieces.append(current)
    return pieces


def _height(lines: int, size: float = SIZE) -> float:
    return 2 * PAD_Y + lines * size * 1.2


def wrap_parts(parts: Sequence[str], width: int) -> list[str]:
    """Pack parts into lines of at most ``width`` characters, splitting only parts too long alone."""
    lines: list[str] = []
    current = ""
    for part in parts:
        if len(current) + len(part) <= width:
            current += part
            continue
        if current:
            lines.append(current)
        while len(part) > width:
            lines.append(part[:width])
            part = part[width:]
        current = part
    if current or not lines:
        lines.append(current)
    return lines


class RowStream(Flowable):  # type: ignore[misc]
    """A table whose rows come from an iterator and are laid out one page at a time.

    It tells the frame it is taller than the space left, so the frame asks it to split; the split
    takes as many rows as fit (under a repeated header) and returns them as a ``_RowBlock`` followed
    by a fresh ``RowStream`` for the rest. A fresh one each time: platypus marks a flowable it had to
    postpone, and would reject the same object when it is postponed again on a later page.
    """

    def __init__(
        self, layout: TableLayout, rows: Iterable[TableRow], *, _pending: TableRow | None = None, _started: bool = False
    ) -> None:
        super().__init__()
        self.layout = layout
        self._rows = iter(rows)
        self._pending = _pending
        self._started = _started

    def _peek(self) -> TableRow | None:
        if self._pending is None:
            self._pending = next(self._rows, None)
        return self._pending

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self._peek() is None:
            return self.layout.width, (0 if self._started else self.layout.header.height)
        return self.layout.width, availHeight + 1  # "too tall": make the frame call split()

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        used = self.layout.header.height
        taken: list[TableRow] = []
        while (row := self._peek()) is not None and used + row.height <= availHeight - 0.01:
            taken.append(row)
            used += row.height
            self._pending = None
        if not taken:
            if self._pending is None:  # nothing at all to list: just the header
                return [_RowBlock(self.layout, [])]
            return []  # not even one row fits here: the frame moves on to a new page
        if self._pending is None:
            return [_RowBlock(self.layout, taken)]
        rest = RowStream(self.layout, self._rows, _pending=self._pending, _started=True)
        return [_RowBlock(self.layout, taken), rest]

    def draw(self) -> None:
        if not self._started:
            _RowBlock(self.layout, []).drawOn(self.canv, 0, 0)


class _RowBlock(Flowable):  # type: ignore[misc]
    """The rows of one page, under the table header."""

    def __init__(self, layout: TableLayout, rows: list[TableRow]) -> None:
        super().__init__()
        self.layout = layout
        self.rows = [layout.header, *rows]
        self.height = sum(r.height for r in self.rows)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.layout.width, self.height

    def draw(self) -> None:
        canv: Canvas = self.canv
        columns = self.layout.columns
        width = self.layout.width
        canv.saveState()
        canv.setStrokeColor(GRID)
        canv.setLineWidth(0.3)
        top = self.height
        for row in self.rows:
            bottom = top - row.height
            shade = SHADE_HEAD if row is self.layout.header else SHADE_GROUP if row.style != "body" else None
            if shade is not None:
                canv.setFillColor(shade)
                canv.rect(0, bottom, width, row.height, stroke=0, fill=1)
            canv.setFillColor(colors.black)
            canv.line(0, top, width, top)
            if row.span:
                _draw_lines(canv, row.cells[0], FONT_BOLD, PAD_X, top, None)
            else:
                x = 0.0
                font_body = FONT if row.style == "body" else FONT_BOLD
                header = row is self.layout.header
                for lines, column in zip(row.cells, columns, strict=True):
                    mono = column.mono and not header
                    right = x + column.width - PAD_X if column.align == "right" else None
                    size = HEADER_SIZE if header else MONO_SIZE if mono else SIZE
                    _draw_lines(
                        canv,
                        lines,
                        FONT_MONO if mono else font_body,
                        x + PAD_X,
                        top,
                        right,
                        size,
                        HEADER_SIZE * 1.2 if header else LEADING,
                    )
                    x += column.width
                    canv.line(x, top, x, bottom)
            canv.line(0, top, 0, bottom)
            canv.line(width, top, width, bottom)
            top = bottom
        canv.line(0, top, width, top)
        canv.restoreState()


def _draw_lines(
    canv: Canvas,
    lines: Sequence[str],
    font: str,
    x: float,
    top: float,
    right: float | None,
    size: float = SIZE,
    leading: float = LEADING,
) -> None:
    canv.setFont(font, size)
    y = top - PAD_Y - 0.9 * leading / 1.2
    for line in lines:
        if right is None:
            canv.drawString(x, y, line)
        else:
            canv.drawRightString(right, y, line)
        y -= leading


class Deferred(Flowable):  # type: ignore[misc]
    """A flowable made only when the layout reaches it: totals counted while the rows above streamed."""

    def __init__(self, make: Callable[[], Flowable]) -> None:
        super().__init__()
        self._make = make
        self._content: Flowable | None = None

    def _get(self) -> Flowable:
        if self._content is None:
            self._content = self._make()
        return self._content

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        width, height = self._get().wrap(availWidth, availHeight)
        self.width, self.height = width, height
        return width, height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        parts: list[Flowable] = self._get().split(availWidth, availHeight)
        return parts

    def draw(self) -> None:
        self._get().drawOn(self.canv, 0, 0)
