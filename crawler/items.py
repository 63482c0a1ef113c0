"""The records that flow through the crawl: what a listing says, and the article item.

Feed, sitemap and section-page parsers all produce ``ListedArticle``; nothing downstream
knows which format listed it. The spider turns a fetched page into an ``ArticleItem``
that each pipeline stage fills in, in order: extract, language, fingerprint, match, store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ListedArticle:
    """An article link with what its listing said about it (fallbacks for extraction)."""

    url: str
    title: str | None = None
    published: datetime | None = None
    author: str | None = None
    summary: str | None = None
    language: str | None = None


@dataclass
class ArticleItem:
    source: str
    outlet: str
    url: str  # where the page was finally fetched from
    canonical_url: str  # as listed, canonicalised: the storage key
    page: bytes | None  # the body as downloaded; the extraction worker decodes it
    content_type: str | None  # its Content-Type header (the charset helps decode it)
    listed: ListedArticle
    # Filled by the extract stage.
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    summary: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    html_lang: str | None = None
    # Filled by the language, fingerprint and match stages.
    language: str | None = None
    status: str = "unmatched"  # matched | unmatched | skipped | error
    skip_reason: str | None = None
    fingerprint: int | None = None
    signed: Any = None  # stories.Signed: the text's shingles and band keys, from the extraction worker
    matches: list[Any] = field(default_factory=list)  # storage.records.MatchRecord
    # Filled by the store stage, for the poll's tally.
    new: bool = False
    alerts_queued: int = 0

    @property
    def text(self) -> str:
        """Paragraphs joined by blank lines, as the matcher and storage want them."""
        return "\n\n".join(self.paragraphs)
