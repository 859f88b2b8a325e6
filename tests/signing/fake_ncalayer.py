"""A small stand-in for NCALayer: a WebSocket server (RFC 6455, text frames only) that greets like
NCALayer and answers kz.gov.pki.knca.commonUtils.createCAdESFromBase64 by signing with a test key.

Plain ws:// on a free port (the page's NCALayer URL is configurable); the real one is wss://…:13579.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _read_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _send(conn: socket.socket, text: str, opcode: int = 0x1) -> None:
    payload = text.encode("utf-8")
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    conn.sendall(header + payload)


def _receive(conn: socket.socket) -> tuple[int, bytes]:
    first, second = _read_exact(conn, 2)
    opcode, n = first & 0x0F, second & 0x7F
    if n == 126:
        n = struct.unpack("!H", _read_exact(conn, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _read_exact(conn, 8))[0]
    mask = _read_exact(conn, 4) if second & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(_read_exact(conn, n)))
    return opcode, payload


class FakeNcaLayer:
    """`sign(data) -> DER CMS` makes the signature; `cancel=True` answers like a person closing NCALayer."""

    def __init__(self, sign: Callable[[bytes], bytes], cancel: bool = False) -> None:
        self.sign = sign
        self.cancel = cancel
        self.requests: list[dict[str, Any]] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self.server.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _addr = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            headers = dict(line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line)
            key = headers.get("Sec-WebSocket-Key", "")
            accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
            conn.sendall(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
            _send(conn, json.dumps({"result": {"version": "1.4"}}))  # NCALayer greets first
            try:
                while True:
                    opcode, payload = _receive(conn)
                    if opcode == 0x8:
                        _send(conn, "", 0x8)
                        return
                    if opcode == 0x9:
                        _send(conn, payload.decode(), 0xA)
                        continue
                    _send(conn, json.dumps(self._answer(json.loads(payload))))
            except (ConnectionError, OSError):
                return

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        if request.get("module") != "kz.gov.pki.knca.commonUtils" or request.get("method") != "createCAdESFromBase64":
            return {"code": "500", "message": "unknown.method"}
        storage, key_type, data, attached = request["args"]
        # Documents: a signing key, detached. The operator's login challenge: a login key, attached.
        if storage != "PKCS12" or (key_type, attached) not in (("SIGNATURE", False), ("AUTHENTICATION", True)):
            return {"code": "500", "message": "bad.arguments"}
        if self.cancel:
            return {"code": "500", "message": "action.canceled"}
        content = base64.b64decode(data)
        cms = self.sign(content)
        if attached:
            from warehouse.signing.cms import attach

            cms = attach(cms, content)
        return {"code": "200", "responseObject": base64.b64encode(cms).decode()}
