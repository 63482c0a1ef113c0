"""Plain records that cross into storage/: what the crawler hands over to be stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ArticleRecord:
    canonical_url: str
    url: str
    outlet: str
    source_name: str | None = None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    summary: str | None = None
    text: str | None = None
    # matched | unmatched | skipped | error
    status: str = "unmatched"
    skip_reason: str | None = None
    fingerprint: int | None = None
    # stories.sign of the text, when the crawler computed it already (its extraction workers do)
    signed: Any = None


@dataclass
class MatchRecord:
    rule_id: str
    rule_name: str
    score: float
    channel: str | None = None
    mode: str = "instant"
    digest: dict[str, Any] | None = None
    explanation: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredArticle:
    id: int
    new: bool
    story_id: int | None = None
    alerts_queued: int = 0
