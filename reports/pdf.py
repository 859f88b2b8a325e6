"""The printed reports: acceptance act, notice of discrepancies, aggregate labels, outgoing act.

Every renderer takes plain data (reports.model), a language, and writes one PDF to ``out`` (a path or
a binary file object). Long lists are consumed once, as they come, page by page.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, Spacer, Table, TableStyle

from reports import datamatrix
from reports.codes_text import hri_parts
from reports.formatting import fmt_date, fmt_datetime, fmt_int, fmt_money
from reports.model import (
    LEVELS,
    PROGRESS_STEP,
    ActInfo,
    CodeRow,
    Decision,
    DiscrepancyLine,
    GtinLine,
    LabelItem,
    Progress,
    SignatureInfo,
)
from reports.pdf_layout import (
    FONT,
    FONT_BOLD,
    FONT_MONO,
    FRAME_W,
    GRID,
    MARGIN,
    PAGE,
    Code,
    Column,
    Deferred,
    DocCanvas,
    Output,
    PageFurniture,
    RowStream,
    TableLayout,
    TableRow,
    build,
    esc,
    open_output,
    page_furniture,
    para,
    register_fonts,
    styles,
    wrap_parts,
)
from reports.texts import GTIN, NONE, Lang, Words, word, words
from warehouse.messages import N_, say
from warehouse.vocab import contents

__all__ = ["acceptance_pdf", "discrepancy_pdf", "display_code", "labels_pdf", "outgoing_act_pdf"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def display_code(code: str, level: str | None = None) -> list[str]:
    """A code as printed: the GS1 HRI split at its ``(AI)`` parts, or the code itself with any control
    character spelled out (``<GS>``), since no font has a glyph for it."""
    parts = hri_parts(code, level)
    if len(parts) == 1 and _CONTROL.search(parts[0]):
        return [_CONTROL.sub(lambda m: "<GS>" if m[0] == "\x1d" else f"<0x{ord(m[0]):02X}>", parts[0])]
    return parts


def _reference(act: ActInfo, lang: Lang) -> str:
    return say(N_("Act No. {number} of {date}"), lang, number=act.number, date=fmt_date(act.date, lang))


def demo_mark(demo: bool, lang: Lang) -> str | None:
    """What marks a document signed in demo mode, or None."""
    return say(N_("DEMO — not legally valid"), lang) if demo else None


def _page(lang: Lang) -> str:
    """ "Page 3 of ": the total page count is drawn right after this text, once it is known."""
    return say(N_("Page {n} of "), lang)


# --- shared blocks ---------------------------------------------------------------------------------


def _act_header(title: str, act: ActInfo, t: Words, lang: Lang) -> list[Flowable]:
    st = styles()
    bin_word = say(N_("BIN"), lang)
    party_cells = [
        Paragraph(f"<b>{esc(label)}</b><br/>{esc(party.name)}<br/>{esc(bin_word)} {esc(party.bin)}", st["body"])
        for label, party in ((say(N_("Sender"), lang), act.sender), (say(N_("Receiver"), lang), act.receiver))
    ]
    parties = Table([party_cells], colWidths=[FRAME_W / 2, FRAME_W / 2])
    parties.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.4, GRID),
                ("INNERGRID", (0, 0), (-1, -1), 0.4, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    facts: list[tuple[str, str]] = []
    basis = "; ".join(
        f"{word(t.basis_types, doc[0])} № {doc[1]}" + (f" {fmt_date(doc[2], lang)}" if doc[2] else "")
        for doc in act.basis
    )
    if basis:
        facts.append((say(N_("Basis"), lang), basis))
    if act.turnover:
        facts.append((say(N_("Turnover type"), lang), word(t.turnovers, act.turnover)))
    if act.mode:
        facts.append((say(N_("Receiving mode"), lang), word(t.modes, act.mode)))
    if act.status:
        facts.append((say(N_("Act status"), lang), word(t.statuses, act.status)))
    flow: list[Flowable] = [
        Paragraph(esc(title), st["title"]),
        Paragraph(esc(_reference(act, lang)), st["subtitle"]),
        parties,
        Spacer(1, 3 * mm),
    ]
    flow += [Paragraph(f"<b>{esc(label)}:</b> {esc(value)}", st["body"]) for label, value in facts]
    return flow


def _key_values(pairs: list[tuple[str, Flowable | str]]) -> Table:
    st = styles()
    data = [
        [Paragraph(f"<b>{esc(key)}</b>", st["body"]), value if isinstance(value, Flowable) else para(value, st["body"])]
        for key, value in pairs
    ]
    table = Table(data, colWidths=[55 * mm, FRAME_W - 55 * mm])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.4, GRID),
                ("INNERGRID", (0, 0), (-1, -1), 0.4, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), colors.Color(0.94, 0.95, 0.97)),
            ]
        )
    )
    return table


def _heading(text: str) -> list[Flowable]:
    # CondPageBreak keeps a heading from standing alone at the foot of a page.
    return [CondPageBreak(30 * mm), Paragraph(esc(text), styles()["h2"])]


@dataclass
class _Totals:
    expected: int = 0
    credited: int = 0
    amount: int = 0
    priced: bool = False


def _signed(n: int, lang: Lang) -> str:
    return f"+{fmt_int(n, lang)}" if n > 0 else fmt_int(n, lang).replace("-", "−")


def _gtin_summary(lines: Iterable[GtinLine], t: Words, lang: Lang, *, shipping: bool) -> list[Flowable]:
    """Counts per GTIN and level, and totals per level (computed while the lines stream past)."""
    if shipping:
        columns = [
            Column(GTIN, 27 * mm, mono=True),
            Column(say(N_("Product (report)"), lang), 75 * mm),
            Column(say(N_("Level"), lang), 18 * mm),
            Column(say(N_("Quantity"), lang), 20 * mm, align="right"),
            Column(say(N_("Price, ₸"), lang), 22 * mm, align="right"),
            Column(say(N_("Amount, ₸"), lang), FRAME_W - 162 * mm, align="right"),
        ]
    else:
        columns = [
            Column(GTIN, 27 * mm, mono=True),
            Column(say(N_("Product (report)"), lang), FRAME_W - 145 * mm),
            Column(say(N_("Level"), lang), 16 * mm),
            Column(say(N_("Expected"), lang), 19 * mm, align="right"),
            Column(say(N_("Credited"), lang), 19 * mm, align="right"),
            Column(say(N_("Difference"), lang), 18 * mm, align="right"),
            Column(say(N_("Price, ₸"), lang), 20 * mm, align="right"),
            Column(say(N_("Credited amount, ₸"), lang), 26 * mm, align="right"),
        ]
    layout = TableLayout(columns)

    def rows() -> Iterator[TableRow]:
        totals: dict[str, _Totals] = {}
        for line in lines:
            total = totals.setdefault(line.level, _Totals())
            counted = line.expected if shipping else line.credited
            amount = None if line.price_tiyn is None else line.price_tiyn * counted
            total.expected += line.expected
            total.credited += line.credited
            if amount is not None:
                total.amount += amount
                total.priced = True
            level = word(t.levels, line.level)
            if shipping:
                values = [
                    line.gtin,
                    line.name or "",
                    level,
                    fmt_int(line.expected, lang),
                    fmt_money(line.price_tiyn, lang),
                    fmt_money(amount, lang),
                ]
            else:
                values = [
                    line.gtin,
                    line.name or "",
                    level,
                    fmt_int(line.expected, lang),
                    fmt_int(line.credited, lang),
                    _signed(line.credited - line.expected, lang),
                    fmt_money(line.price_tiyn, lang),
                    fmt_money(amount, lang),
                ]
            yield layout.row(values)
        for level_key in LEVELS:
            if (sums := totals.get(level_key)) is None:
                continue
            label = say(N_("Total, {level}"), lang, level=word(t.levels, level_key))
            amount_text = fmt_money(sums.amount, lang) if sums.priced else ""
            if shipping:
                values = ["", label, "", fmt_int(sums.expected, lang), "", amount_text]
            else:
                values = [
                    "",
                    label,
                    "",
                    fmt_int(sums.expected, lang),
                    fmt_int(sums.credited, lang),
                    _signed(sums.credited - sums.expected, lang),
                    "",
                    amount_text,
                ]
            yield layout.row(values, "total")

    return [*_heading(say(N_("Summary by GTIN and level"), lang)), RowStream(layout, rows())]


def _fingerprint(hex_digest: str) -> str:
    clean = hex_digest.replace(":", "").replace(" ", "").upper()
    groups = [clean[i : i + 4] for i in range(0, len(clean), 4)]
    return "\n".join(" ".join(groups[i : i + 8]) for i in range(0, len(groups), 8))


def _signature_block(signature: SignatureInfo | None, lang: Lang) -> list[Flowable]:
    st = styles()
    flow = _heading(say(N_("Electronic digital signature"), lang))
    if signature is None:
        flow.append(Paragraph(esc(say(N_("The document is not signed electronically."), lang)), st["body"]))
        return flow
    flow.append(
        _key_values(
            [
                (say(N_("Signer"), lang), signature.signer),
                (say(N_("IIN"), lang), signature.iin or NONE),
                (say(N_("BIN"), lang), signature.bin or NONE),
                (say(N_("Organisation"), lang), signature.organisation or NONE),
                (
                    say(N_("Certificate fingerprint (SHA-256)"), lang),
                    para(_fingerprint(signature.cert_sha256), st["mono"]),
                ),
                (say(N_("Signed at (report)"), lang), fmt_datetime(signature.signed_at, lang)),
            ]
        )
    )
    return flow


def _hand_signatures(lang: Lang) -> list[Flowable]:
    st = styles()
    line = say(N_("signature, full name"), lang)
    cell = [
        Paragraph(
            f"<b>{esc(label)}</b><br/><br/>______________________________<br/><font size=7>{esc(line)}</font>",
            st["body"],
        )
        for label in (say(N_("Handed over by"), lang), say(N_("Received by"), lang))
    ]
    return [CondPageBreak(35 * mm), Spacer(1, 8 * mm), Table([cell], colWidths=[FRAME_W / 2, FRAME_W / 2])]


# --- the reports -----------------------------------------------------------------------------------


def acceptance_pdf(
    out: Output,
    act: ActInfo,
    gtin_lines: Iterable[GtinLine],
    decision: Decision | None,
    signature: SignatureInfo | None,
    lang: Lang,
) -> None:
    """The acceptance act: parties, act reference, counts by GTIN and level, the decision with its
    reason codes and comment, and the signer with the certificate's SHA-256 fingerprint."""
    t = words(lang)
    title = say(N_("Acceptance act"), lang)
    flow = _act_header(title, act, t, lang)
    flow += _gtin_summary(gtin_lines, t, lang, shipping=False)
    flow += _heading(say(N_("Decision"), lang))
    if decision is None:
        flow.append(Paragraph(esc(say(N_("No decision recorded"), lang)), styles()["body"]))
    else:
        reasons = ", ".join(
            f"{word(t.reasons, code)} ({code})" if code in t.reasons else code for code in decision.reason_codes
        )
        flow.append(
            _key_values(
                [
                    (
                        say(N_("Decision"), lang),
                        Paragraph(f"<b>{esc(word(t.decisions, decision.decision))}</b>", styles()["body"]),
                    ),
                    (say(N_("Reason codes"), lang), reasons or NONE),
                    (say(N_("Comment"), lang), decision.comment or NONE),
                    (say(N_("Decided by"), lang), decision.decided_by or NONE),
                    (say(N_("Decided at"), lang), fmt_datetime(decision.decided_at, lang) or NONE),
                ]
            )
        )
    flow += _signature_block(signature, lang)
    build(
        out,
        PageFurniture(title, _reference(act, lang), _page(lang), demo_mark(act.demo, lang)),
        flow,
        subject=act.number,
    )


def discrepancy_pdf(
    out: Output, act: ActInfo, lines: Iterable[DiscrepancyLine], lang: Lang, *, progress: Progress | None = None
) -> None:
    """The notice of discrepancies: codes grouped by the aggregate they belong to (consecutive lines
    with the same parent form one group, so pass them ordered by parent), each with its reason and
    comment, a subtotal per aggregate and totals per kind at the end. ``progress`` gets the number
    of lines laid out, every 1,000."""
    t = words(lang)
    title = say(N_("Notice of discrepancies"), lang)
    layout = TableLayout(
        [
            Column(say(N_("No."), lang), 9 * mm, align="right"),
            Column(say(N_("Discrepancy"), lang), 25 * mm),
            Column(say(N_("Code"), lang), 77 * mm, mono=True),
            Column(say(N_("Level"), lang), 15 * mm),
            Column(GTIN, 23 * mm, mono=True),
            Column(say(N_("Resolution, reason, comment"), lang), FRAME_W - 149 * mm),
        ]
    )
    tally: Counter[str] = Counter()

    def rows() -> Iterator[TableRow]:
        n = 0
        for (parent, parent_level), group in groupby(lines, key=lambda line: (line.parent_code, line.parent_level)):
            if parent is None:
                yield layout.span(say(N_("Not in an aggregate"), lang))
            else:
                code = "".join(display_code(parent, parent_level))
                yield layout.span(say(N_("In {level} {code}"), lang, level=word(t.levels, parent_level), code=code))
            count = 0
            for line in group:
                n += 1
                count += 1
                tally[line.kind] += 1
                said = (word(t.resolutions, line.resolution), word(t.reasons, line.reason), line.comment or "")
                reason = "\n".join(x for x in said if x)
                yield layout.row(
                    [
                        str(n),
                        word(t.kinds, line.kind),
                        Code(display_code(line.code, line.level)),
                        word(t.levels, line.level),
                        line.gtin or "",
                        reason,
                    ]
                )
                if progress is not None and n % PROGRESS_STEP == 0:
                    progress(n)
            yield layout.span(say(N_("Total for the aggregate: {n}"), lang, n=fmt_int(count, lang)), "total")

    def totals() -> Flowable:
        st = styles()
        if not tally:
            return Paragraph(esc(say(N_("No discrepancies."), lang)), st["body"])
        pairs: list[tuple[str, Flowable | str]] = [
            (word(t.kinds, kind), fmt_int(tally[kind], lang)) for kind in t.kinds if tally[kind]
        ]
        pairs.append((say(N_("Total (report)"), lang), fmt_int(sum(tally.values()), lang)))
        return _key_values(pairs)

    flow = _act_header(title, act, t, lang)
    flow += [
        Spacer(1, 4 * mm),
        RowStream(layout, rows()),
        *_heading(say(N_("Total discrepancies"), lang)),
        Deferred(totals),
    ]
    build(
        out,
        PageFurniture(title, _reference(act, lang), _page(lang), demo_mark(act.demo, lang)),
        flow,
        subject=act.number,
    )


def outgoing_act_pdf(
    out: Output,
    act: ActInfo,
    gtin_lines: Iterable[GtinLine],
    codes: Iterable[CodeRow] | None,
    lang: Lang,
    *,
    progress: Progress | None = None,
) -> None:
    """The outgoing transfer act as printed for the driver and the receiver: parties, counts and amounts
    by GTIN, optionally every code with its aggregate, and lines for hand signatures. ``progress``
    gets the number of codes laid out, every 1,000."""
    t = words(lang)
    title = say(N_("Transfer act"), lang)
    flow = _act_header(title, act, t, lang)
    flow += _gtin_summary(gtin_lines, t, lang, shipping=True)
    if codes is not None:
        # No GTIN column: it is in every pack and block code; the room goes to the aggregate's code.
        layout = TableLayout(
            [
                Column(say(N_("No."), lang), 11 * mm, align="right"),
                Column(say(N_("Code"), lang), 77 * mm, mono=True),
                Column(say(N_("Level"), lang), 14 * mm),
                Column(say(N_("Aggregate"), lang), 64 * mm, mono=True),
                Column(say(N_("Status"), lang), FRAME_W - 166 * mm),
            ]
        )

        def rows() -> Iterator[TableRow]:
            for n, row in enumerate(codes, 1):
                parent = Code(display_code(row.parent_code)) if row.parent_code else ""
                yield layout.row(
                    [
                        str(n),
                        Code(display_code(row.code, row.level)),
                        word(t.levels, row.level),
                        parent,
                        word(t.statuses, row.status),
                    ]
                )
                if progress is not None and n % PROGRESS_STEP == 0:
                    progress(n)

        flow += [*_heading(say(N_("Marking codes"), lang)), RowStream(layout, rows())]
    flow += _hand_signatures(lang)
    build(
        out,
        PageFurniture(title, _reference(act, lang), _page(lang), demo_mark(act.demo, lang)),
        flow,
        subject=act.number,
    )


def labels_pdf(
    out: Output,
    items: Iterable[LabelItem],
    lang: Lang,
    *,
    reference: str = "",
    demo: bool = False,
    columns: int = 2,
    rows: int = 4,
    progress: Progress | None = None,
) -> None:
    """A sheet of labels, ``columns`` × ``rows`` per A4 page: the level, the caption, a Data Matrix
    (GS1 for SSCC and element strings) and the human-readable code under it.

    ``reference`` (e.g. the act number) goes into every page's header, with the demo mark when ``demo``.
    """
    t = words(lang)
    title = say(N_("Aggregate labels"), lang)
    register_fonts()
    on_page = page_furniture(PageFurniture(title, reference, _page(lang), demo_mark(demo, lang), watermark=False))
    width, height = PAGE
    top = height - MARGIN - 14 * mm
    cell_w = (width - 2 * MARGIN) / columns
    cell_h = (top - MARGIN - 10 * mm) / rows
    per_page = columns * rows
    with open_output(out) as stream:
        canv = DocCanvas(stream, pagesize=PAGE, invariant=1, pageCompression=1)
        canv.setTitle(f"{title} {reference}".strip())
        canv.setCreator("warehouse reports")
        count = 0
        for count, item in enumerate(items, 1):
            slot = (count - 1) % per_page
            if slot == 0:
                if count > 1:
                    canv.showPage()
                on_page(canv, None)
            x = MARGIN + (slot % columns) * cell_w
            y = top - (slot // columns + 1) * cell_h
            _draw_label(canv, item, t, lang, x, y, cell_w, cell_h)
            if progress is not None and count % PROGRESS_STEP == 0:
                progress(count)
        if count == 0:  # nothing to label: still a valid one-page document
            on_page(canv, None)
        canv.showPage()
        canv.save()


def _draw_label(canv: DocCanvas, item: LabelItem, t: Words, lang: Lang, x: float, y: float, w: float, h: float) -> None:
    pad = 4 * mm
    canv.saveState()
    canv.setStrokeColor(colors.Color(0.7, 0.7, 0.7))  # a cutting guide, light enough not to confuse a reader
    canv.setDash(2, 2)
    canv.setLineWidth(0.4)
    canv.rect(x, y, w, h, stroke=1, fill=0)
    canv.setDash()
    cursor = y + h - pad - 11
    canv.setFont(FONT_BOLD, 12)
    canv.drawString(x + pad, cursor, word(t.levels, item.level).upper())
    canv.setFont(FONT, 9)
    held = contents(dict(item.contents), lang)
    caption = [
        *simpleSplit(item.product, FONT, 9, w - 2 * pad)[:2],
        *simpleSplit(say(N_("Inside: {contents}"), lang, contents=held) if held else "", FONT, 9, w - 2 * pad)[:2],
        *simpleSplit(item.caption, FONT, 9, w - 2 * pad)[:1],
    ]
    for line in caption:
        cursor -= 11
        canv.drawString(x + pad, cursor, line)
    text_lines = _hri_lines(item, w - 2 * pad)
    text_h = len(text_lines) * _HRI_LEADING + 2 * mm
    symbol = datamatrix.encode(item.code, item.level)
    span = max(symbol.cols, symbol.rows) + 2  # with a one-module quiet zone on each side
    room_top, room_bottom = cursor - 3 * mm, y + pad
    module = min(_MAX_MODULE, (room_top - room_bottom - text_h) / span, (w - 2 * pad) / span)
    size = span * module
    sy = room_top - ((room_top - room_bottom) - (size + text_h)) / 2 - size  # symbol and text centred
    datamatrix.draw_symbol(canv, symbol, x + (w - size) / 2, sy, module)
    canv.setFont(FONT_MONO, _HRI_SIZE)
    ty = sy - 2 * mm - _HRI_SIZE * 0.8
    for line in text_lines:
        canv.drawCentredString(x + w / 2, ty, line)
        ty -= _HRI_LEADING
    canv.restoreState()


_MAX_MODULE = 1.5 * mm  # GS1 logistic labels ask for 0.743-1.5 mm modules: the dock scans from afar
_HRI_SIZE = 9
_HRI_LEADING = 11


def _hri_lines(item: LabelItem, width: float) -> list[str]:
    per_line = max(1, int(width // pdfmetrics.stringWidth("0", FONT_MONO, _HRI_SIZE)))
    return wrap_parts(display_code(item.code, item.level), per_line)[:3]
