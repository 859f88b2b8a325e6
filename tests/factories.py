"""Realistic acts and report inputs for tests, built by hand (independent of the project's own writers).

A pallet of boxes of blocks of packs, with valid GTIN and SSCC check digits, serials that carry the
characters people forget to escape, and names with quotes, < > and &.

An SSCC is its 18 digits (``sscc``: the identity the act matches on); the code printed on a label, scanned
and stored carries the application identifier 00 in front (``sscc_code``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.model import ActInfo, BasisDoc, CodeRow, Decision, DiscrepancyLine, GtinLine, Party, SignatureInfo

GS = "\x1d"
# GS1 "set 82": every character a serial may legally contain.
SET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
# The serials the factories make: set 82 less I, O and l, which a person reading a code aloud confuses.
SERIAL_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789!%&'()*+,-./:;<=>?_\""
KAZAKH_LETTERS = "әіңғүұқөһ"


def check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gtin(item: int) -> str:
    body = f"0487{item:09d}"  # GTIN-13 with the Kazakh prefix 487, as GTIN-14
    return body + check_digit(body)


def sscc(n: int) -> str:
    """The n-th SSCC: its 18 digits, the identity of a box or pallet."""
    body = f"0487{n:013d}"
    return body + check_digit(body)


def sscc_code(n: int) -> str:
    """The n-th SSCC as printed, scanned and stored: AI 00 and the 18 digits."""
    return "00" + sscc(n)


def serial(n: int, salt: int = 0) -> str:
    """The n-th made serial: 7 characters, a different one for each salt (packs use 1, blocks 2)."""
    chars = []
    x = n * 7919 + salt * 104729 + 13
    for _ in range(7):
        chars.append(SERIAL_CHARS[x % len(SERIAL_CHARS)])
        x //= len(SERIAL_CHARS)
        x += n + 31
    return "".join(chars)


def pack(g: str, ser: int | str) -> str:
    """A pack code: 14 + 7 + 8 = 29 characters, no AIs; ``ser`` is a serial or the number of a made one."""
    return g + (serial(ser, 1) if isinstance(ser, int) else ser) + "AbC1" + "xY=9"


def block(g: str, ser: int | str, price: int = 112000, check: str = "Ab1+") -> str:
    """A block's GS1 element string; ``ser`` is a serial (any length, for the renderers) or a made one's number."""
    s = serial(ser, 2) if isinstance(ser, int) else ser
    return f"01{g}21{s}{GS}8005{price:06d}{GS}93{check}"


@dataclass
class ActFactory:
    number: str = "ТА-000123"
    date: str = "2026-11-20"
    pallets: int = 1
    boxes: int = 2
    blocks: int = 2
    packs: int = 3
    depth: str = "pack"  # the lowest level the act declares
    products: tuple[int, ...] = (1001, 1002)
    start: int = 0
    codes: dict[str, list[str]] = field(default_factory=lambda: {"pallet": [], "box": [], "block": [], "pack": []})

    def build(self) -> dict[str, Any]:
        n = self.start
        pallets = []
        for _p in range(self.pallets):
            n += 1
            pallet: dict[str, Any] = {"code": sscc_code(n), "level": "pallet", "children": []}
            self.codes["pallet"].append(pallet["code"])
            for _b in range(self.boxes):
                n += 1
                box: dict[str, Any] = {"code": sscc_code(n), "level": "box"}
                self.codes["box"].append(box["code"])
                if self.depth != "box":
                    box["children"] = []
                    for k in range(self.blocks):
                        n += 1
                        g = gtin(self.products[k % len(self.products)])
                        blk: dict[str, Any] = {
                            "code": block(g, n),
                            "level": "block",
                            "gtin": g,
                            "name": "Marlboro Red" if k % 2 == 0 else "Parliament «Aqua»",
                            "price": 112000,
                        }
                        self.codes["block"].append(blk["code"])
                        if self.depth == "pack":
                            blk["children"] = []
                            for _k in range(self.packs):
                                n += 1
                                code = pack(g, n)
                                blk["children"].append({"code": code, "level": "pack", "gtin": g})
                                self.codes["pack"].append(code)
                        box["children"].append(blk)
                pallet["children"].append(box)
            pallets.append(pallet)
        return {
            "format": "transfer-act/1",
            "number": self.number,
            "date": self.date,
            "sender": {"name": "ТОО «Табак-Трейд» <опт>", "bin": "123456789025"},
            "receiver": {"name": 'ТОО "Склад & Ко"', "bin": "987654321090"},
            "basis": [{"type": "ESF", "number": "ESF-1", "date": "2026-11-19"}],
            "turnover": "sale",
            "products": pallets,
        }

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.build(), ensure_ascii=False), encoding="utf-8")
        return path


# Report inputs: plain rows as the lead's queries stream them to the renderers.


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
        pallet = sscc_code(n)
        yield CodeRow(pallet, "pallet", None, None, "credited")
        for _ in range(boxes):
            n += 1
            box = sscc_code(n)
            yield CodeRow(box, "box", pallet, None, "missing")
            for k in range(blocks):
                n += 1
                g = gtin(1001 + k % 2)
                blk = block(g, n)
                yield CodeRow(blk, "block", box, g, "INTRODUCED")
                for _ in range(packs):
                    n += 1
                    yield CodeRow(pack(g, n), "pack", blk, g, "credited")


def discrepancy_lines(count: int) -> Iterator[DiscrepancyLine]:
    """Missing, surplus and duplicate blocks, ten to a box, ordered by box as the notice expects."""
    kinds = ("missing", "surplus", "duplicate")
    for i in range(count):
        g = gtin(1001)
        yield DiscrepancyLine(
            kinds[i % 3],
            block(g, i),
            "block",
            sscc_code(10_000 + i // 10),
            "box",
            g,
            ("not_scanned", "not_in_act", "already_scanned")[i % 3],
            "блок <вскрыт> & пуст" if i % 5 == 0 else None,
        )
