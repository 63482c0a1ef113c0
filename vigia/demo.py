"""The offline demo: sample outlets and a Slack stand-in on loopback, one real crawl.

The sample outlets are generated from ``demo_site/articles.yaml`` (articles written for
the project): one outlet publishes RSS 2.0, one Atom, one a Google News sitemap. Pages and
listings come from vigia.sample_pages, with a "Lo más leído" box full of watchlist words
so the demo also shows that chrome never reaches the matcher.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

import yaml

from vigia.sample_pages import article_html, listing

CHROME_MOST_READ = [
    "Trump amenaza con intervenir contra los cárteles",
    "Extraditan a Estados Unidos a exjefe de plaza",
    "Rubio y De la Fuente hablarán de seguridad",
]


LISTING_FILES = {"rss": "feed.xml", "atom": "atom.xml", "sitemap": "news-sitemap.xml"}


@dataclass
class DemoArticle:
    slug: str  # the outlet's
    outlet: str
    path: str
    title: str
    author: str
    published: datetime
    paragraphs: list[str]
    language: str


def load_articles(now: datetime) -> tuple[list[dict[str, Any]], list[DemoArticle]]:
    data = yaml.safe_load(resources.files("vigia.demo_site").joinpath("articles.yaml").read_text(encoding="utf-8"))
    names = {o["slug"]: o["name"] for o in data["outlets"]}
    articles = [
        DemoArticle(
            slug=a["outlet"],
            outlet=names[a["outlet"]],
            path=f"/{a['outlet']}/{a['slug']}",
            title=a["title"],
            author=a["author"],
            published=now - timedelta(hours=a["hours_ago"]),
            paragraphs=a["paragraphs"],
            language="en" if "english" in a["slug"] else "es",
        )
        for a in data["articles"]
    ]
    return data["outlets"], articles


class DemoSite:
    """A loopback web server with the sample outlets' feeds, sitemap and article pages."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(timezone.utc)
        self.outlets, self.articles = load_articles(self.now)
        self.pages: dict[str, tuple[str, bytes]] = {}
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> DemoSite:
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                page = pages.get(self.path.split("?")[0])
                if page is None:
                    self.send_error(404)
                    return
                content_type, body = page
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self._build()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def sources(self) -> list[dict[str, str]]:
        """The demo's `sources:` config entries."""
        return [
            {
                "name": o["name"],
                "type": "sitemap" if o["feed"] == "sitemap" else "rss",
                "url": f"{self.base}/{o['slug']}/{LISTING_FILES[o['feed']]}",
            }
            for o in self.outlets
        ]

    def _build(self) -> None:
        self.pages["/robots.txt"] = ("text/plain", b"User-agent: *\nAllow: /\n")
        for article in self.articles:
            page = article_html(article, most_read=CHROME_MOST_READ)
            self.pages[article.path] = ("text/html; charset=utf-8", page.encode())
        for outlet in self.outlets:
            own = [a for a in self.articles if a.slug == outlet["slug"]]
            content_type, body = listing(outlet["feed"], outlet["name"], self.base, own)
            self.pages[f"/{outlet['slug']}/{LISTING_FILES[outlet['feed']]}"] = (content_type, body.encode())
