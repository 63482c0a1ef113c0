"""An HTTP server on loopback in a background thread: the base of every server we run locally.

``vigia demo`` serves its sample outlets with it, and the tests build their news site and
Slack stand-in on it, so there is one copy of the serving code. A subclass says which
methods it answers and implements :meth:`LoopbackServer.serve`; :meth:`LoopbackServer.send`
writes an answer.

Why ``TCP_NODELAY``: ``http.server`` writes the headers and the body in two writes. With
Nagle's algorithm the second waits for the client to acknowledge the first, and the client
delays that ACK (40 ms on Linux), so a keep-alive connection managed ~20 requests a second.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

# How often serve_forever checks for shutdown: stop() waits up to this long.
POLL_INTERVAL = 0.05


class LoopbackServer:
    """Serves ``methods`` on ``host`` (127.0.0.1), port 0 = any free one, one thread per request."""

    methods: tuple[str, ...] = ("GET", "HEAD")
    thread_name = "loopback-server"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port  # the bound port once started; a restart binds the same one
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle ----------------------------------------------------------------

    def start(self) -> Self:
        self._server = _Server((self.host, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError("start() the server first: it has no port yet")
        return f"http://{self.host}:{self.port}"

    # Serving ------------------------------------------------------------------

    def serve(self, http: BaseHTTPRequestHandler) -> None:
        """Answer one request (``http.command``, ``http.path``, ``http.headers``)."""
        raise NotImplementedError

    @staticmethod
    def send(http: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
             *, head: bool = False) -> None:
        """One answer: status, headers (a Content-Length added unless given), then the body.

        A client that hangs up meanwhile (a size limit, a timeout) is not an error here:
        several test routes exist to make clients do exactly that.
        """
        headers = headers or {}
        try:
            http.send_response(status)
            for name, value in headers.items():
                http.send_header(name, value)
            if not any(name.lower() == "content-length" for name in headers):
                http.send_header("Content-Length", str(0 if status == 304 else len(body)))
            http.end_headers()
            if not head and status != 304:
                http.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            http.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a request still being served never holds up stop()
    # socketserver's default backlog is 5: a crawl opening a few dozen connections at once
    # had the rest of its SYNs dropped, retried by the kernel 1 s and then 3 s later, so
    # listings stalled a second and, on a loaded machine, hit a 3 s download timeout.
    # Outlets' servers listen with the kernel's limit (net.core.somaxconn); so does this.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: LoopbackServer) -> None:
        self.owner = owner
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as outlets and Slack speak it
    disable_nagle_algorithm = True  # see the module docstring

    def _dispatch(self) -> None:
        if self.command not in self.server.owner.methods:
            self.send_error(501, f"unsupported method {self.command!r}")
            return
        self.server.owner.serve(self)

    do_GET = do_HEAD = do_POST = _dispatch

    def log_message(self, format: str, *args: object) -> None:
        pass
