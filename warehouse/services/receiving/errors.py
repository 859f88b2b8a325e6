"""The one error receiving raises: the scan or action was refused and nothing was written."""

from __future__ import annotations

from typing import ClassVar

from warehouse.messages import N_, Phrasebook, WarehouseError


class ReceivingError(WarehouseError):
    """The scan or action was refused and nothing was written; `reason` keys the message."""

    phrasebook: ClassVar[Phrasebook] = Phrasebook(
        "receiving",
        {
            "no_act": N_("Act not found"),
            "act_not_open": N_("Receiving of this act has ended: scanning is closed"),
            "not_closed": N_("End receiving first"),
            "already_decided": N_("The act is already decided"),
            "bad_decision": N_("Unknown decision"),
            "bad_reason": N_("Unknown reason code"),
            "empty_scan": N_("Empty scan"),
            "decision_contradicts": N_("There are discrepancies: choose accepted with discrepancies or rejected"),
        },
    )
