"""Realistic acts for tests, built by hand (independent of the project's own writers and generators).

A pallet of boxes of blocks of packs, with valid GTIN and SSCC check digits and serials that carry the
characters people forget to escape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GS = "\x1d"
SERIAL_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789!%&'()*+,-./:;<=>?_\""


def check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gtin(item: int) -> str:
    body = f"0487{item:09d}"  # GTIN-13 with the Kazakh prefix 487, as GTIN-14
    return body + check_digit(body)


def sscc(serial: int) -> str:
    body = f"0487{serial:013d}"
    return body + check_digit(body)


def serial(n: int, salt: int = 0) -> str:
    chars = []
    x = n * 7919 + salt * 104729 + 13
    for _ in range(7):
        chars.append(SERIAL_CHARS[x % len(SERIAL_CHARS)])
        x //= len(SERIAL_CHARS)
        x += n + 31
    return "".join(chars)


def pack(g: str, n: int) -> str:
    return g + serial(n, 1) + "AbC1" + "xY=9"


def block(g: str, n: int, price: int = 112000) -> str:
    return f"01{g}21{serial(n, 2)}{GS}8005{price:06d}{GS}93Ab1+"


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
            pallet: dict[str, Any] = {"code": "00" + sscc(n), "level": "pallet", "children": []}
            self.codes["pallet"].append(pallet["code"])
            for _b in range(self.boxes):
                n += 1
                box: dict[str, Any] = {"code": "00" + sscc(n), "level": "box"}
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
