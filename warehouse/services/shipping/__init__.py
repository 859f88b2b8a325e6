"""Outgoing transfer acts: build by scanning what ships, sign, export, and apply the receiver's acceptance.

The life of an outgoing act: draft → signed → sent → accepted | discrepancies | rejected.
- Draft: each scan reserves a code of the stock ledger with everything inside it (`add_code`); what the
  draft holds lives in the ledger itself (`stock_codes.act_id`, status reserved), so there is one truth.
- Signing (`sign`, or `accept_signatures` for NCALayer) builds the `transfer-act/1` document(s) from the
  draft, split at 30,000 codes per document without ever cutting an aggregate, signs their exact bytes,
  freezes the tree into `act_codes` (the act's permanent record, read by reports) and ships the codes.
- Export writes the signed bytes with their detached signature (JSON + .p7s), or the same lines as CSV or
  XLSX; the first export after signing marks the act sent.
- The receiver answers with a signed `transfer-act-acceptance/1` document; `apply_acceptance` verifies it
  first, then returns every refused code to stock (as a loose code when the aggregate it shipped in was
  broken up at the receiver) and sets the final status when every part has been answered.

Concurrency: see services/stock; here every write transaction on a draft locks the act row first
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises writers anyway), so signing never races a scan.

The package: `draft` (the new act, scanning codes on and off, prices), `commands` (one scan: a code or a
command code), `contents` (totals and the act's
summary), `documents` (building and signing the transfer-act documents), `exchange` (export, the
receiver's acceptance), `errors` (ShippingError and its phrasebook). Callers import this package only.
"""

from __future__ import annotations

from warehouse.services.shipping.commands import removing_next, scan
from warehouse.services.shipping.contents import (
    GtinLine,
    PartInfo,
    ReceiptInfo,
    Summary,
    Totals,
    act_summary,
    prices,
    summary,
    totals,
)
from warehouse.services.shipping.documents import (
    FORMAT,
    MAX_CODES,
    Prepared,
    SignOutcome,
    TransferDocument,
    accept_signatures,
    part_number,
    prepare,
    sign,
)
from warehouse.services.shipping.draft import (
    PRICED_LEVELS,
    TURNOVERS,
    AddResult,
    Basis,
    add_code,
    company,
    drafts,
    find_act,
    new_act,
    parse_basis,
    remove_code,
    roots,
    set_price,
    set_prices,
)
from warehouse.services.shipping.errors import ShippingError, warning_message
from warehouse.services.shipping.exchange import (
    ACCEPTANCE,
    EXPORT_FORMATS,
    ApplyResult,
    ExportFile,
    SurplusCode,
    apply_acceptance,
    export,
    export_files,
    file_stem,
    mark_exported,
    verify_acceptance,
)

__all__ = [
    "ACCEPTANCE",
    "EXPORT_FORMATS",
    "FORMAT",
    "MAX_CODES",
    "PRICED_LEVELS",
    "TURNOVERS",
    "AddResult",
    "ApplyResult",
    "Basis",
    "ExportFile",
    "GtinLine",
    "PartInfo",
    "Prepared",
    "ReceiptInfo",
    "ShippingError",
    "SignOutcome",
    "Summary",
    "SurplusCode",
    "Totals",
    "TransferDocument",
    "accept_signatures",
    "act_summary",
    "add_code",
    "apply_acceptance",
    "company",
    "drafts",
    "export",
    "export_files",
    "file_stem",
    "find_act",
    "mark_exported",
    "new_act",
    "parse_basis",
    "part_number",
    "prepare",
    "prices",
    "remove_code",
    "removing_next",
    "roots",
    "scan",
    "set_price",
    "set_prices",
    "sign",
    "summary",
    "totals",
    "verify_acceptance",
    "warning_message",
]
