"""The demo's sample outlets, served on loopback.

They are generated from ``articles.yaml`` beside this file (articles written for the
project): one outlet publishes RSS 2.0, one Atom, one a Google News sitemap. Pages and
listings come from vigia.demo.pages, with a "Lo más leído" box full of watchlist words so
the demo also shows that chrome never reaches the matcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import Any, Self

import yaml

from vigia.demo.loopback import LoopbackServer
from vigia.demo.pages import article_html, listing

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
    data = yaml.safe_load(resources.files("vigia.demo").joinpath("articles.yaml").read_text(encoding="utf-8"))
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


class DemoSite(LoopbackServer):
    """A loopback web server with the sample outlets' feeds, sitemap and article pages."""

    methods = ("GET",)
    thread_name = "demo-site"

    def __init__(self, now: datetime | None = None) -> None:
        super().__init__()
        self.now = now or datetime.now(UTC)
        self.outlets, self.articles = load_articles(self.now)
        self.pages: dict[str, tuple[str, bytes]] = {}

    def start(self) -> Self:
        super().start()
        self._build()  # the listings carry the site's address, known only now
        return self

    def serve(self, http: BaseHTTPRequestHandler) -> None:
        page = self.pages.get(http.path.split("?")[0])
        if page is None:
            http.send_error(404)
            return
        content_type, body = page
        self.send(http, 200, body, {"Content-Type": content_type})

    def sources(self) -> list[dict[str, str]]:
        """The demo's `sources:` config entries."""
        return [
            {
                "name": o["name"],
                "type": "sitemap" if o["feed"] == "sitemap" else "rss",
                "url": f"{self.base_url}/{o['slug']}/{LISTING_FILES[o['feed']]}",
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
            content_type, body = listing(outlet["feed"], outlet["name"], self.base_url, own)
            self.pages[f"/{outlet['slug']}/{LISTING_FILES[outlet['feed']]}"] = (content_type, body.encode())
