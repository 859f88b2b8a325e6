"""Benchmark of the reports (issue 8): run as a script, not collected by pytest.

    .venv/bin/python tests/bench/bench_reports.py            # both, each in its own process
    .venv/bin/python tests/bench/bench_reports.py pdf|xlsx   # one
    .venv/bin/python tests/bench/bench_reports.py KIND DIR   # one, its figures in DIR (used by the above)

- a notice of discrepancies with 10,000 lines as PDF: target <= 15 s;
- the Excel export of a full truck, 40 pallets x 50 boxes x 50 blocks x 10 packs
  (1,000,000 packs + 100,000 blocks + 2,000 boxes + 40 pallets), generated on the fly: target <= 60 s;
- peak memory (ru_maxrss of the process that rendered) <= 300 MB for each.
Each case runs in a fresh interpreter so one case's peak does not hide the other's.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reports.excel import codes_xlsx
from reports.model import ActInfo, BasisDoc, CodeRow, DiscrepancyLine, GtinLine, Party
from reports.pdf import discrepancy_pdf
from tests.bench import results

TARGETS = {"pdf": 15.0, "xlsx": 60.0}
MEMORY_TARGET_MB = 300.0
GTIN = "04600439931256"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!\"%&'()*+,-./:;<=>?_"


def _serial(n: int, width: int = 7) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, len(ALPHABET))
        chars.append(ALPHABET[r])
    return "".join(reversed(chars))


def _sscc(n: int) -> str:
    body = f"487{n:014d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return f"00{body}{(10 - total % 10) % 10}"


def _block(n: int) -> str:
    return f"01{GTIN}21{_serial(n)}\x1d8005112000\x1d93{n % 10000:04d}"


def _pack(n: int) -> str:
    return f"{GTIN}{_serial(n)}1120{n % 10000:04d}"[:29].ljust(29, "x")


def truck(pallets: int = 40, boxes: int = 50, blocks: int = 50, packs: int = 10) -> Iterator[CodeRow]:
    """The act's tree in preorder, one CodeRow at a time."""
    box_no = block_no = pack_no = 0
    for p in range(pallets):
        pallet = _sscc(1_000_000 + p)
        yield CodeRow(pallet, "pallet", None, None, "credited")
        for _ in range(boxes):
            box = _sscc(box_no)
            box_no += 1
            yield CodeRow(box, "box", pallet, None, "credited")
            for _ in range(blocks):
                block = _block(block_no)
                block_no += 1
                yield CodeRow(block, "block", box, GTIN, "credited")
                for _ in range(packs):
                    yield CodeRow(_pack(pack_no), "pack", block, GTIN, "INTRODUCED")
                    pack_no += 1


def discrepancies(n: int) -> Iterator[DiscrepancyLine]:
    kinds = ("missing", "surplus", "duplicate")
    for i in range(n):
        yield DiscrepancyLine(
            kinds[i % 3],
            _block(i),
            "block",
            _sscc(i // 50),
            "box",
            GTIN,
            "not_scanned" if i % 3 == 0 else "already_scanned",
            "Коробка вскрыта, блок <повреждён> & заменён" if i % 11 == 0 else None,
        )


ACT = ActInfo(
    "ТА-000123",
    dt.date(2026, 11, 20),
    Party("ТОО «Темекі Сауда»", "123456789025"),
    Party("ТОО «Әліқан Ғылым»", "987654321090"),
    basis=[BasisDoc("ESF", "ESF-1", dt.date(2026, 11, 19))],
    turnover="sale",
    status="closed",
    mode="trusted",
)
LINES = [
    GtinLine(GTIN, "Сигареты «Казахстан»", level, expected, expected, 112000)
    for level, expected in (("pallet", 40), ("box", 2000), ("block", 100_000), ("pack", 1_000_000))
]


def run(kind: str) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"bench.{kind}"
        start = time.perf_counter()
        if kind == "pdf":
            discrepancy_pdf(out, ACT, discrepancies(10_000), "ru")
        else:
            codes_xlsx(out, ACT, LINES, discrepancies(5_000), truck(), "ru")
        elapsed = time.perf_counter() - start
        size = out.stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return elapsed, peak_mb, size


def main() -> int:
    args = sys.argv[1:]
    kinds = [a for a in args if a in TARGETS] or list(TARGETS)
    steps = next((Path(a) for a in args if a not in TARGETS), None)
    if len(kinds) == 1:
        elapsed, peak, size = run(kinds[0])
        ok = elapsed <= TARGETS[kinds[0]] and peak <= MEMORY_TARGET_MB
        print(
            f"{kinds[0]:5} {elapsed:7.1f} s (target {TARGETS[kinds[0]]:.0f} s)  peak {peak:6.1f} MB "
            f"(target {MEMORY_TARGET_MB:.0f} MB)  file {size / 1e6:6.1f} MB  {'ok' if ok else 'OVER TARGET'}"
        )
        figures = results.Results(kinds[0] if steps else "reports")
        figures.extend(_figures(kinds[0], elapsed, peak, size))
        figures.write(steps)
        return 0 if ok else 1
    failed = 0
    gathered = results.Results("reports")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:  # a fresh process each, so ru_maxrss is that case's own peak
            failed |= subprocess.run([sys.executable, os.path.abspath(__file__), kind, tmp], check=False).returncode
            if (Path(tmp) / f"{kind}.json").exists():
                gathered.extend(results.read(Path(tmp) / f"{kind}.json"))
    gathered.write()
    return failed


def _figures(kind: str, elapsed: float, peak: float, size: int) -> list[results.Figure]:
    return [
        results.figure(f"{kind} time", elapsed, "s", at_most=TARGETS[kind]),
        results.figure(f"{kind} peak RSS", peak, "MB", at_most=MEMORY_TARGET_MB),
        results.figure(f"{kind} file size", size / 1e6, "MB"),
    ]


if __name__ == "__main__":
    sys.exit(main())
