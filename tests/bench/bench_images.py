"""Data Matrix photos: zxing-cpp (the decoder) against pylibdmtx (the old one, now the fallback), same run.

Two sets of images:
- public samples: the Data Matrix images of zxing-cpp's test suite (github.com/zxing-cpp/zxing-cpp,
  test/samples/datamatrix-1…5, Apache-2.0: scans, photos, rectangular GS1 symbols, mirrored and tiny ones),
  each with its expected text beside it; read from BENCH_IMAGES (a folder of those folders), skipped when
  it is not there — they are not copied into this project;
- our own photos: 1 MP frames (1200×900, blurred a little) with one tobacco code each — a GS1 block, a pack,
  an SSCC — plain, rotated, inverse, mirrored, tiny; and frames of 10 packs (an open block).
Figures: the share of images read right by each decoder, and decode p95 for a 1 MP photo with one symbol
(target ≤ 20 ms). Run: `python tests/bench/bench_images.py`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageOps  # noqa: E402

from hardware.image import _read_libdmtx, _read_zxing, read_symbols  # noqa: E402
from tests.bench.bench_receiving import quantile  # noqa: E402
from tests.bench.results import Results  # noqa: E402
from tests.hardware.test_image import BLOCK, BRACKETED, photo, symbol  # noqa: E402

PUBLIC = Path(os.environ.get("BENCH_IMAGES", "/tmp/dmsamples"))
P95_MS = 20.0
Reader = Callable[[Image.Image], list[str]]


def zxing(img: Image.Image) -> list[str]:
    return [s.text for s in _read_zxing(img, 64)]


def libdmtx(img: Image.Image) -> list[str]:
    return [s.text for s in _read_libdmtx(img, 300, 64)]


def station(img: Image.Image) -> list[str]:
    return [s.text for s in read_symbols(img)]  # zxing-cpp, then libdmtx in what is left of 300 ms


READERS: dict[str, Reader] = {"zxing-cpp": zxing, "pylibdmtx": libdmtx, "station (both)": station}


def public_samples() -> Iterator[tuple[str, Image.Image, str | None]]:
    for path in sorted(PUBLIC.glob("datamatrix-*/*")):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".gif"):
            continue
        expected = path.with_suffix(".txt")
        text = expected.read_bytes().decode("utf-8", "replace") if expected.exists() else None
        img = Image.open(path)
        img.load()
        yield path.name, img.convert("L"), text


def own_photos() -> Iterator[tuple[str, Image.Image, list[str]]]:
    codes = {
        "block": (BRACKETED, True, BLOCK),
        "pack": ("04600439931256JgXJ5.T1120AbC9", False, "04600439931256JgXJ5.T1120AbC9"),
        "sscc": ("00487012345678901235", False, "00487012345678901235"),
    }
    for name, (content, gs1, text) in codes.items():
        for variant in ("plain", "rotated", "inverse", "mirrored", "tiny"):
            sym = symbol(content, gs1=gs1, scale=2 if variant == "tiny" else 6)
            if variant == "rotated":
                sym = sym.rotate(23, expand=True, fillcolor=255)
            frame = photo((sym, (420, 260)))
            if variant == "inverse":
                frame = ImageOps.invert(frame)
            if variant == "mirrored":
                frame = ImageOps.mirror(frame)
            yield f"{name}-{variant}", frame, [text]
    packs = [f"0487000001001{k % 10}Ab{k:05d}AbC1xY=9" for k in range(10)]
    frame = photo(
        *((symbol(p, gs1=False, scale=5), (40 + (k % 5) * 230, 100 + (k // 5) * 350)) for k, p in enumerate(packs))
    )
    yield "ten-packs", frame, packs


def timed(reader: Reader, img: Image.Image) -> tuple[list[str], float]:
    start = time.perf_counter()
    texts = reader(img)
    return texts, (time.perf_counter() - start) * 1000


def main() -> None:
    results = Results("images")
    public = list(public_samples())
    if public:
        print(f"public samples: {len(public)} images from {PUBLIC}")
        share: dict[str, float] = {}
        for name, reader in READERS.items():
            ok, times = 0, []
            for _file, img, text in public:
                texts, ms = timed(reader, img)
                times.append(ms)
                ok += bool(texts) and (text is None or text in texts)
            share[name] = 100 * ok / len(public)
            print(f"  {name:<16} read {ok}/{len(public)}, p95 {quantile(times, 0.95):.1f} ms")
        results.add("public samples read, zxing-cpp", share["zxing-cpp"], "%", baseline=share["pylibdmtx"])
        results.add("public samples read, station", share["station (both)"], "%", baseline=share["pylibdmtx"])
    else:
        print(f"public samples: none in {PUBLIC} (set BENCH_IMAGES to zxing-cpp's test/samples)")
    own = list(own_photos())
    times: dict[str, list[float]] = {name: [] for name in READERS}
    read: dict[str, int] = dict.fromkeys(READERS, 0)
    for _label, img, expected in own:
        for name, reader in READERS.items():
            samples = []
            for _ in range(5 if name != "pylibdmtx" else 1):
                texts, ms = timed(reader, img)
                samples.append(ms)
            if len(expected) == 1:
                times[name].extend(samples)
            read[name] += sorted(texts) == sorted(expected)
    for name in READERS:
        p95 = quantile(times[name], 0.95)
        print(f"own photos: {name:<16} read {read[name]}/{len(own)}, 1 MP one symbol p95 {p95:.1f} ms")
    base = quantile(times["pylibdmtx"], 0.95)
    results.add(
        "1 MP photo, one symbol, p95 (zxing-cpp)",
        quantile(times["zxing-cpp"], 0.95),
        "ms",
        at_most=P95_MS,
        baseline=base,
    )
    results.add(
        "1 MP photo, one symbol, p95 (station)",
        quantile(times["station (both)"], 0.95),
        "ms",
        at_most=P95_MS,
        baseline=base,
    )
    results.add(
        "own photos read, zxing-cpp",
        100 * read["zxing-cpp"] / len(own),
        "%",
        baseline=100 * read["pylibdmtx"] / len(own),
    )
    for f in results.figures:
        target = "" if f.target is None else f" (target ≤ {f.target:g}: {'met' if f.met else 'NOT met'})"
        base_text = "" if f.baseline is None else f", baseline (pylibdmtx) {f.baseline:.1f}"
        print(f"{f.name:<44} {f.value:8.1f} {f.unit}{base_text}{target}")
    print("written:", results.write())


if __name__ == "__main__":
    main()
