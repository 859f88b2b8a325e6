"""The JSON form of an act, read as a stream of ijson events: constant memory for a full truck.

The header is read first (`read_header` stops at "products" when the header came before it, as our
writer puts it); `_lines` walks "products" depth first and yields each product's line as soon as its
fields are known.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, Final

import ijson

from warehouse.transfer_act import json_errors
from warehouse.transfer_act.data import RANK, ActHeader, ActLine
from warehouse.transfer_act.fields import LineBuilder
from warehouse.transfer_act.header import HEADER_KEYS, build_header
from warehouse.transfer_act.long_tokens import FIELD_LIMITS, find_long_token
from warehouse.transfer_act.problems import Problem, ProblemList, Reason, show, wrong_type
from warehouse.transfer_act.reader import ActReader

# A JSON object that lists its "children" before its own "code" (sorted keys do that) cannot be
# streamed: its subtree waits in memory until the code arrives. Bounded so a hostile file cannot exhaust it.
MAX_BUFFERED_LINES: Final = 300_000
_BUF: Final = 1 << 16
# Products nest pallet > box > block > pack: a fifth level is refused where it opens. Building deeper
# levels would cost memory with the square of the depth (each level's location names its whole path).
MAX_DEPTH: Final = 4
MAX_HEADER_DEPTH: Final = 8  # a header value (a party, the basis list) is two levels deep
_BOM: Final = b"\xef\xbb\xbf"
# A \uD800-\uDFFF escape, with the backslashes before it (an even run is an escaped backslash, not an
# escape) and the low surrogate that may pair with it. yajl turns a lone high surrogate into "?" and a
# lone low one into bytes that are not UTF-8: both are found in the raw text first.
_SURROGATE: Final = re.compile(rb"(\\+)u[dD]([89a-fA-F])[0-9a-fA-F]{2}(\\u[dD][c-fC-F][0-9a-fA-F]{2})?")
_SCAN_CHUNK: Final = 1 << 20


_JSON_ERRORS: Final = (ijson.JSONError, UnicodeDecodeError, OSError)
_PRODUCT_SCALARS: Final = frozenset({"code", "level", "gtin", "name", "price", "vat"})
_OPEN: Final = frozenset({"start_map", "start_array"})
_CLOSE: Final = frozenset({"end_map", "end_array"})


def _next(events: Iterator[tuple[str, Any]]) -> tuple[str, Any]:
    """The next event; the end of the stream inside a value is a truncated file, not a StopIteration
    (which a generator would turn into a RuntimeError)."""
    for item in events:
        return item
    raise ijson.IncompleteJSONError("premature end of the file")


def _skip(events: Iterator[tuple[str, Any]], event: str) -> None:
    """Consume the rest of a value whose first event was `event`."""
    if event not in _OPEN:
        return
    depth = 1
    for ev, _ in events:
        if ev in _OPEN:
            depth += 1
        elif ev in _CLOSE:
            depth -= 1
            if depth == 0:
                return


def _open(path: Path) -> BinaryIO:
    """The file, past a UTF-8 byte order mark (Windows Notepad writes one)."""
    f = path.open("rb")
    if f.read(3) != _BOM:
        f.seek(0)
    return f


def _lone_surrogate(path: Path) -> Problem | None:
    """The first \\u escape of half a UTF-16 surrogate pair, with its line; None when there is none.

    One pass of a C regex over the raw bytes, a megabyte at a time (about 1 GB/s)."""
    line = 1
    tail = b""
    with path.open("rb") as f:
        while True:
            chunk = f.read(_SCAN_CHUNK)
            data = tail + chunk
            # Keep the end that a match could still continue into: 12 bytes, and the backslashes before.
            cut = len(data) if not chunk else max(0, len(data) - 12)
            while 0 < cut < len(data) and data[cut - 1] == 0x5C:
                cut -= 1
            # The regex starts with a group, so it tries every byte (3 s for 30 MB): most chunks have no
            # "\\uD" at all, which a substring search (memmem) tells at once.
            maybe = b"\\ud" in data or b"\\uD" in data
            for m in _SURROGATE.finditer(data, 0, len(data) if maybe else 0):
                if m.start() >= cut:
                    break
                if len(m[1]) % 2 == 1 and not (m[2] in b"89abAB" and m[3]):
                    at = m.start() + len(m[1]) - 1
                    shown = data[at : at + 6].decode("ascii")
                    number = line + data.count(b"\n", 0, at)
                    return Problem(f"line {number}", Reason.LONE_SURROGATE, shown)
            line += data.count(b"\n", 0, cut)
            tail = data[cut:]
            if not chunk:
                return None


def _build_value(events: Iterator[tuple[str, Any]], event: str, value: Any, limit: int = 10_000) -> Any:
    """Build a small JSON value (a header field) from its events; None if it is absurdly large or deep."""
    if event not in _OPEN:
        return value
    root: Any = {} if event == "start_map" else []
    stack: list[Any] = [root]
    key: list[str] = [""]
    count = 0
    for ev, val in events:
        if ev in _OPEN and len(stack) >= MAX_HEADER_DEPTH:
            _skip(events, ev)
            count = limit + 1
            continue
        if ev == "map_key":
            key[-1] = val
            continue
        if ev in _CLOSE:
            stack.pop()
            key.pop()
            if not stack:
                return root if count <= limit else None
            continue
        count += 1
        if count > limit:  # keep consuming to stay in step, store nothing more
            if ev in _OPEN:
                _skip(events, ev)
            continue
        item: Any = {} if ev == "start_map" else [] if ev == "start_array" else val
        top = stack[-1]
        if isinstance(top, dict):
            top[key[-1]] = item
        else:
            top.append(item)
        if ev in _OPEN:
            stack.append(item)
            key.append("")
    return root


class JsonActReader(ActReader):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        # Header keys seen before "products" when the header pass stopped there; keys after "products"
        # are then checked by the lines pass.
        self._stopped_at_products = False
        self._keys_before_products: set[str] = set()

    def read_header(self) -> tuple[ActHeader | None, list[Problem], bool]:
        problems = ProblemList()
        values: dict[str, Any] = {}
        seen_products = False
        try:
            surrogate = _lone_surrogate(self.path)
            if surrogate is not None:
                return None, [surrogate], True
            long_token = find_long_token(self.path)
            if long_token is not None:
                return None, [long_token], True
            with _open(self.path) as f:
                events = ijson.basic_parse(f, buf_size=_BUF)
                first, _ = _next(events)
                if first != "start_map":
                    problems.add(wrong_type("file", "(file)", "object"))
                    return None, problems.as_list(), True
                for ev, key in events:
                    if ev == "end_map":
                        break
                    ev, val = _next(events)
                    if key == "products":
                        if seen_products:
                            problems.add(Problem("products", Reason.DUPLICATE_FIELD, "products"))
                        seen_products = True
                        if ev != "start_array":
                            problems.add(wrong_type("products", "products", "list"))
                        elif all(k in values for k in HEADER_KEYS):
                            # The whole header came first (our writer puts it there): no need to read on.
                            self._stopped_at_products = True
                            self._keys_before_products = set(values)
                            break
                        _skip(events, ev)
                    elif key in HEADER_KEYS:
                        if key in values:
                            problems.add(Problem(key, Reason.DUPLICATE_FIELD, key))
                            _skip(events, ev)
                        else:
                            values[key] = _build_value(events, ev, val)
                    else:
                        problems.add(Problem(show(key), Reason.UNKNOWN_FIELD, show(key)))
                        _skip(events, ev)
        except _JSON_ERRORS as e:
            return None, [*problems.as_list(), _json_error(self.path, e)], True
        if not seen_products:
            problems.add(Problem("products", Reason.MISSING_FIELD, "products"))
        header = build_header(values, lambda path: path, problems)
        if problems:
            wrong = any(p.reason == Reason.WRONG_FORMAT for p in problems.items)
            return None, problems.as_list(), wrong or not seen_products
        return header, [], False

    def _lines(self, problems: ProblemList) -> Iterator[ActLine]:
        walk = _JsonWalk(LineBuilder(problems))
        done = False
        try:
            with _open(self.path) as f:
                events = ijson.basic_parse(f, buf_size=_BUF)
                first, _ = _next(events)
                if first != "start_map":
                    return
                for ev, key in events:
                    if ev == "end_map":
                        break
                    ev, _val = _next(events)
                    if key == "products" and ev == "start_array" and not done:
                        done = True
                        yield from walk.run(events)
                        if walk.too_deep:
                            return  # the rest is not read: nothing in it could make the file usable
                        continue
                    if self._stopped_at_products and done:
                        # The header pass never saw what follows "products".
                        reason = (
                            Reason.DUPLICATE_FIELD
                            if key in self._keys_before_products or key == "products"
                            else Reason.UNKNOWN_FIELD
                        )
                        problems.add(Problem(show(key), reason, show(key)))
                    _skip(events, ev)
                for _ in events:  # trailing garbage or a truncated end is an error too
                    pass
        except _JSON_ERRORS as e:
            problems.add(_json_error(self.path, e))


def _json_error(path: Path, e: Exception) -> Problem:
    """The parser's error in our words, located where it can be (the parser's own text is never shown)."""
    if isinstance(e, UnicodeDecodeError):
        return Problem("file", Reason.ENCODING, f"byte {e.start}")
    if isinstance(e, OSError):
        return Problem("file", Reason.UNREADABLE_FILE, e.strerror or str(e))
    try:
        return json_errors.locate(path, lambda: _open(path), e)
    except OSError as again:
        return Problem("file", Reason.UNREADABLE_FILE, again.strerror or str(again))


class _Frame:
    """One product object being read."""

    __slots__ = ("buffer", "count", "fields", "has_children", "in_children", "line", "line_done", "parent", "path")

    def __init__(self, path: str, parent: _Frame | None) -> None:
        self.path = path
        self.parent = parent
        self.fields: dict[str, Any] = {}
        self.has_children = False  # a "children" key was seen
        self.in_children = False  # between the "[" and "]" of its children
        self.line_done = False
        self.line: ActLine | None = None
        self.buffer: list[tuple[ActLine, bool]] | None = None  # (line, is a direct child) while code is unknown
        self.count = 0  # children seen


class _JsonWalk:
    """Walks the events of "products" and yields lines in preorder.

    A product's line is emitted when its "children" list opens (its fields came first: constant memory)
    or when the object closes. If "children" opens before "code" (sorted keys do that), the subtree waits
    in the nearest such frame's buffer until the code is known.
    """

    def __init__(self, builder: LineBuilder) -> None:
        self.builder = builder
        self.problems = builder.problems
        self.ready: list[ActLine] = []
        self.buffering = 0  # frames on the stack that hold a buffer
        self.buffered = 0  # lines in those buffers
        self.overflow = False
        self.too_deep = False

    def run(self, events: Iterator[tuple[str, Any]]) -> Iterator[ActLine]:
        # The hot loop: about eight events per pack. Scalar fields of a product are stored inline;
        # anything unusual goes to _key.
        stack: list[_Frame] = []
        index = 0
        ready = self.ready
        scalars = _PRODUCT_SCALARS
        containers = _OPEN
        for ev, val in events:
            if ev == "map_key":
                frame = stack[-1]  # keys at this level only occur in product objects
                try:
                    ev, value = next(events)
                except StopIteration:
                    raise ijson.IncompleteJSONError("premature end of the file") from None
                fields = frame.fields
                if val in scalars and ev not in containers and val not in fields and not frame.line_done:
                    fields[val] = value
                    continue
                self._key(frame, val, ev, events, value)
            elif ev == "end_map":
                frame = stack.pop()
                if frame.line_done or frame.buffer is not None or self.buffering:
                    self._close(frame)
                else:  # the common case, a product without a children list (a pack): straight out
                    line = self._line(frame, frame.has_children)
                    if line is not None:
                        yield line
            elif ev == "start_map":  # an item of "products" or of a "children" list
                if stack:
                    top = stack[-1]
                    path = f"{top.path}.children[{top.count}]"
                    if len(stack) >= MAX_DEPTH:
                        self.problems.add(Problem(path, Reason.TOO_DEEP, str(MAX_DEPTH)))
                        self.too_deep = True
                        return
                    stack.append(_Frame(path, top))
                    top.count += 1
                else:
                    stack.append(_Frame(f"products[{index}]", None))
                    index += 1
            elif ev == "end_array":
                if not stack:
                    break
                stack[-1].in_children = False
            else:  # a list item that is not an object
                if stack:
                    top = stack[-1]
                    path = f"{top.path}.children[{top.count}]"
                    top.count += 1
                else:
                    path = f"products[{index}]"
                    index += 1
                self.problems.add(wrong_type(path, path, "object"))
                _skip(events, ev)
            if ready:
                yield from ready
                ready.clear()

    def _key(self, frame: _Frame, key: str, ev: str, events: Iterator[tuple[str, Any]], value: Any = None) -> None:
        """A key the fast path did not take: a duplicate, a wrong type, a late field, children, unknown."""
        if key in _PRODUCT_SCALARS:
            if key in frame.fields:
                self.problems.add(Problem(frame.path, Reason.DUPLICATE_FIELD, key))
            elif ev in _OPEN:
                self.problems.add(wrong_type(frame.path, key, "integer" if key in ("price", "vat") else "text"))
                frame.fields[key] = None
            else:
                self.problems.add(Problem(frame.path, Reason.FIELD_AFTER_CHILDREN, key))
                limit = FIELD_LIMITS.get(key)
                if limit is not None and isinstance(value, str) and len(value) > limit:  # wrong twice: say both
                    detail = f"{key}: {len(value)} > {limit}"
                    self.problems.add(
                        Problem(frame.path, Reason.TOO_LONG, detail, (("field", key), ("max", str(limit))))
                    )
            _skip(events, ev)
        elif key == "children":
            if frame.has_children:
                self.problems.add(Problem(frame.path, Reason.DUPLICATE_FIELD, key))
                _skip(events, ev)
                return
            if ev == "null":  # read as "contents not declared", like an absent key
                return
            frame.has_children = True
            if ev != "start_array":
                self.problems.add(wrong_type(frame.path, "children", "list"))
                _skip(events, ev)
                return
            frame.in_children = True
            if "code" in frame.fields:
                self._emit(frame, declared=True)
            else:
                frame.buffer = []
                self.buffering += 1
        else:
            self.problems.add(Problem(frame.path, Reason.UNKNOWN_FIELD, show(key)))
            _skip(events, ev)

    def _line(self, frame: _Frame, declared: bool) -> ActLine | None:
        """The product's line, from its fields and its parent's line."""
        frame.line_done = True
        parent = frame.parent
        parent_line = parent.line if parent is not None and parent.line_done else None
        get = frame.fields.get
        frame.line = self.builder.build(
            frame.path,
            get("code"),
            get("level"),
            get("gtin"),
            get("name"),
            get("price"),
            get("vat"),
            parent_line.identity if parent_line else None,
            parent_line.level if parent_line else None,
            declared,
        )
        return frame.line

    def _emit(self, frame: _Frame, declared: bool) -> None:
        line = self._line(frame, declared)
        if line is not None:
            if self.buffering:
                self._out(line, frame.parent, direct=True)
            else:
                self.ready.append(line)

    def _close(self, frame: _Frame) -> None:
        if not frame.line_done:
            self._emit(frame, declared=frame.has_children)
        buffer = frame.buffer
        if buffer is None:
            return
        frame.buffer = None
        self.buffering -= 1
        self.buffered -= len(buffer)
        own = frame.line
        for line, direct in buffer:
            if direct and own is not None:
                line = replace(line, parent_code=own.identity)
                if RANK[own.level] <= RANK[line.level]:
                    detail = f"{line.level.value} in {own.level.value}"
                    self.problems.add(Problem(line.location, Reason.LEVEL_ORDER, detail))
            self._out(line, frame.parent, direct=False)

    def _out(self, line: ActLine, parent: _Frame | None, direct: bool) -> None:
        holder = parent
        while holder is not None and holder.buffer is None:
            holder = holder.parent
        if holder is None or holder.buffer is None:
            self.ready.append(line)
            return
        if self.buffered >= MAX_BUFFERED_LINES:
            if not self.overflow:
                self.overflow = True
                self.problems.add(Problem(holder.path, Reason.CHILDREN_FIRST_TOO_LARGE, str(MAX_BUFFERED_LINES)))
            return
        self.buffered += 1
        holder.buffer.append((line, direct and holder is parent))
