"""`ActReader`, what every reader of an act file is: a checked header and a stream of lines."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from warehouse.transfer_act.data import ActHeader, ActLine
from warehouse.transfer_act.problems import Problem, ProblemList, Reason


class ActReader(ABC):
    """An act file opened for reading. Get one from `read_act`.

    `header` is read and checked when the reader is made. `lines()` streams the codes parent before
    child and records every problem it meets in `problems` instead of raising: read all the lines,
    then look at `problems` (empty means every line is good; the whole-tree checks are `check_tree`'s
    or the import service's). Each call of `lines()` reads the file again and starts `problems` afresh.
    """

    header: ActHeader

    def __init__(self, path: Path) -> None:
        self.path = path
        self._problems = ProblemList()

    @property
    def problems(self) -> list[Problem]:
        """Problems found by the last `lines()` iteration, at most MAX_PROBLEMS plus an "and N more"."""
        return self._problems.as_list()

    def lines(self) -> Iterator[ActLine]:
        """The act's lines, each parent before its children (JSON: depth-first preorder; CSV and XLSX:
        file order). Never raises ActFormatError: a damaged file ends the iteration with a problem."""
        self._problems = problems = ProblemList()
        lines = self._lines(problems)
        first = next(lines, None)
        if first is None:
            if not problems:
                problems.add(Problem("file", Reason.NO_CODES))
            return
        yield first
        yield from lines  # delegated without a Python step per line

    @abstractmethod
    def read_header(self) -> tuple[ActHeader | None, list[Problem], bool]:
        """(header or None, problems, fatal): fatal when the lines cannot be read either."""

    @abstractmethod
    def _lines(self, problems: ProblemList) -> Iterator[ActLine]: ...
