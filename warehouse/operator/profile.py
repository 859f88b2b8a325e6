"""What differs between operator platforms, as data: paths, envelope, document type names, field names.

Every item the Kazakh side has not published is marked [U] (unknown, guessed from the Russian True API
of the same platform family, ../shared/operator.md); [V] verified in a public source, [I] inferred.
A deployment that learns the real Kazakh value changes the profile, not the adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["PROFILES", "Envelope", "Profile", "UnknownProfile", "get_profile", "operator_settings"]

DEFAULT_PROFILE = "kz_ismet_v3"


class Envelope(StrEnum):
    RU_UNIFIED = "ru_unified"  # one create URL: {document_format, product_document, type, signature}
    KZ_PER_TYPE = "kz_per_type"  # a URL per document type: {document, signature}


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    prefix: str  # the path prefix the base URL ends with, e.g. /api/v3/true-api
    create: Mapping[str, str]  # kind (shipment | acceptance | cancel) -> path
    envelope: Envelope
    doc_types: Mapping[str, str]  # kind -> the operator's document type name
    auth_key: str = "auth/key"  # [V] KZ public client code
    auth_sign_in: str = "auth/simpleSignIn"  # [V] KZ public client code
    doc_list: str = "doc/list"  # [V] RU v4; [U] on KZ (maybe only facade/doc/listV2)
    doc_info: str = "doc/{id}/info"  # [V] RU v4; [U] on KZ. "{id}" is the document id
    doc_cises: str = "doc/cises"  # [V] RU v3; [U] on KZ
    cises_info: str = "cises/info"  # [V] RU v3; [U] on KZ (KZ client code shows GET cises/listV2)
    cises_aggregated: str = "cises/aggregated/list"  # [V] RU v3; [U] on KZ
    product_group: str = "tobacco"
    participant_field: str = "inn"  # the BIN's field name in queries and bodies
    # The field of a doc/list (and doc/info) entry that is the document's id: what doc/{id}/info takes, what
    # a look-up by our number gives back. RU: "number" [V p.502], the sender's own number is invoiceNumber.
    list_id_field: str = "number"
    body_encoding: str = "json"
    document_format: str = "MANUAL"  # RU_UNIFIED's document_format for a JSON body
    codes_per_lookup: int = 1000
    requests_per_second: int = 50
    list_limit: int = 10_000  # doc/list's largest page

    def create_path(self, kind: str) -> str:
        return self.create[kind]


PROFILES: dict[str, Profile] = {
    "kz_ismet_v3": Profile(
        name="kz_ismet_v3",
        prefix="/api/v3/true-api",  # [V] stage.ismet.kz and elk.prod.markirovka.ismet.kz
        create={
            # [U] per-type URLs modelled on the legacy lk/documents/{shipment,acceptance}/create of the
            # same platform and on KZ's documents/transit/import/third_countries [V for that one only]
            "shipment": "documents/shipment/create",
            "acceptance": "documents/acceptance/create",
            "cancel": "documents/shipment/cancel",
        },
        envelope=Envelope.KZ_PER_TYPE,  # [V] {document, signature} seen on a KZ per-type URL
        # [I] the JWT's DOC-CONTROLLER.SHIPMENT / ACCEPTANCE permissions; [U] the exact type names
        doc_types={"shipment": "LP_SHIP_GOODS", "acceptance": "LP_ACCEPT_GOODS", "cancel": "LP_CANCEL_SHIPMENT"},
        product_group="tobacco",  # [V] the KZ JWT's product_group_info name
        participant_field="inn",  # [I] the KZ JWT's claim carries the 12-digit BIN as "inn"
        list_id_field="number",  # [U] as RU's doc/list; the legacy facade's doc/{docId}/body takes it too [I]
        body_encoding="json",  # [U] KZ notices are XML + XSD; the acts may be too
        codes_per_lookup=1000,  # [U] RU's limit
        requests_per_second=50,  # [U] RU's limit
        list_limit=10_000,  # [U] RU's limit
    ),
    "ru_true_api": Profile(
        name="ru_true_api",
        prefix="/api/v3/true-api",  # [V] (doc/list and doc/{id}/info are v4 too; v3 kept for the deprecation window)
        create={
            "shipment": "lk/documents/create",
            "acceptance": "lk/documents/create",
            "cancel": "lk/documents/create",
        },
        envelope=Envelope.RU_UNIFIED,  # [V] manual v477 p.69-71
        doc_types={"shipment": "LP_SHIP_GOODS", "acceptance": "LP_ACCEPT_GOODS", "cancel": "LP_CANCEL_SHIPMENT"},
        list_id_field="number",  # [V] manual v477 p.502: doc/list's "number" is the document id
    ),
}


class UnknownProfile(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown operator profile {name!r}; known: {', '.join(sorted(PROFILES))}")
        self.name = name


def get_profile(name: str | None = None) -> Profile:
    """The profile called `name` (the default, kz_ismet_v3, when None or empty)."""
    try:
        return PROFILES[name or DEFAULT_PROFILE]
    except KeyError:
        raise UnknownProfile(str(name)) from None


def operator_settings(config: Mapping[str, Any]) -> tuple[str | None, Profile]:
    """(base URL, profile) from WAREHOUSE_OPERATOR_URL and WAREHOUSE_OPERATOR_PROFILE (keys with or without
    the WAREHOUSE_ prefix, as the Flask config holds them). The URL is None when none is set."""

    def get(key: str) -> Any:
        return config.get(f"WAREHOUSE_{key}") or config.get(key)

    url = get("OPERATOR_URL")
    return (str(url).rstrip("/") if url else None), get_profile(get("OPERATOR_PROFILE"))
