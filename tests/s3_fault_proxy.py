"""A loopback HTTP proxy in front of ``moto_server`` that answers some requests itself with
S3 error responses (throttling, internal errors), so clients see real faults."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

#: Decides, per request (method, path, request number from 1), the status to inject instead
#: of forwarding it, or ``None`` to forward.
FaultPolicy = Callable[[str, str, int], "int | None"]
_CODES = {500: "InternalError", 503: "SlowDown"}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class FaultProxy:
    """Forwards to ``upstream`` unless ``policy`` says to fail the request."""

    def __init__(self, upstream: str, policy: FaultPolicy) -> None:
        self.upstream = urlsplit(upstream)
        self.policy = policy
        self.requests = 0
        self.injected: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _decide(self, method: str, path: str) -> int | None:
        with self._lock:
            self.requests += 1
            status = self.policy(method, path, self.requests)
            if status is not None:
                self.injected.append((method, path, status))
            return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", ""):
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                body = self._body()
                status = proxy._decide(self.command, self.path)
                if status is not None:
                    code = _CODES.get(status, "InternalError")
                    self._reply(
                        status,
                        [("Content-Type", "application/xml")],
                        f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode(),
                    )
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=60
                )
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP
                    }
                    headers["Content-Length"] = str(len(body))
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    head = self.command == "HEAD"
                    # A HEAD answer's Content-Length is the object's size: keep it.
                    dropped = _HOP_BY_HOP - {"content-length"} if head else _HOP_BY_HOP
                    kept = [(k, v) for k, v in response.getheaders() if k.lower() not in dropped]
                    self._reply(response.status, kept, payload, head=head)
                finally:
                    upstream.close()

            def _reply(
                self,
                status: int,
                headers: list[tuple[str, str]],
                payload: bytes,
                *,
                head: bool = False,
            ) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                if not head:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if not head:
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        return Handler
