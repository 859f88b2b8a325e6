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
            # A handheld scans only into its station's acts (warehouse.services.devices); said here when
            # another station started the act between the token's check and the scan.
            "another_station": N_(
                "Act {act} is being received at station {other}: this device belongs to station {station} "
                "and may scan only into acts received there. Nothing was recorded."
            ),
            "not_closed": N_("End receiving first"),
            "already_decided": N_("The act is already decided"),
            "bad_decision": N_("Unknown decision"),
            "bad_reason": N_("Unknown reason code"),
            "empty_scan": N_("Empty scan"),
            "decision_contradicts": N_("There are discrepancies: choose accepted with discrepancies or rejected"),
        },
    )
