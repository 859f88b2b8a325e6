"""A realistic act for demos, tests and benches: pallets of boxes of blocks of packs, streamed.

>>> header, lines = generate_act(pallets=1, boxes_per_pallet=1, blocks_per_box=1, packs_per_block=2)
>>> [line.level.value for line in lines]
['pallet', 'box', 'block', 'pack', 'pack']
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Final

from warehouse.identifiers import bin_check_digit, gs1_check_digit
from warehouse.transfer_act.data import BLOCK, FORMAT, GS, PACK, SSCC, ActHeader, ActLine, BasisDocument, Party
from warehouse.vocab import Level

_SET82: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!\"%&'()*+,-./:;<=>?_"
# Set 82 without "S": then no serial can contain "<GS>", which is legal but reads as the GS substitute
# (the edge-case tests build such codes on purpose). Quotes, <, >, & and ' all stay.
_ALPHABET: Final = _SET82.replace("S", "")
_PAIRS: Final = tuple(a + b for a in _ALPHABET for b in _ALPHABET)  # 6,561 two-character strings
_N7: Final = 81**7
_N8: Final = 81**8
# Multipliers near 0.618 * 81**k and not multiples of 3: n * m mod 81**k is a bijection that scatters.
_MIX7: Final = 14_138_635_289_602
_MIX8: Final = 1_145_229_458_457_730
# (product, pack retail price in tiyn): a few of what a Kazakh wholesaler carries, and names that need escaping.
_PRODUCTS: Final = (
    ("Marlboro Red", 115_000),
    ("Parliament Aqua Blue", 135_000),
    ("L&M Red Label", 92_000),
    ("Winston XStyle Blue", 98_000),
    ('Kent "iSwitch" <Menthol>', 120_000),
    ("Rothmans Demi Click 'Amber'", 85_000),
)


def _serial(n: int, seed: int) -> str:
    """Seven characters, distinct for distinct n below 81**7 (a multiplicative bijection)."""
    x = ((n + seed * 7_919_777) * _MIX7) % _N7
    a, r = divmod(x, 81**5)
    b, r = divmod(r, 81**3)
    c, d = divmod(r, 81)
    return _PAIRS[a] + _PAIRS[b] + _PAIRS[c] + _ALPHABET[d]


def _tail(n: int, seed: int, pairs: int) -> str:
    """The opaque end of a code (a pack's characters 22-29, a block's 93 check): varied, not unique."""
    x = ((n * 40_503 + seed) * _MIX8) % _N8
    out = []
    for _ in range(pairs):
        x, r = divmod(x, 6561)
        out.append(_PAIRS[r])
    return "".join(out)


def generate_act(
    *,
    pallets: int,
    boxes_per_pallet: int,
    blocks_per_box: int,
    packs_per_block: int,
    depth: Level = Level.PACK,
    seed: int = 0,
    number: str = "ТА-000001",
    date: datetime.date = datetime.date(2026, 11, 20),
    sender: Party | None = None,
    receiver: Party | None = None,
    basis: tuple[BasisDocument, ...] | None = None,
    turnover: str | None = "sale",
) -> tuple[ActHeader, Iterator[ActLine]]:
    """A realistic valid act: pallets (KZ SSCCs 487…) of boxes of one product each, blocks
    (01 GTIN 21 serial GS 8005 price GS 93 check) and packs of the block's GTIN, in depth-first
    preorder, streamed, the same for the same seed. Serials use the whole GS1 set 82, so quotes,
    `<`, `>`, `&` and `'` occur. `depth` is the lowest level the act declares (Level.BOX: pallets and
    boxes, the boxes' contents not declared). With `pallets=0` there is no pallet level: one group of
    `boxes_per_pallet` boxes at the top. Prices are in tiyn: a block's line price is 10 packs at the retail
    price carried in its 8005; VAT is the 16% included in it.

    A full truck (1,102,040 lines) takes a few seconds.
    """
    if min(pallets, boxes_per_pallet, blocks_per_box, packs_per_block) < 0:
        raise ValueError("counts must not be negative")
    rng = seed % 1_000_000
    sender = sender or Party("ТОО «Табак-Трейд Алматы»", _make_bin("99034000123"))
    receiver = receiver or Party('ТОО "Склад & Ко" <Астана>', _make_bin("05114000456"))
    if basis is None:
        basis = (
            BasisDocument("ESF", f"KZ-ESF-0001-{rng:06d}", (date - datetime.timedelta(days=1)).isoformat()),
            BasisDocument("SNT", f"KZ-SNT-0001-{rng:06d}", (date - datetime.timedelta(days=1)).isoformat()),
        )
    header = ActHeader(FORMAT, number, date, sender, receiver, basis, turnover)
    products = [
        (_make_gtin(f"487{10234 + seed % 89_000:05d}{(7 * i + 1) % 10_000:04d}"), name, price)
        for i, (name, price) in enumerate(_PRODUCTS)
    ]
    return header, _generate_lines(pallets, boxes_per_pallet, blocks_per_box, packs_per_block, depth, seed, products)


def _make_gtin(body12: str) -> str:
    body13 = "0" + body12
    return f"{body13}{gs1_check_digit(body13)}"


def _make_bin(body11: str) -> str:
    """A real-looking БИН: these eleven digits and their check digit (the bodies given always have one)."""
    check = bin_check_digit(body11)
    if check is None:
        raise ValueError(f"no БИН/ИИН begins with {body11}")
    return f"{body11}{check}"


def _generate_lines(
    pallets: int,
    boxes_per_pallet: int,
    blocks_per_box: int,
    packs_per_block: int,
    depth: Level,
    seed: int,
    products: list[tuple[str, str, int]],
) -> Iterator[ActLine]:
    kind_pack, kind_block, kind_sscc = PACK, BLOCK, SSCC
    pallet_l, box_l, block_l, pack_l = Level.PALLET, Level.BOX, Level.BLOCK, Level.PACK
    with_boxes = depth.rank <= Level.BOX.rank
    with_blocks = depth.rank <= Level.BLOCK.rank
    with_packs = depth is Level.PACK
    company = f"487{(5234 + seed * 7919) % 9000 + 1000:04d}"  # KZ GS1 prefix 487 + company, 7 digits
    sscc_n = 0
    unit_n = 0
    line_n = 0
    serial_seed = seed % 1_000_003

    def sscc() -> str:
        nonlocal sscc_n
        sscc_n += 1
        body = f"{sscc_n % 10}{company}{sscc_n // 10 % 10**9:09d}"  # extension digit + prefix + reference
        return f"{body}{gs1_check_digit(body)}"

    groups = pallets if pallets > 0 else 1
    for p in range(groups):
        pallet_id: str | None = None
        if pallets > 0:
            pallet_id = sscc()
            line_n += 1
            yield ActLine(
                f"generated[{line_n}]",
                "00" + pallet_id,
                pallet_id,
                kind_sscc,
                pallet_l,
                None,
                declared_children=with_boxes,
            )
            if not with_boxes:
                continue
        for b in range(boxes_per_pallet):
            gtin, name, pack_price = products[(p * boxes_per_pallet + b + seed) % len(products)]
            box_id = sscc()
            line_n += 1
            yield ActLine(
                f"generated[{line_n}]",
                "00" + box_id,
                box_id,
                kind_sscc,
                box_l,
                pallet_id,
                gtin,
                name,
                declared_children=with_blocks,
            )
            if not with_blocks:
                continue
            block_price = pack_price * 10
            block_vat = block_price * 16 // 116
            price_ai = f"{GS}8005{pack_price:06d}{GS}93"
            block_head = "01" + gtin + "21"
            for _k in range(blocks_per_box):
                unit_n += 1
                block_id = block_head + _serial(unit_n, serial_seed)
                line_n += 1
                yield ActLine(
                    f"generated[{line_n}]",
                    block_id + price_ai + _tail(unit_n, seed, 2),
                    block_id,
                    kind_block,
                    block_l,
                    box_id,
                    gtin,
                    name,
                    block_price,
                    block_vat,
                    declared_children=with_packs,
                )
                if not with_packs:
                    continue
                for _j in range(packs_per_block):
                    unit_n += 1
                    pack_id = gtin + _serial(unit_n, serial_seed)
                    line_n += 1
                    yield ActLine(
                        f"generated[{line_n}]",
                        pack_id + _tail(unit_n, seed, 4),
                        pack_id,
                        kind_pack,
                        pack_l,
                        block_id,
                        gtin,
                    )
