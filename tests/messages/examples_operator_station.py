"""Realistic parameters for the station's side of the exchange with the operator (services/operator_*.py)."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "operator": {
        "no_act": {},
        "not_incoming": {},
        "not_outgoing": {},
        "not_configured": {},
        "unknown_profile": {"profile": "kz_xtrace"},
        "login_needed": {},
        "session_expired": {},
        "login_refused": {"message": "Ошибка при проверке подписи"},
        "no_bin": {},
        "unreachable": {},
        "refused": {"message": "Отсутствует обязательное поле: trade_recipient_inn"},
        "not_from_operator": {"number": "ТА-000123"},
        "not_signed": {"number": "ТА-000123"},
        "already_queued": {"number": "ТА-000123"},
        "not_sent": {"number": "ИСХ-000045"},
        "not_cancellable": {"number": "ИСХ-000045"},
        "signature_refused": {"problem": "content_mismatch"},
        "no_outgoing": {"number": "ИСХ-000045"},
    },
}
