"""Numbers, money and dates the way each language writes them."""

from __future__ import annotations

from datetime import date, datetime

from reports.texts import Lang


def fmt_int(n: int, lang: Lang) -> str:
    """``1 000 000`` in Russian and Kazakh (narrow no-break space), ``1,000,000`` in English."""
    text = f"{n:,}"
    return text if lang == "en" else text.replace(",", "\u202f")


def fmt_money(tiyn: int | None, lang: Lang) -> str:
    """Tenge with two decimals from an integer amount of tiyn; empty for an unknown price."""
    if tiyn is None:
        return ""
    sign = "-" if tiyn < 0 else ""
    whole, cents = divmod(abs(tiyn), 100)
    point = "." if lang == "en" else ","
    return f"{sign}{fmt_int(whole, lang)}{point}{cents:02d}"


def fmt_date(d: date | None, lang: Lang) -> str:
    if d is None:
        return ""
    return d.isoformat() if lang == "en" else d.strftime("%d.%m.%Y")


def fmt_datetime(dt: datetime | None, lang: Lang) -> str:
    """Date and minutes, with the UTC offset when the value carries one (signatures are compared
    across time zones; a bare time would be ambiguous)."""
    if dt is None:
        return ""
    text = f"{fmt_date(dt.date(), lang)} {dt:%H:%M}"
    offset = dt.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{text} (UTC{sign}{hours:02d}:{mins:02d})"
