"""Outlets built from the labelled articles in ../shared/labelled/dev.jsonl.

Each labelled row becomes an article page (with the chrome real outlets carry: menus, a
"Lo más leído" box, related links, a footer) and an entry in its outlet's feed. Outlets
alternate between RSS 2.0, Atom and news sitemaps so every listing format is exercised.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FORMATS = ("rss", "atom", "sitemap")


@dataclass
class LabelledArticle:
    id: str
    outlet: str
    title: str
    paragraphs: list[str]
    author: str
    published: datetime
    language: str
    relevant: bool
    category: str
    group: str | None
    path: str


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:80]


def load_labelled(now: datetime | None = None) -> list[LabelledArticle]:
    """The labelled rows, re-dated to the last hours so none is too old to alert."""
    now = now or datetime.now(timezone.utc)
    rows = [json.loads(line) for line in (SHARED / "labelled" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = []
    for index, row in enumerate(rows):
        outlet = slugify(row["outlet"])
        articles.append(
            LabelledArticle(
                id=row["id"],
                outlet=row["outlet"],
                title=row["title"],
                paragraphs=row["paragraphs"],
                author=row.get("author") or "Redacción",
                published=now - timedelta(minutes=10 + index),
                language=row.get("lang") or "es",
                relevant=row["relevant"],
                category=row["category"],
                group=row.get("group"),
                path=f"/{outlet}/2026/11/25/{slugify(row['title'])}-{row['id']}",
            )
        )
    return articles


def stories(articles: list[LabelledArticle]) -> dict[str, list[LabelledArticle]]:
    """Relevant Spanish articles grouped into stories: syndicated copies share a group."""
    grouped: dict[str, list[LabelledArticle]] = {}
    for article in articles:
        if article.relevant and article.language == "es":
            grouped.setdefault(article.group or article.id, []).append(article)
    return grouped


def article_page(article: LabelledArticle) -> str:
    e = html.escape
    body = "\n".join(f"<p>{e(p)}</p>" for p in article.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{article.language}"><head><meta charset="utf-8">
<title>{e(article.title)} - {e(article.outlet)}</title>
<meta property="og:title" content="{e(article.title)}">
<meta name="author" content="{e(article.author)}">
<meta property="article:published_time" content="{article.published.isoformat()}">
</head><body>
<header><nav><ul><li><a href="/">Inicio</a></li><li><a href="/seguridad">Seguridad</a></li>
<li><a href="/mundo">Mundo</a></li><li><a href="/deportes">Deportes</a></li></ul></nav></header>
<main><article>
<h1>{e(article.title)}</h1>
<p class="byline">Por {e(article.author)}</p>
{body}
</article>
<aside><h2>Lo más leído</h2><ul>
<li><a href="/a/1">Sheinbaum y Trump hablan de seguridad fronteriza y fentanilo</a></li>
<li><a href="/a/2">Extraditan a Estados Unidos a líder del cártel</a></li>
</ul></aside>
<section class="related"><h2>Notas relacionadas</h2><ul>
<li><a href="/a/3">La DEA y la FGR acuerdan cooperación contra el narcotráfico</a></li></ul></section>
</main>
<footer><p>© 2026 {e(article.outlet)}. Todos los derechos reservados.</p></footer>
</body></html>
"""


def feed(kind: str, outlet: str, base: str, articles: list[LabelledArticle]) -> tuple[str, str]:
    """(content type, body) of an outlet's listing in RSS 2.0, Atom or a news sitemap."""
    e = html.escape
    if kind == "rss":
        items = "".join(
            f"<item><title>{e(a.title)}</title><link>{base}{a.path}?utm_source=rss&amp;utm_medium=feed</link>"
            f"<guid>{base}{a.path}</guid><pubDate>{format_datetime(a.published)}</pubDate></item>\n"
            for a in articles
        )
        body = f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{e(outlet)}</title>' \
               f"<link>{base}/</link><description>Noticias</description>\n{items}</channel></rss>\n"
        return "application/rss+xml; charset=utf-8", body
    if kind == "atom":
        entries = "".join(
            f'<entry><title>{e(a.title)}</title><link href="{base}{a.path}#top"/><id>{base}{a.path}</id>'
            f"<updated>{a.published.isoformat()}</updated></entry>\n"
            for a in articles
        )
        body = f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">' \
               f"<title>{e(outlet)}</title><id>{base}/</id><updated>{articles[0].published.isoformat()}</updated>\n" \
               f"{entries}</feed>\n"
        return "application/atom+xml; charset=utf-8", body
    urls = "".join(
        f"<url><loc>{base}{a.path}</loc><news:news><news:publication><news:name>{e(outlet)}</news:name>"
        f"<news:language>{a.language}</news:language></news:publication>"
        f"<news:publication_date>{a.published.isoformat()}</news:publication_date>"
        f"<news:title>{e(a.title)}</news:title></news:news></url>\n"
        for a in articles
    )
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" ' \
           f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n{urls}</urlset>\n'
    return "application/xml; charset=utf-8", body


def outlets(articles: list[LabelledArticle]) -> dict[str, list[LabelledArticle]]:
    grouped: dict[str, list[LabelledArticle]] = {}
    for article in articles:
        grouped.setdefault(article.outlet, []).append(article)
    return grouped
