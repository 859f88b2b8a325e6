"""The photo button's refusals (warehouse/web/photos.py), with realistic parameters."""

EXAMPLES = {
    "photo": {
        "no_photo": {},
        "too_large": {"max": 16},
        "not_an_image": {},
        "nothing_found": {},
    },
}
