"""A news site on loopback for tests: routes per path, conditional GET, a request log,
and hostile routes that misbehave the ways real outlets do.

Usage::

    site = NewsSite().start()            # or: with NewsSite() as site: ...
    site.add("/rss.xml", feed_bytes, content_type="application/rss+xml")
    site.add("/a/1.html", "<html>...</html>")           # str bodies are sent as UTF-8
    site.add("/dyn", lambda request: Reply(200, b"hi"))  # a callable gets the RecordedRequest
    site.url("/rss.xml")                 # -> "http://127.0.0.1:PORT/rss.xml"
    site.requests                        # [RecordedRequest(method, path, headers), ...] in arrival order
    site.fetched("/a/1.html")            # the requests for one path
    site.stop()

Every static route gets an ``ETag`` (hash of the body) and a ``Last-Modified`` (the time
it was added) and answers ``If-None-Match`` / ``If-Modified-Since`` with 304.
Paths without a route answer 404 (so ``/robots.txt`` allows everything unless added).

Hostile routes: ``add_slow``, ``add_status`` (500, 403, 429 + Retry-After...),
``add_redirect_loop``, ``add_gzip_bomb``, ``add_huge``, ``add_wrong_charset``,
``add_binary``, ``add_empty``, ``add_not_found_page`` (a 404 HTML page, e.g. where a
feed should be), ``add_drop`` (closes the connection without answering). ``dead_url()``
gives a URL where nothing listens (connection refused); ``DNS_FAILURE_URL`` a host that
cannot resolve.

The server is :class:`vigia.demo.loopback.LoopbackServer` (stdlib ``http.server`` in a
daemon thread on 127.0.0.1, port 0, one thread per request, so slow routes do not hold up
the others), the one the demo's sample outlets use.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from vigia.demo.loopback import LoopbackServer

DNS_FAILURE_URL = "http://no-such-host.invalid/feed.xml"


@dataclass
class RecordedRequest:
    method: str
    path: str  # path and query as sent
    headers: dict[str, str]  # header names lower-cased

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without an answer


Handler = Callable[[RecordedRequest], Reply]


@dataclass
class Route:
    reply: Reply | None = None
    handler: Handler | None = None
    conditional: bool = True


class NewsSite(LoopbackServer):
    thread_name = "news-site"

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.routes: dict[str, Route] = {}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # Routes -------------------------------------------------------------------

    def add(
        self,
        path: str,
        body: bytes | str | Handler,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: dict[str, str] | None = None,
        conditional: bool = True,
    ) -> str:
        """Serve ``body`` (or call it) at ``path``; returns the route's full URL."""
        if callable(body):
            self.routes[path] = Route(handler=body)
            return self.url(path)
        data = body.encode("utf-8") if isinstance(body, str) else body
        all_headers = {"Content-Type": content_type} if content_type else {}
        if conditional and status == 200:
            all_headers["ETag"] = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
            all_headers["Last-Modified"] = email.utils.formatdate(time.time() - 60, usegmt=True)
        all_headers.update(headers or {})
        self.routes[path] = Route(reply=Reply(status, data, all_headers), conditional=conditional)
        return self.url(path)

    def remove(self, path: str) -> None:
        self.routes.pop(path, None)

    def add_slow(self, path: str, delay: float, body: bytes | str = b"<html><body>late</body></html>") -> str:
        data = body.encode() if isinstance(body, str) else body
        return self.add(path, lambda _: Reply(200, data, {"Content-Type": "text/html"}, delay=delay))

    def add_status(self, path: str, status: int, retry_after: int | None = None, body: bytes = b"") -> str:
        """An error status (500, 403, 429, 503...), with a Retry-After header if given."""
        headers = {"Content-Type": "text/html"}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        reply = Reply(status, body or f"<html><body><h1>Error {status}</h1></body></html>".encode(), headers)
        return self.add(path, lambda _: reply)

    def add_redirect_loop(self, path: str) -> str:
        """Redirects forever: ``path`` → ``path?n=1`` → ``path?n=2`` → ..."""

        def handler(request: RecordedRequest) -> Reply:
            query = urlsplit(request.path).query
            n = int(query.split("=")[1]) + 1 if query.startswith("n=") else 1
            return Reply(302, b"", {"Location": f"{path}?n={n}", "Content-Length": "0"})

        return self.add(path, handler)

    def add_gzip_bomb(self, path: str, inflated_size: int = 200_000_000) -> str:
        """A small gzip body (Content-Encoding: gzip) that inflates to ``inflated_size`` bytes."""
        bomb = _gzip_zeros(inflated_size)
        return self.add(path, lambda _: Reply(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"}))

    def add_huge(self, path: str, size: int = 20_000_000) -> str:
        """A page of ``size`` bytes with an honest Content-Length."""
        chunk = b"<p>" + b"relleno " * 1000 + b"</p>\n"
        body = b"<html><body>" + chunk * (size // len(chunk) + 1) + b"</body></html>"
        return self.add(path, body[:size], conditional=False)

    def add_wrong_charset(self, path: str, html: str, encoding: str = "cp1252") -> str:
        """An HTML page encoded in ``encoding`` with no charset anywhere (header or meta)."""
        return self.add(path, html.encode(encoding), content_type="text/html", conditional=False)

    def add_binary(self, path: str, content_type: str = "application/octet-stream") -> str:
        body = bytes(range(256)) * 64
        return self.add(path, body, content_type=content_type, conditional=False)

    def add_empty(self, path: str, content_type: str = "text/html; charset=utf-8") -> str:
        return self.add(path, b"", content_type=content_type, conditional=False)

    def add_not_found_page(self, path: str) -> str:
        """A 404 HTML page, as CMSs answer for a feed that moved."""
        body = b"<!DOCTYPE html><html><head><title>Not found</title></head><body><h1>404</h1></body></html>"
        return self.add(path, body, status=404, conditional=False)

    def add_drop(self, path: str) -> str:
        """Closes the connection without answering."""
        return self.add(path, lambda _: Reply(drop=True))

    # Log ----------------------------------------------------------------------

    def fetched(self, path: str) -> list[RecordedRequest]:
        """Requests whose path (query ignored) is ``path``."""
        with self._lock:
            return [r for r in self.requests if urlsplit(r.path).path == path]

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # Serving ------------------------------------------------------------------

    def serve(self, http: BaseHTTPRequestHandler) -> None:
        request = RecordedRequest(http.command, http.path, {k.lower(): v for k, v in http.headers.items()})
        with self._lock:
            self.requests.append(request)
        route = self.routes.get(http.path) or self.routes.get(urlsplit(http.path).path)
        if route is None:
            reply = Reply(404, b"<html><body>not found</body></html>", {"Content-Type": "text/html"})
        elif route.handler is not None:
            reply = route.handler(request)
        else:
            assert route.reply is not None
            reply = route.reply
            if route.conditional and _not_modified(request, reply):
                reply = Reply(304, b"", {k: v for k, v in reply.headers.items() if k in ("ETag", "Last-Modified")})
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            http.close_connection = True
            try:
                http.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send(http, reply.status, reply.body, reply.headers, head=http.command == "HEAD")


def _not_modified(request: RecordedRequest, reply: Reply) -> bool:
    etag = reply.headers.get("ETag")
    if_none_match = request.header("If-None-Match")
    if if_none_match is not None and etag:
        return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    since = request.header("If-Modified-Since")
    modified = reply.headers.get("Last-Modified")
    if since and modified:
        try:
            return email.utils.parsedate_to_datetime(modified) <= email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


_BOMBS: dict[int, bytes] = {}


def _gzip_zeros(size: int) -> bytes:
    if size not in _BOMBS:
        _BOMBS[size] = gzip.compress(b"\0" * size, compresslevel=9)
    return _BOMBS[size]


def dead_url(path: str = "/feed.xml") -> str:
    """A loopback URL where nothing listens: connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
