"""The daemon's only listening port: ``/healthz`` and ``/metrics``.

Served from the daemon's own event loop with ``asyncio.start_server`` rather than a
thread, on purpose: if the loop is stuck, the health check stops answering, which is
exactly what a supervisor (systemd, Docker, Kubernetes) needs to see. It speaks just
enough HTTP/1.1 for curl, Prometheus and Docker's HEALTHCHECK: GET or HEAD, one request
per connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from vigia.daemon.metrics import CONTENT_TYPE, DaemonMetrics

log = logging.getLogger("vigia.daemon.http")
REQUEST_TIMEOUT = 10.0


def parse_address(address: str) -> tuple[str, int]:
    """``"127.0.0.1:9108"`` -> (host, port); an empty host means loopback, never all interfaces."""
    host, _, port = address.rpartition(":")
    return (host.strip("[]") or "127.0.0.1"), int(port)


class HealthEndpoint:
    def __init__(self, address: str, metrics: DaemonMetrics, healthy: Callable[[], tuple[bool, str]]) -> None:
        self.host, self.port = parse_address(address)
        self.metrics = metrics
        self.healthy = healthy
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, self.host, self.port)
        bound = self.server.sockets[0].getsockname()
        self.port = bound[1]
        url = f"http://{self.host}:{self.port}/"
        log.info("health and metrics at %shealthz and %smetrics", url, url, extra={"url": url})

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
            method, path = _request_line(request)
            status, content_type, body = self._answer(method, path)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("ascii") + (b"" if method == "HEAD" else body))
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def _answer(self, method: str, path: str) -> tuple[str, str, bytes]:
        if method not in ("GET", "HEAD"):
            return "405 Method Not Allowed", "text/plain; charset=utf-8", b"GET or HEAD\n"
        path = path.split("?", 1)[0]
        if path == "/healthz":
            ok, detail = self.healthy()
            status = "200 OK" if ok else "503 Service Unavailable"
            return status, "text/plain; charset=utf-8", f"{'ok' if ok else 'unhealthy'}: {detail}\n".encode()
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE, self.metrics.exposition()
        return "404 Not Found", "text/plain; charset=utf-8", b"try /healthz or /metrics\n"


def _request_line(request: bytes) -> tuple[str, str]:
    method, path, _version = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
    return method.upper(), path
