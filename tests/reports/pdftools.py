"""Reading our PDFs back the way a person and a scanner would: poppler's text and rasterised pages."""

from __future__ import annotations

import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image


def pdf_text(pdf: Path, *, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *pages, str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def read_symbols(pdf: Path, tmp: Path, dpi: int = 150) -> list[zxingcpp.Barcode]:
    """Every Data Matrix on every page, rasterised at ``dpi`` as a printer or a camera would see it."""
    prefix = tmp / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True)
    found: list[zxingcpp.Barcode] = []
    for png in sorted(tmp.glob(f"{pdf.stem}-*.png")):
        with Image.open(png) as image:
            found += zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.DataMatrix))
        png.unlink()
    return found
