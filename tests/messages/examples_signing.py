"""Every reason a key cannot sign or a signature is refused or flagged (warehouse.signing.errors).

None takes parameters of its own (the detail a SigningError carries is for logs, never for the reader); the
trust store's messages name the command to run, which is not translated.
"""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "signing": {
        "wrong_password": {},
        "gost_key": {},
        "auth_key": {},
        "not_a_key_file": {},
        "no_key": {},
        "unsupported_key": {},
        "expired": {},
        "not_yet_valid": {},
        "revoked": {},
        "untrusted": {},
        "no_trusted_ca": {},
        "no_trust_store": {"command": "warehouse trust update", "offline": "warehouse trust update --from"},
        "trust_incomplete": {},
        "trust_download": {"command": "warehouse trust update", "offline": "warehouse trust update --from"},
        "demo": {},
        "demo_unchecked": {},
        "revocation_unchecked": {"command": "warehouse trust update", "offline": "warehouse trust update --from"},
        "crl_outdated": {"command": "warehouse trust update", "offline": "warehouse trust update --from"},
        "crl_invalid": {},
        "bad_signature": {},
        "content_mismatch": {},
        "not_cms": {},
        "signer_not_found": {},
        "multiple_signers": {},
        "unsupported_algorithm": {},
        "gost_unsupported": {},
        "chain_unchecked": {},
        "signer_mismatch": {},
        "verified_by_ncanode": {},
        "trust_file": {},
        "no_act": {},
        "act_not_decided": {},
        "already_signed": {},
        "signature_count": {},
        "stale_document": {},
        "certificate_not_shown": {},
        "no_key_file": {},
        "password_file": {},
        "output_exists": {},
        "not_acceptance": {},
        "ncanode_unavailable": {},
        "ncanode_error": {},
    },
    # the one verdict on a signed document (warehouse.signing.verdict), and the demo mark
    "verdict": {
        "valid": {},
        "unchecked": {"command": "warehouse trust update", "offline": "warehouse trust update --from"},
        "invalid": {},
        "demo": {},
    },
}
