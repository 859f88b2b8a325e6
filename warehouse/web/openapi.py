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
                "properties": {
                    "scans": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 500,
                        "items": {
                            "type": "object",
                            "required": ["code"],
                            "properties": {
                                "code": {"type": "string", "description": "as scanned; repairs are applied"},
                                "scan_id": {
                                    "type": "string",
                                    "description": "the terminal's own id: a retry with the same "
                                    "id is answered, never counted twice",
                                },
                            },
                        },
                    }
                },
            },
            "ScanResult": {
                "type": "object",
                "required": ["input", "scan_id", "class", "reason", "message", "credited", "replayed"],
                "properties": {
                    "input": {"type": "string"},
                    "scan_id": {"type": ["string", "null"]},
                    "class": {
                        "enum": ["matched", "duplicate", "surplus", "foreign", "wrong_product", "product", "invalid"]
                    },
                    "reason": {"type": "string"},
                    "message": {"type": "string"},
                    "credited": {"type": "integer"},
                    "replayed": {"type": "boolean"},
                    "journal_id": {"type": "integer"},
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
                "summary": "Record scans (a batch is applied in order, each in its own transaction)",
                "parameters": [{"name": "act_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScanRequest"}}},
                },
                "responses": {
                    "200": {
                        "description": "one result per scan, in order",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["results"],
                                    "properties": {
                                        "results": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/ScanResult"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "400": _err("malformed body"),
                    "401": _err("no valid device token: unknown, replaced by a re-issue, revoked or expired"),
                    "403": _err("the act is being received at another station (another_station); nothing recorded"),
                    "404": _err("no such act"),
                    "409": _err("receiving of the act has ended; scans before it are in 'accepted'"),
                    "413": _err("more than 500 scans"),
                },
            }
        },
        "/openapi.json": {
            "get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}
        },
    },
}
