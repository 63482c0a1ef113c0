"""Match stage: the spec's rule set over title, text and summary."""

from __future__ import annotations

from typing import Any

from crawler.article import article_document
from crawler.items import ArticleItem
from crawler.state import CrawlRun
from storage.records import MatchRecord


class MatchPipeline:
    def __init__(self, run: CrawlRun) -> None:
        self.ruleset = run.spec.ruleset

    @classmethod
    def from_crawler(cls, crawler: Any) -> MatchPipeline:
        return cls(crawler.settings["VIGIA_RUN"])

    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        if item.status == "skipped":
            return item
        found = self.ruleset.match(article_document(item.title, item.text, item.summary))
        item.matches = [
            MatchRecord(
                rule_id=match.rule_id,
                rule_name=match.rule_name,
                score=match.score,
                channel=match.channel,
                mode=match.mode,
                digest=match.digest,
                explanation=match.to_dict(),
            )
            for match in found
        ]
        item.status = "matched" if item.matches else "unmatched"
        return item
