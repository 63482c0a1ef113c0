"""The offline demo: sample outlets and a Slack stand-in on loopback, one real crawl.

The sample outlets are generated from ``demo_site/articles.yaml`` (articles written for
the project): one outlet publishes RSS 2.0, one Atom, one a Google News sitemap; every
article page carries the chrome real outlets have (menus, a "Lo más leído" box, related
links, a footer) so the demo also shows that chrome never reaches the matcher.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

import yaml

CHROME_MOST_READ = [
    "Trump amenaza con intervenir contra los cárteles",
    "Extraditan a Estados Unidos a exjefe de plaza",
    "Rubio y De la Fuente hablarán de seguridad",
]


@dataclass
class DemoArticle:
    outlet: str
    outlet_name: str
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
            outlet=a["outlet"],
            outlet_name=names[a["outlet"]],
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
        paths = {"rss": "feed.xml", "atom": "atom.xml", "sitemap": "news-sitemap.xml"}
        return [
            {
                "name": o["name"],
                "type": "sitemap" if o["feed"] == "sitemap" else "rss",
                "url": f"{self.base}/{o['slug']}/{paths[o['feed']]}",
            }
            for o in self.outlets
        ]

    def _build(self) -> None:
        self.pages["/robots.txt"] = ("text/plain", b"User-agent: *\nAllow: /\n")
        for article in self.articles:
            self.pages[article.path] = ("text/html; charset=utf-8", self._page(article).encode())
        for outlet in self.outlets:
            own = [a for a in self.articles if a.outlet == outlet["slug"]]
            if outlet["feed"] == "rss":
                self.pages[f"/{outlet['slug']}/feed.xml"] = ("application/rss+xml", self._rss(outlet, own).encode())
            elif outlet["feed"] == "atom":
                self.pages[f"/{outlet['slug']}/atom.xml"] = ("application/atom+xml", self._atom(outlet, own).encode())
            else:
                self.pages[f"/{outlet['slug']}/news-sitemap.xml"] = ("application/xml", self._sitemap(own).encode())

    def _page(self, article: DemoArticle) -> str:
        e = html.escape
        body = "\n".join(f"      <p>{e(p)}</p>" for p in article.paragraphs)
        most_read = "\n".join(f'        <li><a href="/{article.outlet}/lo-mas-leido/{i}">{e(t)}</a></li>'
                              for i, t in enumerate(CHROME_MOST_READ))
        return f"""<!DOCTYPE html>
<html lang="{article.language}">
<head>
  <meta charset="utf-8">
  <title>{e(article.title)} | {e(article.outlet_name)}</title>
  <meta property="og:title" content="{e(article.title)}">
  <meta name="author" content="{e(article.author)}">
  <meta property="article:published_time" content="{article.published.isoformat()}">
</head>
<body>
  <header><nav><a href="/">Portada</a> | <a href="/seguridad">Seguridad</a> | <a href="/deportes">Deportes</a>
    | <a href="/economia">Economía</a></nav></header>
  <main>
    <article>
      <h1>{e(article.title)}</h1>
      <p class="byline">Por {e(article.author)} · <time datetime="{article.published.isoformat()}">{article.published:%d/%m/%Y %H:%M}</time></p>
{body}
    </article>
    <aside class="most-read">
      <h2>Lo más leído</h2>
      <ul>
{most_read}
      </ul>
    </aside>
  </main>
  <footer><p>© 2026 {e(article.outlet_name)}. Todos los derechos reservados. Aviso de privacidad.</p></footer>
</body>
</html>
"""

    def _rss(self, outlet: dict[str, Any], articles: list[DemoArticle]) -> str:
        e = html.escape
        items = "\n".join(
            f"""    <item>
      <title>{e(a.title)}</title>
      <link>{self.base}{a.path}?utm_source=rss&amp;utm_medium=feed</link>
      <guid>{self.base}{a.path}</guid>
      <pubDate>{format_datetime(a.published)}</pubDate>
      <author>{e(a.author)}</author>
    </item>"""
            for a in articles
        )
        return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
  <channel>
    <title>{e(outlet['name'])}</title>
    <link>{self.base}/{outlet['slug']}/</link>
    <description>Últimas noticias</description>
    <language>es-mx</language>
{items}
  </channel>
</rss>
"""

    def _atom(self, outlet: dict[str, Any], articles: list[DemoArticle]) -> str:
        e = html.escape
        entries = "\n".join(
            f"""  <entry>
    <title>{e(a.title)}</title>
    <link href="{self.base}{a.path}#comentarios"/>
    <id>{self.base}{a.path}</id>
    <updated>{a.published.isoformat()}</updated>
    <author><name>{e(a.author)}</name></author>
  </entry>"""
            for a in articles
        )
        return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="es">
  <title>{e(outlet['name'])}</title>
  <id>{self.base}/{outlet['slug']}/</id>
  <updated>{self.now.isoformat()}</updated>
{entries}
</feed>
"""

    def _sitemap(self, articles: list[DemoArticle]) -> str:
        e = html.escape
        urls = "\n".join(
            f"""  <url>
    <loc>{self.base}{a.path}</loc>
    <news:news>
      <news:publication><news:name>{e(a.outlet_name)}</news:name><news:language>{a.language}</news:language></news:publication>
      <news:publication_date>{a.published.isoformat()}</news:publication_date>
      <news:title>{e(a.title)}</news:title>
    </news:news>
  </url>"""
            for a in articles
        )
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}
</urlset>
"""
