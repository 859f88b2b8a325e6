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
            "busy": N_(
                "The station's database is busy: nothing of this request was recorded. Send the same scans "
                "again in a moment, with the same scan_id: nothing is counted twice."
            ),
            # A scan refused before it reached the journal (warehouse.scan_limits): nothing was written.
            "scan_id_reused": N_(
                "This scan_id was already used on this act for another code: this scan was not recorded. "
                "Every scan needs an id of its own (check the terminal's scan counter)."
            ),
            "code_not_text": N_(
                "The code is not valid text (a broken character, {char}, at position {position}): it was not "
                "recorded. Check the terminal's encoding (UTF-8)."
            ),
            "code_has_nul": N_(
                "The code holds a null character (U+0000, at position {position}): it was not recorded. "
                "Check the scanner's settings."
            ),
            "code_too_long": N_(
                "The scan is {size} bytes long, more than the {max} one scan may hold: it was not recorded. "
                "Scan the codes one at a time."
            ),
            "bad_scan_id": N_(
                "scan_id must be 1 to {max} characters of A-Z, a-z, 0-9 and . _ : - (or be left out): "
                "this scan was not recorded."
            ),
        },
    )
