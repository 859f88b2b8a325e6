"""The act's header, whatever file it came from: format, number, date, the two parties, basis, turnover.

Every reader collects the header fields into the JSON shape and calls `build_header`, so a header is
checked one way for JSON, CSV and XLSX.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from warehouse.transfer_act.data import (
    FORMAT,
    MAX_BASIS,
    MAX_NAME,
    MAX_NUMBER,
    MAX_SHORT_TEXT,
    ActHeader,
    BasisDocument,
    Party,
)
from warehouse.transfer_act.fields import check_bin, check_date, check_text
from warehouse.transfer_act.problems import Problem, ProblemList, Reason, show, wrong_type

HEADER_KEYS: Final = ("format", "number", "date", "sender", "receiver", "basis", "turnover")


def build_header(values: Mapping[str, object], where: Callable[[str], str], problems: ProblemList) -> ActHeader | None:
    """Check the header fields (JSON shape) and build the header; None if any is wrong.

    `where(path)` gives the location of a field ("sender.bin" in JSON, "line 5" in CSV)."""
    fmt = values.get("format")
    if fmt is None:
        problems.add(Problem(where("format"), Reason.MISSING_FIELD, "format"))
    elif fmt != FORMAT:
        # Another format or version: the rest of the file means something else, so stop here.
        problems.add(Problem(where("format"), Reason.WRONG_FORMAT, show(str(fmt))))
        return None
    before = problems.count()
    number = check_text(values.get("number"), "number", where("number"), MAX_NUMBER, problems, required=True)
    date = check_date(values.get("date"), "date", where("date"), problems)
    sender = _party(values.get("sender"), "sender", where, problems)
    receiver = _party(values.get("receiver"), "receiver", where, problems)
    basis = _basis(values.get("basis"), where, problems)
    turnover = check_text(values.get("turnover"), "turnover", where("turnover"), MAX_SHORT_TEXT, problems)
    if problems.count() != before or fmt is None:
        return None
    assert number is not None and date is not None and sender is not None and receiver is not None
    return ActHeader(FORMAT, number, date, sender, receiver, basis, turnover)


def _party(value: object, key: str, where: Callable[[str], str], problems: ProblemList) -> Party | None:
    if value is None:
        problems.add(Problem(where(key), Reason.MISSING_FIELD, key))
        return None
    if not isinstance(value, dict):
        problems.add(wrong_type(where(key), key, "object"))
        return None
    for extra in sorted(set(value) - {"name", "bin"}):
        problems.add(Problem(where(f"{key}.{extra}"), Reason.UNKNOWN_FIELD, show(f"{key}.{extra}")))
    name = check_text(value.get("name"), f"{key}.name", where(f"{key}.name"), MAX_NAME, problems, required=True)
    bin_ = check_bin(value.get("bin"), f"{key}.bin", where(f"{key}.bin"), problems)
    return Party(name, bin_) if name is not None and bin_ is not None else None


def _basis(value: object, where: Callable[[str], str], problems: ProblemList) -> tuple[BasisDocument, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(wrong_type(where("basis"), "basis", "list"))
        return ()
    if len(value) > MAX_BASIS:
        problems.add(
            Problem(
                where("basis"),
                Reason.TOO_LONG,
                f"basis: {len(value)} > {MAX_BASIS}",
                (("field", "basis"), ("max", str(MAX_BASIS))),
            )
        )
        return ()
    documents = []
    for i, item in enumerate(value):
        key = f"basis[{i}]"
        if not isinstance(item, dict):
            problems.add(wrong_type(where(key), key, "object"))
            continue
        for extra in sorted(set(item) - {"type", "number", "date"}):
            problems.add(Problem(where(f"{key}.{extra}"), Reason.UNKNOWN_FIELD, show(f"{key}.{extra}")))
        type_ = check_text(item.get("type"), f"{key}.type", where(f"{key}.type"), MAX_SHORT_TEXT, problems, True)
        number = check_text(item.get("number"), f"{key}.number", where(f"{key}.number"), MAX_NUMBER, problems, True)
        date = check_date(item.get("date"), f"{key}.date", where(f"{key}.date"), problems)
        if type_ is not None and number is not None and date is not None:
            documents.append(BasisDocument(type_, number, date.isoformat()))
    return tuple(documents)
