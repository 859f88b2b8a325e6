"""A stand-in for NCALayer (NCA RK's desktop signing service, which cannot run here): its WebSocket
protocol as static/js/ncalayer.js speaks it, over plain ws://, signing with a real PKCS#12 test key.

RFC 6455 by hand (the standard library has no WebSocket server): the handshake, then text frames.
Browser frames are masked; ours are not. `answer` picks what the person does in NCALayer's window.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
from typing import Any, Literal

from warehouse.signing.signers import Pkcs12Signer

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, 1.3


class FakeNcaLayer:
    def __init__(self, key: bytes, password: str) -> None:
        self.signer = Pkcs12Signer.open(key, password)
        self.answer: Literal["sign", "cancel"] = "sign"
        self.requests: list[dict[str, Any]] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self.server.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:  # closed
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
            headers = dict(line.split(": ", 1) for line in request.decode("latin-1").split("\r\n")[1:] if ": " in line)
            accept = base64.b64encode(hashlib.sha1(headers["Sec-WebSocket-Key"].encode() + _GUID).digest())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            self._send(conn, {"result": {"version": "1.4"}})  # NCALayer greets first
            while (message := self._receive(conn)) is not None:
                asked = json.loads(message)
                self.requests.append(asked)
                if self.answer == "cancel":
                    self._send(conn, {"code": "500", "message": "action.canceled"})
                    continue
                document = base64.b64decode(asked["args"][2])
                cms = self.signer.sign(document)
                self._send(conn, {"code": "200", "responseObject": base64.b64encode(cms).decode("ascii")})

    @staticmethod
    def _exactly(conn: socket.socket, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _receive(self, conn: socket.socket) -> str | None:
        """One text message from the browser; None when it closes."""
        head = self._exactly(conn, 2)
        if head is None or head[0] & 0x0F == 0x8:  # gone, or a close frame
            return None
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._exactly(conn, 2) or b"\0\0")[0]
        elif length == 127:
            length = struct.unpack("!Q", self._exactly(conn, 8) or b"\0" * 8)[0]
        mask = self._exactly(conn, 4) or b"\0" * 4
        payload = self._exactly(conn, length) or b""
        return bytes(b ^ mask[i % 4] for i, b in enumerate(payload)).decode()

    @staticmethod
    def _send(conn: socket.socket, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        n = len(data)
        if n < 126:
            size = bytes([n])
        elif n < 65536:
            size = b"\x7e" + struct.pack("!H", n)
        else:
            size = b"\x7f" + struct.pack("!Q", n)
        conn.sendall(b"\x81" + size + data)
