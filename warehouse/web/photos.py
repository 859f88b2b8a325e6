"""A photo sent from a screen's "Photo" button (a phone's camera over plain HTTP: `<input type=file
accept=image/* capture=environment>`): every Data Matrix in it, for the screen's one scan path.

The photo is read here, at the edge (hardware.image, zxing-cpp); what each code does is the service's, as
for a code from the scan field. A photo sent again (a retry after a dropped connection) has the same
bytes, so the same key: receiving answers it as the replay it is, nothing is counted twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final

from flask import Request

from hardware.image import ImageDecodeError, Symbol, read_symbols
from warehouse.messages import N_, Phrasebook, WarehouseError

MAX_PHOTO_MB: Final = 16  # a phone's 12 MP JPEG is 3-6 MB
SOURCE: Final = "photo"  # the journal's source of a code read from a photo

SOUNDS: Final = ("ok", "duplicate", "error")  # from the mildest: a photo's banner sounds its worst code


class PhotoError(WarehouseError):
    phrasebook: ClassVar[Phrasebook] = Phrasebook(
        "photo",
        {
            "no_photo": N_("No photo was sent: press “Photo” and take one. Nothing was recorded."),
            "too_large": N_(
                "The photo is larger than {max} MB: nothing was recorded. Take it again at a lower resolution."
            ),
            "not_an_image": N_("That file is not a photo that can be read (JPEG, PNG, WebP): nothing was recorded."),
            "nothing_found": N_(
                "No code was found in the photo: nothing was recorded. Hold the camera closer, so that the code "
                "fills a good part of the picture, in focus, and take it again."
            ),
        },
    )


@dataclass(frozen=True)
class Photo:
    symbols: list[Symbol]
    key: str  # of the photo's bytes: "photo:<24 hex>"; a symbol's scan key adds its place

    def scan_key(self, n: int) -> str:
        return f"{self.key}:{n}"


def read_upload(request: Request) -> Photo:
    """The symbols of the photo in the request's `photo` field, in reading order. Raises PhotoError."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        raise PhotoError("no_photo")
    data = upload.stream.read(MAX_PHOTO_MB * 1024 * 1024 + 1)
    if not data:
        raise PhotoError("no_photo")
    if len(data) > MAX_PHOTO_MB * 1024 * 1024:
        raise PhotoError("too_large", max=MAX_PHOTO_MB)
    try:
        symbols = read_symbols(data)
    except ImageDecodeError as exc:
        raise PhotoError("not_an_image") from exc
    if not symbols:
        raise PhotoError("nothing_found")
    return Photo(symbols, "photo:" + hashlib.sha256(data).hexdigest()[:24])


Outcome = tuple[object, str, str]  # what one code did: the service's result, its message, its sound


def answer_each(
    picture: Photo, scan: Callable[[int, Symbol], Outcome], lang: str
) -> tuple[list[dict[str, object]], str]:
    """Each code of the photo through `scan` (the screen's one scan path), in reading order: the lines of
    the answer and the sound of the whole. A code the service refuses (the act closed meanwhile) is said on
    its own line; the others still go in."""
    lines: list[dict[str, object]] = []
    for n, symbol in enumerate(picture.symbols):
        try:
            result, message, sound = scan(n, symbol)
        except WarehouseError as e:
            lines.append({"code": symbol.text, "error": e.message(lang), "sound": "error"})
            continue
        lines.append({"code": symbol.text, "result": result, "message": message, "sound": sound})
    return lines, worst([str(line["sound"]) for line in lines])


def worst(sounds: list[str]) -> str:
    """The sound of a photo's banner: the worst of its codes' ("error" over "duplicate" over "ok")."""
    return max(sounds, key=lambda s: SOUNDS.index(s) if s in SOUNDS else len(SOUNDS), default="error")
