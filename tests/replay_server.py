"""A small base for local replay servers (police.uk, Nomis, GIAS) used by the fetch tests.

:class:`ReplayServer` is a :class:`http.server.ThreadingHTTPServer` on
127.0.0.1 (port 0: the OS picks a free port) that answers GET requests with
whatever :meth:`ReplayServer.answer` returns, so no test touches the network.
Faults can be injected the same way as in ``ons_server.py``:

* ``fail_statuses``: HTTP statuses returned, one per matching request, before
  answering normally (``fail_match`` picks the requests they apply to);
* ``slow``: seconds to wait before answering (bounded by :data:`MAX_SLOW`);
* ``truncate``: send only this many bytes of the next body while announcing the
  full ``Content-Length`` (a transfer that breaks off);
* ``retry_after``: a ``Retry-After`` header sent with injected failures.

Every request is logged in ``requests`` as ``(path, params)``.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

#: Longest a handler may sleep (``slow``), so a test can never hang the server.
MAX_SLOW = 5.0


class ReplayServer(ThreadingHTTPServer):
    """Base replay server; subclasses implement ``answer(path, params) -> (status, headers, body)``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fail_statuses: list[int] = []
        self.fail_match = lambda path: True
        self.retry_after: str | None = None
        self.slow = 0.0
        self.truncate: int | None = None
        self.requests: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def handle_error(self, request, client_address) -> None:  # clients hang up on purpose
        pass

    def paths(self, contains: str = "") -> list[str]:
        """Logged request paths containing ``contains``."""
        return [p for p, _ in self.requests if contains in p]

    def answer(self, path: str, params: dict) -> tuple[int, dict, bytes]:  # pragma: no cover
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    server: ReplayServer
    timeout = 10

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        srv = self.server
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with srv._lock:
            srv.requests.append((url.path, params))
            fail = srv.fail_statuses.pop(0) if srv.fail_statuses and srv.fail_match(url.path) else None
            slow, truncate = srv.slow, srv.truncate
            if truncate is not None and fail is None:
                srv.truncate = None
        if slow:
            time.sleep(min(slow, MAX_SLOW))
        if fail is not None:
            headers = {"Retry-After": srv.retry_after} if srv.retry_after else {}
            self._send(fail, headers, b"injected failure")
            return
        status, headers, body = srv.answer(url.path, params)
        self._send(status, headers, body, truncate)

    def _send(self, status: int, headers: dict, body: bytes, truncate: int | None = None) -> None:
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body if truncate is None else body[:truncate])
            if truncate is not None:
                self.wfile.flush()
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass


def block_network(monkeypatch) -> None:
    """Make any connection to an address other than 127.0.0.1/::1 fail at once (tests stay offline)."""
    import socket

    real = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"test tried to reach {host}: no test touches the network")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
