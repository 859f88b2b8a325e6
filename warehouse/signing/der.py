"""Just enough ASN.1 BER/DER to read PKCS#12 and CMS: tag, length, value; nothing is interpreted here.

`asn1crypto` is not a dependency of the project and `cryptography` does not expose CMS or PKCS#12
internals, so the few structures we need are walked by hand. BER is accepted (indefinite lengths and
constructed strings occur in PKCS#12 files made by Java tools such as NCA's); `Node.raw` keeps the
exact bytes as received, which is what signatures are computed over.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["DerError", "Node", "encode", "parse", "parse_all"]

UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3
BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 1, 2, 3, 4, 5, 6
UTF8_STRING, SEQUENCE, SET, PRINTABLE_STRING, UTC_TIME, GENERALIZED_TIME, BMP_STRING = 12, 16, 17, 19, 23, 24, 30

_MAX_DEPTH = 48  # nesting beyond this is an attack or garbage, not a key file


class DerError(ValueError):
    """The bytes are not the ASN.1 structure expected."""


@dataclass(frozen=True, slots=True)
class Node:
    cls: int
    constructed: bool
    tag: int
    raw: bytes  # header + content (+ end-of-contents for indefinite lengths), exactly as received
    content: bytes  # the content octets only

    def is_(self, tag: int, cls: int = UNIVERSAL) -> bool:
        return self.cls == cls and self.tag == tag

    def children(self) -> list[Node]:
        if not self.constructed:
            raise DerError(f"expected a constructed value, got primitive tag {self.tag}")
        return parse_all(self.content)

    def child(self, index: int) -> Node:
        kids = self.children()
        if index >= len(kids):
            raise DerError(f"missing element {index} (have {len(kids)})")
        return kids[index]

    def expect(self, tag: int, cls: int = UNIVERSAL) -> Node:
        if not self.is_(tag, cls):
            raise DerError(f"expected tag {cls}:{tag}, got {self.cls}:{self.tag}")
        return self

    def octets(self) -> bytes:
        """OCTET STRING value; BER may split it into constructed chunks, which are joined."""
        if not self.constructed:
            return self.content
        return b"".join(child.octets() for child in self.children())

    def integer(self) -> int:
        if self.constructed or not self.content:
            raise DerError("bad INTEGER")
        return int.from_bytes(self.content, "big", signed=True)

    def oid(self) -> str:
        if not self.is_(OID) or not self.content:
            raise DerError("expected an OBJECT IDENTIFIER")
        arcs: list[int] = []
        value = 0
        for byte in self.content:
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                arcs.append(value)
                value = 0
        if not arcs:
            raise DerError("bad OBJECT IDENTIFIER")
        first = min(arcs[0] // 40, 2)
        return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])

    def time(self) -> datetime:
        """UTCTime or GeneralizedTime as an aware UTC datetime (the forms CMS signing-time uses)."""
        text = self.content.decode("ascii", "replace")
        try:
            if self.is_(UTC_TIME):
                parsed = datetime.strptime(text, "%y%m%d%H%M%SZ")
            elif self.is_(GENERALIZED_TIME):
                parsed = datetime.strptime(text.split(".")[0].rstrip("Z"), "%Y%m%d%H%M%S")
            else:
                raise DerError("expected a time")
        except ValueError as e:
            raise DerError(f"bad time {text!r}") from e
        return parsed.replace(tzinfo=UTC)


def _header(data: bytes, pos: int, limit: int) -> tuple[int, bool, int, int, int | None]:
    """(class, constructed, tag, content start, content length or None when indefinite)."""
    if pos >= limit:
        raise DerError("truncated: no tag")
    first = data[pos]
    pos += 1
    cls, constructed, tag = first >> 6, bool(first & 0x20), first & 0x1F
    if tag == 0x1F:  # high tag number form
        tag = 0
        while True:
            if pos >= limit:
                raise DerError("truncated tag")
            byte = data[pos]
            pos += 1
            tag = (tag << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
    if pos >= limit:
        raise DerError("truncated: no length")
    first_len = data[pos]
    pos += 1
    if first_len < 0x80:
        return cls, constructed, tag, pos, first_len
    if first_len == 0x80:
        if not constructed:
            raise DerError("indefinite length on a primitive value")
        return cls, constructed, tag, pos, None
    count = first_len & 0x7F
    if count > 4 or pos + count > limit:
        raise DerError("bad length")
    return cls, constructed, tag, pos + count, int.from_bytes(data[pos : pos + count], "big")


def _scan(data: bytes, pos: int, limit: int, depth: int) -> tuple[int, bool, int, int, int, int]:
    """Walk one value without copying: (class, constructed, tag, content start, content end, value end).

    An indefinite length ends with two zero bytes after the content. Children are walked too, so
    malformed nesting is caught where it occurs.
    """
    if depth > _MAX_DEPTH:
        raise DerError("nested too deeply")
    cls, constructed, tag, body, length = _header(data, pos, limit)
    if length is not None:
        end = body + length
        if end > limit:
            raise DerError("truncated value")
        if constructed:
            inner = body
            while inner < end:
                inner = _scan(data, inner, end, depth + 1)[5]
        return cls, constructed, tag, body, end, end
    inner = body
    while True:
        if inner + 2 > limit:
            raise DerError("truncated: no end-of-contents")
        if data[inner] == 0 and data[inner + 1] == 0:
            return cls, constructed, tag, body, inner, inner + 2
        inner = _scan(data, inner, limit, depth + 1)[5]


def _parse_at(data: bytes, pos: int, limit: int) -> tuple[Node, int]:
    cls, constructed, tag, body, content_end, stop = _scan(data, pos, limit, 0)
    return Node(cls, constructed, tag, data[pos:stop], data[body:content_end]), stop


def parse(data: bytes) -> Node:
    """Exactly one value that fills `data`."""
    node, end = _parse_at(data, 0, len(data))
    if end != len(data):
        raise DerError(f"{len(data) - end} trailing bytes")
    return node


def parse_all(data: bytes) -> list[Node]:
    return list(_iter(data))


def _iter(data: bytes) -> Iterator[Node]:
    pos = 0
    while pos < len(data):
        node, pos = _parse_at(data, pos, len(data))
        yield node


def encode(tag: int, content: bytes, *, cls: int = UNIVERSAL, constructed: bool | None = None) -> bytes:
    """DER encoding of one value (low tag numbers only: all this package ever writes)."""
    if tag >= 0x1F:
        raise ValueError("high tag numbers are not supported")
    if constructed is None:
        constructed = tag in (SEQUENCE, SET)
    first = (cls << 6) | (0x20 if constructed else 0) | tag
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        size = (n.bit_length() + 7) // 8
        length = bytes([0x80 | size]) + n.to_bytes(size, "big")
    return bytes([first]) + length + content
