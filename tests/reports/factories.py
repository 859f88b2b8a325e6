"""Realistic report inputs: a pallet of boxes of blocks of packs, with valid GTIN and SSCC check digits,
serials that carry the characters people forget to escape, and names with quotes, < > and &."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from reports.model import ActInfo, BasisDoc, CodeRow, Decision, DiscrepancyLine, GtinLine, Party, SignatureInfo

GS = "\x1d"
# GS1 "set 82": every character a serial may legally contain.
SET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
KAZAKH_LETTERS = "әіңғүұқөһ"


def check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gtin(item: int) -> str:
    body = f"0487{item:09d}"  # a GTIN-13 with Kazakhstan's prefix 487, written as GTIN-14
    return body + check_digit(body)


def sscc(n: int) -> str:
    body = f"0487{n:013d}"
    return "00" + body + check_digit(body)


def serial(n: int, width: int = 7) -> str:
    chars = []
    x = n * 7919 + 13
    for _ in range(width):
        chars.append(SET82[x % len(SET82)])
        x = x // len(SET82) + n + 31
    return "".join(chars)


def block(g: str, ser: str, price: int = 112000, check: str = "Ab1+") -> str:
    return f"01{g}21{ser}{GS}8005{price:06d}{GS}93{check}"


def pack(g: str, ser: str) -> str:
    return g + ser + "AbC1" + "xY=9"  # 14 + 7 + 8 = 29 characters, no AIs


def act(number: str = "ТА-000123 <&>") -> ActInfo:
    return ActInfo(
        number=number,
        date=dt.date(2026, 11, 20),
        sender=Party("ТОО «Табак-Трейд» <опт> & Ко", "123456789021"),
        receiver=Party("ТОО \"Қойма Әліқан\" 'Өскемен'", "987654321098"),
        basis=[BasisDoc("ESF", "ESF-KZ-0001", dt.date(2026, 11, 19)), ("SNT", "KZ-SNT-7", None)],
        turnover="sale",
        status="closed",
        mode="trusted",
    )


def gtin_lines() -> list[GtinLine]:
    return [
        GtinLine(gtin(1001), "Marlboro Red <20> & Co", "block", 100, 97, 112000),
        GtinLine(gtin(1001), "Marlboro Red <20> & Co", "pack", 1000, 970, 11200),
        GtinLine(gtin(1002), "Parliament «Aqua»", "block", 50, 50, None),
        GtinLine("", None, "box", 3, 3, None),
    ]


def decision() -> Decision:
    return Decision(
        "accepted_with_discrepancies",
        ["shortage", "damage", "custom_code"],
        "Коробка вскрыта <b>не</b> & помята; қорап бүлінген",
        "Ғалым Құрманов",
        dt.datetime(2026, 11, 20, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    )


def signature() -> SignatureInfo:
    return SignatureInfo(
        "ҚҰРМАНОВ ҒАЛЫМ",
        "880101300123",
        "987654321098",
        'ТОО "Қойма Әліқан"',
        "0f" * 32,
        dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC),
    )


def tree(pallets: int = 1, boxes: int = 2, blocks: int = 2, packs: int = 3) -> Iterator[CodeRow]:
    """An act's codes in preorder, as the lead's query streams them."""
    n = 0
    for _ in range(pallets):
        n += 1
        pallet = sscc(n)
        yield CodeRow(pallet, "pallet", None, None, "credited")
        for _ in range(boxes):
            n += 1
            box = sscc(n)
            yield CodeRow(box, "box", pallet, None, "missing")
            for k in range(blocks):
                n += 1
                g = gtin(1001 + k % 2)
                blk = block(g, serial(n))
                yield CodeRow(blk, "block", box, g, "INTRODUCED")
                for _ in range(packs):
                    n += 1
                    yield CodeRow(pack(g, serial(n)), "pack", blk, g, "credited")


def discrepancy_lines(count: int) -> Iterator[DiscrepancyLine]:
    """Missing, surplus and duplicate blocks, ten to a box, ordered by box as the notice expects."""
    kinds = ("missing", "surplus", "duplicate")
    for i in range(count):
        g = gtin(1001)
        yield DiscrepancyLine(
            kinds[i % 3],
            block(g, serial(i)),
            "block",
            sscc(10_000 + i // 10),
            "box",
            g,
            ("not_scanned", "not_in_act", "already_scanned")[i % 3],
            "блок <вскрыт> & пуст" if i % 5 == 0 else None,
        )
