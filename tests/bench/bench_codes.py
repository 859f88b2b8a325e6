"""Benchmark of warehouse.codes.parse (issue 3): run as a script, not collected by pytest.

    .venv/bin/python tests/bench/bench_codes.py

100,000 block codes and 100,000 pack codes (20 GTINs, as on a real truck), parsed on one core.
biip.parse runs on the same block codes in the same run: the ratio is the figure, not the absolute
rate, since these machines are shared. Also the slow paths (GS lost, Russian layout) for scale.
Targets: blocks >= 50x biip, packs >= 300,000 per second.
"""

from __future__ import annotations

import random
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import biip

from tests.bench.results import Results
from warehouse import codes, layouts
from warehouse.identifiers import gs1_check_digit

N = 100_000
SET82 = string.digits + string.ascii_letters + "!\"%&'()*+,-./:;<=>?_"
GS = codes.GS


def _gtins(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        body = "0460" + "".join(rng.choice(string.digits) for _ in range(9))
        out.append(body + str(gs1_check_digit(body)))
    return out


def _serial(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(SET82) for _ in range(n))


def _rate(fn: Callable[[str], object], items: list[str], repeat: int = 3) -> float:
    """Best of `repeat` runs, in items per second."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            fn(item)
        best = min(best, time.perf_counter() - start)
    return len(items) / best


def main() -> int:
    rng = random.Random(3)
    gtins = _gtins(rng, 20)
    packs = [rng.choice(gtins) + _serial(rng, 7) + _serial(rng, 8) for _ in range(N)]
    blocks = [
        f"01{rng.choice(gtins)}21{_serial(rng, 7)}{GS}8005{rng.randrange(10**6):06d}{GS}93{_serial(rng, 4)}"
        for _ in range(N)
    ]
    assert all(codes.parse(p).kind is codes.Kind.PACK for p in packs[:1000])
    assert all(codes.parse(b).kind is codes.Kind.BLOCK for b in blocks[:1000])

    pack_rate = _rate(codes.parse, packs)
    block_rate = _rate(codes.parse, blocks)
    sample = blocks[:5_000]  # biip is slow: a sample keeps the run short, the rate is per code
    biip_rate = _rate(biip.parse, sample, repeat=2)
    bare = [b.replace(GS, "") for b in blocks[:20_000]]
    bare_rate = _rate(codes.parse, bare)
    to_ru = dict(zip(layouts.US[0] + layouts.US[1], layouts.RU[0] + layouts.RU[1], strict=True))
    russian = ["".join(to_ru.get(ch, ch) for ch in p) for p in packs[:20_000]]
    russian_rate = _rate(codes.parse, russian)

    ratio = block_rate / biip_rate
    print(f"packs   {pack_rate:>12,.0f} /s   target >= 300,000/s   {'OK' if pack_rate >= 300_000 else 'MISSED'}")
    print(f"blocks  {block_rate:>12,.0f} /s")
    print(f"biip    {biip_rate:>12,.0f} /s   (same block codes, same run)")
    print(f"ratio   {ratio:>12.1f} x  target >= 50x           {'OK' if ratio >= 50 else 'MISSED'}")
    print(f"blocks without GS (repaired)  {bare_rate:>10,.0f} /s")
    print(f"packs typed in Russian layout {russian_rate:>10,.0f} /s")
    figures = Results("codes")
    figures.add("packs", pack_rate, "/s", at_least=300_000)
    figures.add("blocks", block_rate, "/s", baseline=biip_rate)
    figures.add("biip blocks", biip_rate, "/s")
    figures.add("blocks / biip", ratio, "x", at_least=50)
    figures.add("blocks without GS (repaired)", bare_rate, "/s")
    figures.add("packs typed in Russian layout", russian_rate, "/s")
    figures.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
