"""Why an act file was not imported: the reader's `ActFormatError`, with the act it would have duplicated."""

from __future__ import annotations

from warehouse.transfer_act import ActFormatError, Problem


class ActImportError(ActFormatError):
    """The file was not imported; `problems` lists every reason with its location.

    Worded by the act file's phrasebook (the first problem and how many more); `existing_act_id` is the
    act already imported from this file, when that is why (the API answers 409 with it).
    """

    def __init__(self, problems: list[Problem], existing_act_id: int | None = None) -> None:
        super().__init__(problems)
        self.existing_act_id = existing_act_id

    def __reduce__(self) -> tuple[type[ActImportError], tuple[list[Problem], int | None]]:  # type: ignore[override]
        return type(self), (self.problems, self.existing_act_id)
