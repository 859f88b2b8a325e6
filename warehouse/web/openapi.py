"""The OpenAPI 3.1 description of `/api/v1`; `tests/web/test_api.py` checks it against the behaviour."""

from __future__ import annotations

from typing import Any

from warehouse.vocab import Level

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "description": "for a person, in Accept-Language"},
                "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
                "existing_act_id": {"type": ["integer", "null"]},
            },
        }
    },
}
_LEVELS = {
    "type": "object",
    "required": ["pallet", "box", "block", "pack"],
    "properties": {k: {"type": "integer"} for k in (level.value for level in Level)},
}


def _err(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Warehouse receiving workstation API",
        "version": "1",
        "description": "For handheld terminals (ТСД) and integrations. Authenticate with the device token "
        "issued by `warehouse devices token`: `Authorization: Bearer <token>`. Messages follow "
        "Accept-Language (ru, kk, en). Codes are JSON strings; GS is \\u001d.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"device": []}],
    "components": {
        "securitySchemes": {"device": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": _ERROR,
            "Problem": {
                "type": "object",
                "required": ["location", "reason", "message"],
                "properties": {
                    "location": {"type": "string"},
                    "reason": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
            "Summary": {
                "type": "object",
                "required": [
                    "id",
                    "number",
                    "status",
                    "mode",
                    "expected",
                    "credited",
                    "surplus",
                    "duplicate",
                    "invalid",
                ],
                "properties": {
                    "id": {"type": "integer"},
                    "number": {"type": "string"},
                    "status": {"type": "string"},
                    "mode": {"type": "string"},
                    "expected": _LEVELS,
                    "credited": _LEVELS,
                    "outstanding": _LEVELS,
                    "surplus": {"type": "integer"},
                    "duplicate": {"type": "integer"},
                    "invalid": {"type": "integer"},
                },
            },
            "ScanRequest": {
                "type": "object",
                "description": "A batch, or one scan as {code, scan_id} alone. The body is at most 4 MiB "
                "(413 body_too_large, refused before it is read).",
                "properties": {
                    "scans": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 500,
                        "items": {
                            "type": "object",
                            "required": ["code"],
                            "properties": {
                                "code": {
                                    "type": "string",
                                    "maxLength": 1024,
                                    "description": "as scanned; repairs are applied. At most 1024 bytes of "
                                    "UTF-8, no NUL, no lone surrogate (else refused: code_too_long, "
                                    "code_has_nul, code_not_text)",
                                },
                                "scan_id": {
                                    "type": "string",
                                    "pattern": "^[A-Za-z0-9._:-]{1,64}$",
                                    "description": "the terminal's own id, unique per device token and act: "
                                    "a retry with the same id and code is answered (replayed), never counted "
                                    "twice; the same id with another code is refused (scan_id_reused). A "
                                    "re-issued token starts afresh. Left out: no retry protection",
                                },
                            },
                        },
                    }
                },
            },
            "ScanResult": {
                "description": "One item's answer, in the order sent; `status` says which kind",
                "oneOf": [
                    {"$ref": "#/components/schemas/ScanAccepted"},
                    {"$ref": "#/components/schemas/ScanRefused"},
                ],
            },
            "ScanAccepted": {
                "type": "object",
                "required": [
                    "index",
                    "status",
                    "scan_id",
                    "input",
                    "class",
                    "reason",
                    "message",
                    "credited",
                    "replayed",
                    "journal_id",
                ],
                "properties": {
                    "index": {"type": "integer"},
                    "status": {"const": "accepted"},
                    "scan_id": {"type": ["string", "null"]},
                    "input": {"type": "string"},
                    "class": {
                        "enum": ["matched", "duplicate", "surplus", "foreign", "wrong_product", "product", "invalid"]
                    },
                    "reason": {"type": "string", "description": "the matching rule's reason"},
                    "message": {"type": "string"},
                    "credited": {
                        "type": "integer",
                        "description": "codes this scan credited (a replay: the first time)",
                    },
                    "replayed": {"type": "boolean"},
                    "journal_id": {"type": "integer"},
                },
            },
            "ScanRefused": {
                "type": "object",
                "required": ["index", "status", "scan_id", "reason", "message"],
                "properties": {
                    "index": {"type": "integer"},
                    "status": {"const": "refused"},
                    "scan_id": {"type": ["string", "null"], "description": "echoed when it is a valid one"},
                    "reason": {
                        "enum": [
                            "bad_scan",
                            "bad_scan_id",
                            "code_not_text",
                            "code_has_nul",
                            "code_too_long",
                            "scan_id_reused",
                            "act_not_open",
                        ]
                    },
                    "message": {"type": "string", "description": "for a person, in Accept-Language"},
                },
            },
            "ScanAnswer": {
                "type": "object",
                "required": ["results", "accepted", "refused"],
                "properties": {
                    "results": {"type": "array", "items": {"$ref": "#/components/schemas/ScanResult"}},
                    "accepted": {"type": "integer"},
                    "refused": {"type": "integer"},
                    "error": {
                        "type": "object",
                        "description": "when every item was refused: the first refusal",
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        },
    },
    "paths": {
        "/acts": {
            "post": {
                "summary": "Import an act file (all or nothing)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "imported",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id", "number", "codes"],
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "number": {"type": "string"},
                                        "codes": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    "400": _err("no file or not .json/.csv/.xlsx"),
                    "401": _err("no valid device token: unknown, replaced by a re-issue, revoked or expired"),
                    "403": _err("the token may not import acts (may_not_import)"),
                    "409": _err("this act was imported already (existing_act_id)"),
                    "413": _err("file too large"),
                    "422": _err("the file has problems; all are listed"),
                },
            }
        },
        "/acts/{act}": {
            "get": {
                "summary": "Counters of an act",
                "parameters": [
                    {
                        "name": "act",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "id or number",
                    }
                ],
                "responses": {
                    "200": {
                        "description": "summary",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Summary"}}},
                    },
                    "401": _err("no valid device token: unknown, replaced by a re-issue, revoked or expired"),
                    "403": _err("the token may not read summaries, or the act is another station's"),
                    "404": _err("no such act"),
                },
            }
        },
        "/acts/{act_id}/scans": {
            "post": {
                "summary": "Record scans: a batch in order, in one transaction, each item answered on its own",
                "description": "An item that cannot be recorded is refused with its reason and never keeps "
                "the others out; a refused item writes nothing. 200: at least one item accepted (read each "
                "item's status). 409/422: every item refused (409 when one was a reused scan_id).",
                "parameters": [{"name": "act_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScanRequest"}}},
                },
                "responses": {
                    "200": {
                        "description": "one answer per item, in order; at least one accepted",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScanAnswer"}}},
                    },
                    "400": _err("malformed body (not a JSON object, no scans)"),
                    "401": _err("no valid device token"),
                    "404": _err("no such act"),
                    "409": {
                        "description": "receiving of the act has ended (an Error, nothing recorded), or every "
                        "item refused and one was a reused scan_id (a ScanAnswer)",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Error"},
                                        {"$ref": "#/components/schemas/ScanAnswer"},
                                    ]
                                }
                            }
                        },
                    },
                    "403": _err("the act is being received at another station (another_station); nothing recorded"),
                    "413": _err("more than 500 scans, or a body over 4 MiB"),
                    "422": {
                        "description": "every item refused (none recorded)",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScanAnswer"}}},
                    },
                    "503": _err("the database was busy: nothing recorded, send the same scans again (Retry-After)"),
                },
            }
        },
        "/openapi.json": {
            "get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}
        },
    },
}
