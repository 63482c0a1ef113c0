"""Outlets built from the labelled articles in ../shared/labelled/dev.jsonl.

Each labelled row becomes an article page and an entry in its outlet's listing, rendered by
vigia.demo.pages as the demo's are. Outlets alternate between RSS 2.0, Atom and news
sitemaps so every listing format is exercised.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigia.demo.pages import LISTING_KINDS, article_html, listing

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FORMATS = LISTING_KINDS


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
    now = now or datetime.now(UTC)
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


MOST_READ = ["Sheinbaum y Trump hablan de seguridad fronteriza y fentanilo", "Extraditan a Estados Unidos a líder del cártel"]
RELATED = ["La DEA y la FGR acuerdan cooperación contra el narcotráfico"]


def article_page(article: LabelledArticle) -> str:
    """The article's page, its chrome full of watchlist words that must not count."""
    return article_html(article, most_read=MOST_READ, related=RELATED)


def feed(kind: str, outlet: str, base: str, articles: list[LabelledArticle]) -> tuple[str, str]:
    """(content type, body) of an outlet's listing in RSS 2.0, Atom or a news sitemap."""
    return listing(kind, outlet, base, articles)


def outlets(articles: list[LabelledArticle]) -> dict[str, list[LabelledArticle]]:
    grouped: dict[str, list[LabelledArticle]] = {}
    for article in articles:
        grouped.setdefault(article.outlet, []).append(article)
    return grouped
