"""A database outage under `vigia run`: /healthz says so, and failed polls name the database.

The daemon reaches the machine's PostgreSQL through a loopback TCP relay that the test
cuts and restores, so the outage is real for the daemon (connections dropped, new ones
refused) without touching the PostgreSQL everything else uses.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.labelled import feed
from tests.support.news_site import NewsSite
from tests.support.slack_standin import SlackStandIn
from tests.test_daemon_run import Daemon, eventually

TOKEN = "xoxb-2024-daemon-test-token-do-not-log"


class Relay:
    """Forwards a loopback port to PostgreSQL; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def relay(postgres_url: str) -> Iterator[tuple[Relay, str]]:
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    yield relay, url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    relay.close()


def test_healthz_is_503_while_the_database_is_unreachable(tmp_path: Path, relay: tuple[Relay, str]) -> None:
    cutter, database_url = relay
    with NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        content_type, body = feed("rss", "Diario", site.base_url, [])
        site.add("/rss.xml", body, content_type=content_type)
        config = tmp_path / "vigia.yaml"
        config.write_text(
            f"""database:
  url: {database_url}
slack:
  token: ${{SLACK_BOT_TOKEN}}
  base_url: {slack.url}
sources:
  - {{name: Diario, type: rss, url: "{site.url('/rss.xml')}"}}
daemon:
  every: 1s
  max_every: 1s
  http: 127.0.0.1:0
  grace: 5s
""",
            encoding="utf-8",
        )
        daemon = Daemon(config)
        try:
            daemon.start()
            eventually(lambda: daemon.crawls_done("Diario") >= 1, 30, "a first poll")
            assert daemon.get("/healthz")[0] == 200

            cutter.cut()
            _status, body = eventually(lambda: (lambda a: a if a[0] == 503 else None)(daemon.get("/healthz")), 20, "503")
            assert "database" in body
            # The polls that fail meanwhile say why: the database, not the config.
            failure = eventually(
                lambda: daemon.find(lambda e: e.get("source") == "Diario" and e.get("outcome") in ("failed", "crashed")),
                30,
                "a failed poll logged",
            )
            assert failure["outcome"] == "failed" and "database" in failure["message"], failure["message"]

            cutter.restore()
            eventually(lambda: daemon.get("/healthz")[0] == 200, 30, "healthy again")
            polls = daemon.crawls_done("Diario")
            eventually(lambda: daemon.crawls_done("Diario") > polls, 30, "polling again")
            # The outage cost failed polls, not the crawl worker.
            assert daemon.metric("vigia_crawls_total", source="Diario", outcome="crashed") == 0
            assert daemon.stop() == 0
        finally:
            daemon.kill()
