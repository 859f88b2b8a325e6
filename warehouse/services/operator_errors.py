"""What the exchange with the operator tells a person when it cannot go on (warehouse/services/operator_*.py)."""

from __future__ import annotations

from typing import ClassVar

from warehouse.messages import N_, Phrasebook, WarehouseError
from warehouse.operator.types import OperatorError


class OperatorServiceError(WarehouseError):
    """The exchange refused or stopped; what was queued stays queued."""

    phrasebook: ClassVar[Phrasebook] = Phrasebook(
        "operator",
        {
            "no_act": N_("No such act"),
            "not_incoming": N_("The act is not an incoming act"),
            "not_outgoing": N_("The act is not an outgoing act"),
            "not_configured": N_("No operator is configured: set WAREHOUSE_OPERATOR_URL"),
            "unknown_profile": N_("Unknown operator profile: {profile}"),
            "login_needed": N_("Log in to the operator: the station has no session there"),
            "session_expired": N_("The session at the operator has expired: log in to the operator again"),
            "login_refused": N_("The operator refused the login: {message}"),
            "no_bin": N_("The company's BIN is not known: set WAREHOUSE_COMPANY_BIN or log in with the company's key"),
            "unreachable": N_("The operator cannot be reached now: what is queued waits and is sent later"),
            "refused": N_("The operator refused: {message}"),
            "not_from_operator": N_("Act {number} did not come from the operator"),
            "not_signed": N_("Act {number} is not signed yet: sign the decision first"),
            "already_queued": N_("A document of this kind for act {number} is with the operator already"),
            "not_sent": N_("Act {number} has not been sent to the operator"),
            "not_cancellable": N_("Act {number} can be cancelled only while it waits for the receiver's acceptance"),
            "signature_refused": N_("The signature was not accepted: {problem}"),
            "no_outgoing": N_("Act {number} is not a signed outgoing act"),
        },
    )


# The OperatorError reasons that mean the operator was not reached or is busy: the queue waits.
_AWAY = frozenset({"unreachable", "rate_limited", "unavailable", "timeout_after_send"})


def from_operator(error: OperatorError) -> OperatorServiceError:
    """The person's words for an OperatorError (the operator's own message is shown as it gave it)."""
    if error.reason == "unauthorized":
        return OperatorServiceError("session_expired")
    if error.reason in _AWAY:
        return OperatorServiceError("unreachable")  # the technical detail goes to the sync record and the log
    return OperatorServiceError("refused", message=error.message or error.reason)
