"""`SigningError` and the reasons a signature is refused or flagged; the words are in the catalogs.

Reasons are stable identifiers: the CLI prints them, the web layer maps them to messages, and
`Verification.problems` / `.warnings` carry them. Add a reason here before raising it anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from warehouse.messages import N_, Phrasebook, WarehouseError

if TYPE_CHECKING:
    from warehouse.signing.certs import CertificateInfo

__all__ = ["TRUST_COMMANDS", "SigningError", "message"]

# The commands the trust store's messages name (parameters: commands are not translated).
TRUST_COMMANDS = {"command": "warehouse trust update", "offline": "warehouse trust update --from"}


class SigningError(WarehouseError):
    """A key cannot sign, or a signature cannot be checked, for a stable `reason` (see the phrasebook).

    `detail` is technical text for logs (never a password); `certificate` is set when the
    certificate was readable, so the page can still say whose key it was. `str()` is the reason and
    the detail, for logs; `message(lang)` is what a person reads.
    """

    phrasebook: ClassVar[Phrasebook] = Phrasebook(
        "signing",
        {
            # loading a key
            "wrong_password": N_("Wrong password for the key file. Check the keyboard layout and Caps Lock."),
            "gost_key": N_(
                "This is a GOST key: it can only sign through NCALayer. "
                "Choose “Sign with NCALayer” and pick this file in the NCALayer window."
            ),
            "auth_key": N_(
                "This is a login key (AUTH_…); it cannot sign documents. Choose a signing key (RSA256_… or GOSTKNCA_…)."
            ),
            "not_a_key_file": N_("The file is not a PKCS#12 (.p12) key."),
            "no_key": N_("The file holds no private key together with its certificate."),
            "unsupported_key": N_("This kind of key is not supported here; sign through NCALayer."),
            # the certificate
            "expired": N_("The certificate has expired."),
            "not_yet_valid": N_("The certificate is not valid yet."),
            "revoked": N_("The certificate has been revoked by the certification authority."),
            "untrusted": N_("The signer's certificate was not issued by a trusted certification authority."),
            "no_trusted_ca": N_("No trusted CA certificate is configured (--ca or WAREHOUSE_TRUSTED_CA)."),
            "no_trust_store": N_(
                "This station has no NCA RK trust store, so nothing can be signed or verified. "
                "Run “{command}” (offline: “{offline} FOLDER”)."
            ),
            "revocation_unchecked": N_(
                "Revocation could not be checked: the trust store has no current CRL of this certification "
                "authority. Run “{command}”."
            ),
            "crl_outdated": N_("The certificate revocation list (CRL) is out of date. Run “{command}”."),
            "trust_incomplete": N_(
                "These files are not a trust store: it needs a root CA certificate and its CRLs. Nothing was changed."
            ),
            "trust_download": N_(
                "The trust store could not be downloaded; nothing was changed. "
                "Check the network or use “{offline} FOLDER”."
            ),
            "demo": N_("Demo mode: this signature is a demo, not legally valid."),
            "demo_unchecked": N_(
                "The certificate was not checked: this station has no NCA RK trust store (demo mode signs anyway)."
            ),
            "crl_invalid": N_("The CRL's own signature did not verify; the list was ignored."),
            # the signature
            "bad_signature": N_("The signature is invalid: the document or the signature was altered."),
            "content_mismatch": N_("The signature belongs to another document: the content does not match."),
            "not_cms": N_("The signature file is damaged or is not a CMS (.p7s) signature."),
            "signer_not_found": N_("The signature does not contain the signer's certificate."),
            "multiple_signers": N_("The signature has several signers; exactly one is expected."),
            "unsupported_algorithm": N_("The signature algorithm is not supported."),
            "gost_unsupported": N_(
                "A GOST signature cannot be checked without NCANode: configure NCANode to verify it."
            ),
            "chain_unchecked": N_(
                "The GOST certificate chain cannot be checked here; NCANode or the operator will check it."
            ),
            "signer_mismatch": N_("The document names another certificate than the one that signed it."),
            "verified_by_ncanode": N_("The GOST signature was checked by NCANode."),
            "trust_file": N_("A configured CA certificate or CRL file could not be read."),
            # the act and the signing session
            "no_act": N_("Act not found."),
            "act_not_decided": N_(
                "Only a recorded decision can be signed: end receiving and record the decision first."
            ),
            "already_signed": N_("The decision on this act is already signed."),
            "signature_count": N_("Not every part of the document was signed. Sign again."),
            "stale_document": N_("The document to sign is out of date. Open the signing page again."),
            "certificate_not_shown": N_("Check the certificate before signing: press “Show the certificate”."),
            "no_key_file": N_("Choose the key file (.p12)."),
            "password_file": N_("The password file could not be read."),
            "output_exists": N_("Files with that name already exist; choose another --out or pass --force."),
            "not_acceptance": N_("The document file is not a transfer-act-acceptance/1 document."),
            # NCANode
            "ncanode_unavailable": N_("The NCANode service is not reachable."),
            "ncanode_error": N_("The NCANode service returned an error."),
        },
    )

    def __init__(self, reason: str, detail: str | None = None, *, certificate: CertificateInfo | None = None) -> None:
        super().__init__(reason)
        self.detail = detail
        self.certificate = certificate

    def message(self, lang: str = "en") -> str:
        return self.phrasebook.say(self.reason, lang, **TRUST_COMMANDS)

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


def message(reason: str, lang: str = "en") -> str:
    """The sentence a person reads for a verification problem or warning; an unknown reason is shown as it is."""
    phrasebook = SigningError.phrasebook
    return phrasebook.say(reason, lang, **TRUST_COMMANDS) if reason in phrasebook else reason
