"""Benchmark of the act file layer (issue 4): run as a script, not collected by pytest.

    .venv/bin/python tests/bench/bench_acts_format.py          # every step, each in a fresh process
    .venv/bin/python tests/bench/bench_acts_format.py STEP DIR # one step (used by the above)

The full-truck act: 40 pallets x 50 boxes x 50 blocks x 10 packs = 2,000 boxes, 100,000 blocks,
1,000,000 packs (1,102,040 lines), generated, written as JSON and CSV, read back and compared line by
line with a second run of the generator. Each step runs in its own interpreter so that its peak RSS
(ru_maxrss) is its own: a streaming layer keeps every step flat, whatever the act's size.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import zip_longest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import results
from warehouse import transfer_act

PALLETS, BOXES_PER_PALLET, BLOCKS_PER_BOX, PACKS_PER_BLOCK = 40, 50, 50, 10
STEPS = ("generate", "write-json", "write-csv", "read-json", "read-csv", "verify-json", "verify-csv")
MEMORY_TARGET_MB = 150.0  # the import service's whole budget is 400 MB


def _act() -> tuple[transfer_act.ActHeader, Iterator[transfer_act.ActLine]]:
    return transfer_act.generate_act(
        pallets=PALLETS,
        boxes_per_pallet=BOXES_PER_PALLET,
        blocks_per_box=BLOCKS_PER_BOX,
        packs_per_block=PACKS_PER_BLOCK,
        seed=4,
    )


def run_step(step: str, folder: Path) -> str:
    header, lines = _act()
    kind = step.split("-")[-1]
    path = folder / f"truck.{kind}"
    if step == "generate":
        n = sum(1 for _ in lines)
        return f"{n:,} lines"
    if step.startswith("write-"):
        writer = transfer_act.write_json if kind == "json" else transfer_act.write_csv
        n = writer(path, header, lines)
        return f"{n:,} lines, {path.stat().st_size / 1e6:.1f} MB"
    reader = transfer_act.read_act(path)
    if step.startswith("read-"):
        n = sum(1 for _ in reader.lines())
        return f"{n:,} lines, {len(reader.problems)} problems"
    # verify: what was read equals what was generated, line by line, header included
    mismatches = 0
    for got, want in zip_longest(reader.lines(), lines):
        mismatches += got != want
    if reader.header != header:
        mismatches += 1
    if mismatches or reader.problems:
        raise SystemExit(f"{step}: {mismatches} mismatches, problems: {reader.problems[:3]}")
    return "identical"


def main() -> None:
    if len(sys.argv) == 3:
        start = time.perf_counter()
        result = run_step(sys.argv[1], Path(sys.argv[2]))
        elapsed = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{sys.argv[1]:<12} {elapsed:7.1f} s   peak RSS {peak_mb:6.0f} MB   {result}", flush=True)
        step = results.Results(sys.argv[1])  # gathered by the parent process from the step's folder
        step.add(f"{sys.argv[1]} time", elapsed, "s")
        step.add(f"{sys.argv[1]} peak RSS", peak_mb, "MB", at_most=MEMORY_TARGET_MB)
        step.write(Path(sys.argv[2]))
        if peak_mb > MEMORY_TARGET_MB:
            raise SystemExit(f"{sys.argv[1]}: peak RSS {peak_mb:.0f} MB > {MEMORY_TARGET_MB:.0f} MB")
        return
    print(
        f"full truck: {PALLETS} pallets x {BOXES_PER_PALLET} boxes x {BLOCKS_PER_BOX} blocks x {PACKS_PER_BLOCK} packs"
    )
    figures = results.Results("acts_format")
    with tempfile.TemporaryDirectory() as tmp:
        for step in STEPS:
            done = subprocess.run([sys.executable, __file__, step, tmp], check=False)
            if (Path(tmp) / f"{step}.json").exists():
                figures.extend(results.read(Path(tmp) / f"{step}.json"))
            if done.returncode:
                figures.write()  # the steps that ran, the failed one included when it measured
                raise SystemExit(done.returncode)
    figures.write()


if __name__ == "__main__":
    main()
