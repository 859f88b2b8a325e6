"""The API's own refusals (warehouse/web/api.py), with realistic parameters."""

EXAMPLES = {
    "api": {
        "no_file": {},
        "bad_format": {},
        "bad_json": {},
        "no_scans": {},
        "batch_too_large": {"max": 500},
        "bad_scan": {},
        "database_unavailable": {},
        "body_too_large": {"max": 4, "batch": 500},
    },
}
