"""Article pages and listings (RSS 2.0, Atom, news sitemap) for sample outlets on loopback.

``vigia demo`` serves its sample articles with these, and the tests serve the labelled
articles the same way. Pages carry the chrome real outlets have — a menu, a "Lo más leído"
box, related links, a footer — so every crawl through them also checks that the chrome
never reaches the matcher. Feed links carry tracking parameters and fragments, as real
feeds do, so canonical URLs are exercised too.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from typing import Protocol

LISTING_KINDS = ("rss", "atom", "sitemap")


class PageArticle(Protocol):
    path: str  # where the site serves the page
    title: str
    outlet: str
    author: str
    published: datetime
    paragraphs: list[str]
    language: str


def article_html(article: PageArticle, most_read: Sequence[str] = (), related: Sequence[str] = ()) -> str:
    e = html.escape
    body = "\n".join(f"<p>{e(p)}</p>" for p in article.paragraphs)
    boxes = ""
    if most_read:
        items = "".join(f'<li><a href="/mas-leido/{i}">{e(t)}</a></li>' for i, t in enumerate(most_read))
        boxes += f"<aside class=\"most-read\"><h2>Lo más leído</h2><ul>{items}</ul></aside>\n"
    if related:
        items = "".join(f'<li><a href="/relacionadas/{i}">{e(t)}</a></li>' for i, t in enumerate(related))
        boxes += f"<section class=\"related\"><h2>Notas relacionadas</h2><ul>{items}</ul></section>\n"
    published = article.published.isoformat()
    return f"""<!DOCTYPE html>
<html lang="{article.language}"><head><meta charset="utf-8">
<title>{e(article.title)} - {e(article.outlet)}</title>
<meta property="og:title" content="{e(article.title)}">
<meta name="author" content="{e(article.author)}">
<meta property="article:published_time" content="{published}">
</head><body>
<header><nav><ul><li><a href="/">Inicio</a></li><li><a href="/seguridad">Seguridad</a></li>
<li><a href="/mundo">Mundo</a></li><li><a href="/deportes">Deportes</a></li></ul></nav></header>
<main><article>
<h1>{e(article.title)}</h1>
<p class="byline">Por {e(article.author)} · <time datetime="{published}">{article.published:%d/%m/%Y %H:%M}</time></p>
{body}
</article>
{boxes}</main>
<footer><p>© 2026 {e(article.outlet)}. Todos los derechos reservados. Aviso de privacidad.</p></footer>
</body></html>
"""


def listing(kind: str, outlet: str, base: str, articles: Sequence[PageArticle]) -> tuple[str, str]:
    """(content type, body) of an outlet's listing: ``rss``, ``atom`` or ``sitemap`` (Google News)."""
    e = html.escape
    if kind == "rss":
        items = "".join(
            f"<item><title>{e(a.title)}</title><link>{base}{a.path}?utm_source=rss&amp;utm_medium=feed</link>"
            f"<guid>{base}{a.path}</guid><pubDate>{format_datetime(a.published)}</pubDate>"
            f"<author>{e(a.author)}</author></item>\n"
            for a in articles
        )
        body = (
            f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{e(outlet)}</title>'
            f"<link>{base}/</link><description>Últimas noticias</description><language>es-mx</language>\n"
            f"{items}</channel></rss>\n"
        )
        return "application/rss+xml; charset=utf-8", body
    if kind == "atom":
        entries = "".join(
            f'<entry><title>{e(a.title)}</title><link href="{base}{a.path}#comentarios"/><id>{base}{a.path}</id>'
            f"<updated>{a.published.isoformat()}</updated><author><name>{e(a.author)}</name></author></entry>\n"
            for a in articles
        )
        updated = max(a.published for a in articles).isoformat() if articles else "2026-01-01T00:00:00+00:00"
        body = (
            f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="es">'
            f"<title>{e(outlet)}</title><id>{base}/</id><updated>{updated}</updated>\n{entries}</feed>\n"
        )
        return "application/atom+xml; charset=utf-8", body
    if kind == "sitemap":
        urls = "".join(
            f"<url><loc>{base}{a.path}</loc><news:news><news:publication><news:name>{e(outlet)}</news:name>"
            f"<news:language>{a.language}</news:language></news:publication>"
            f"<news:publication_date>{a.published.isoformat()}</news:publication_date>"
            f"<news:title>{e(a.title)}</news:title></news:news></url>\n"
            for a in articles
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n{urls}</urlset>\n'
        )
        return "application/xml; charset=utf-8", body
    raise ValueError(f"unknown listing kind {kind!r}; use one of {', '.join(LISTING_KINDS)}")
