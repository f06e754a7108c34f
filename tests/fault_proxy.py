"""A fault-injecting HTTP proxy on loopback, between a FieldApp and the real platform.

    proxy = FaultProxy(platform.base_url, rng=random.Random(seed), faults=DEFAULT_FAULTS)
    client = PlatformClient(proxy.url, token=..., timeout=(0.5, 0.5), retries=1)
    ...
    proxy.close()

Plain sockets, one thread per connection. Each request is read whole (head and
Content-Length body), then with probability `rate` one fault is drawn for it (`faults`:
{name: weight}), else it passes:

- pass           forwarded, the answer relayed
- drop_before    the connection is closed before anything is forwarded
- cut_request    the request's head and part of its body reach the platform, then both
                 connections close (a chunk cut off mid-upload)
- drop_after     forwarded and answered by the platform (it applied the request), then the
                 connection is closed without a byte to the client: the lost response
- stall          forwarded, then the answer held back past the client's read timeout, then
                 the connection closed (the platform applied it; the client timed out)
- stall_before   nothing forwarded; the connection held open past the read timeout
- error          500/502/503 with a garbage body (nothing forwarded)
- truncate       forwarded, the answer's head and part of its body sent, then closed
- garbage        forwarded, then answered 200 with a body that is not JSON
- garbage_json   forwarded, then answered 200 with JSON that is not the contract's
- rewrite        (only by `rule`) forwarded, the answer's body replaced by `rewrite(body)`

`rule(method, path)` may force a fault for a request (deterministic tests); `log` lists
(method, path, fault) of every request.
"""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable
from typing import Self
from urllib.parse import urlsplit

DEFAULT_FAULTS = {
    "drop_before": 5, "cut_request": 4, "drop_after": 8, "stall": 3, "stall_before": 2, "error": 8,
    "truncate": 6, "garbage": 5, "garbage_json": 3,
}
FAULTS = ("pass",) + tuple(DEFAULT_FAULTS)


class FaultProxy:
    def __init__(self, upstream: str, rng: random.Random | None = None, faults: dict[str, int] | None = None,
                 stall_seconds: float = 1.0, rule: Callable[[str, str], str | None] | None = None,
                 rate: float = 0.3) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rng = rng or random.Random(0)
        self.faults = dict(faults if faults is not None else DEFAULT_FAULTS)
        self.stall_seconds = stall_seconds
        self.rule = rule
        self.rate = rate  # may be changed between requests
        self.rewrite: Callable[[bytes], bytes] = lambda body: body  # for the "rewrite" fault
        self.log: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)  # accept() wakes up to see `close` (closing the socket does not wake it)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._acceptor.start()

    # ------------------------------------------------------------------ control

    def close(self) -> None:
        self._closing.set()
        self._acceptor.join(timeout=5)
        self._sock.close()
        for t in list(self._threads):
            t.join(timeout=self.stall_seconds + 5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _m, _p, fault in self.log:
            out[fault] = out.get(fault, 0) + 1
        return out

    def _draw(self, method: str, path: str) -> str:
        forced = self.rule(method, path) if self.rule else None
        with self._lock:
            fault = forced or ("pass" if self.rng.random() >= self.rate else
                               self.rng.choices(list(self.faults), weights=list(self.faults.values()))[0])
            self.log.append((method, path, fault))
            return fault

    # ------------------------------------------------------------------ the work

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        buffered = b""
        try:
            while not self._closing.is_set():
                request, buffered = _read_request(conn, buffered)
                if request is None:
                    return
                if not self._one(conn, request):
                    return
        except OSError:
            return
        finally:
            _close(conn)

    def _one(self, conn: socket.socket, request: bytes) -> bool:
        """Handle one request; False when the client connection is to be closed."""
        line = request.split(b"\r\n", 1)[0].decode("latin-1")
        method, target = line.split(" ")[0], line.split(" ")[1]
        path = target.split("?", 1)[0]
        fault = self._draw(method, path)
        if fault == "drop_before":
            return False
        if fault == "stall_before":
            self._closing.wait(self.stall_seconds)
            return False
        if fault == "cut_request":
            head, _, body = request.partition(b"\r\n\r\n")
            try:
                with socket.create_connection(self.upstream, timeout=10) as up:
                    up.sendall(head + b"\r\n\r\n" + body[:self.rng.randrange(0, max(1, len(body)))])
            except OSError:
                pass
            return False
        if fault == "error":
            status = self.rng.choice((500, 502, 503))
            body = bytes(self.rng.getrandbits(8) for _ in range(self.rng.randrange(0, 64)))
            conn.sendall(f"HTTP/1.1 {status} Oops\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                         .encode() + body)
            return False
        answer = self._forward(request)
        if answer is None:  # the platform itself could not be reached
            return False
        head, body = answer
        if fault == "drop_after":
            return False
        if fault == "stall":
            self._closing.wait(self.stall_seconds)
            return False
        if fault == "truncate":
            cut = self.rng.randrange(0, max(1, len(body)))
            conn.sendall(head + body[:cut])
            return False
        if fault == "rewrite":  # forwarded; the answer's body replaced by self.rewrite(body)
            new_body = self.rewrite(body)
            lines = [ln for ln in head.split(b"\r\n") if ln and not ln.lower().startswith(b"content-length:")]
            conn.sendall(b"\r\n".join(lines + [b"Content-Length: " + str(len(new_body)).encode()]) + b"\r\n\r\n"
                         + new_body)
            return False
        if fault in ("garbage", "garbage_json"):
            junk = (b"<html>proxy says hello" + bytes(self.rng.getrandbits(8) for _ in range(16)) if fault == "garbage"
                    else b'{"results": "nope", "stream": 7, "cursor": "x"}')
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(junk)).encode() + b"\r\nConnection: close\r\n\r\n" + junk)
            return False
        conn.sendall(head + body)
        return False  # the head says Connection: close (see _forward)

    def _forward(self, request: bytes) -> tuple[bytes, bytes] | None:
        """Send the request to the platform on a connection of its own; its whole answer, the
        head rewritten to close the client's connection after it."""
        head, _, body = request.partition(b"\r\n\r\n")
        lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith((b"connection:", b"keep-alive:"))]
        upstream_request = b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n" + body
        try:
            with socket.create_connection(self.upstream, timeout=60) as up:
                up.sendall(upstream_request)
                chunks = []
                while True:
                    data = up.recv(65536)
                    if not data:
                        break
                    chunks.append(data)
        except OSError:
            return None
        answer = b"".join(chunks)
        a_head, sep, a_body = answer.partition(b"\r\n\r\n")
        if not sep:
            return None
        a_lines = [ln for ln in a_head.split(b"\r\n") if not ln.lower().startswith((b"connection:", b"keep-alive:"))]
        return b"\r\n".join(a_lines + [b"Connection: close"]) + b"\r\n\r\n", a_body


def _read_request(conn: socket.socket, buffered: bytes) -> tuple[bytes | None, bytes]:
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for ln in head.split(b"\r\n")[1:]:
        name, _, value = ln.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def _close(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()
