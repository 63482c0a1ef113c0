"""Match stage: the spec's rule set over title, text and summary."""

from __future__ import annotations

from typing import Any

from crawler.items import ArticleItem
from crawler.state import CrawlRun
from storage.records import MatchRecord


class MatchPipeline:
    def __init__(self, run: CrawlRun) -> None:
        from rules import Document

        self.ruleset = run.spec.ruleset
        self.document = Document

    @classmethod
    def from_crawler(cls, crawler: Any) -> MatchPipeline:
        return cls(crawler.settings["VIGIA_RUN"])

    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        if item.status == "skipped":
            return item
        found = self.ruleset.match(self.document(title=item.title or "", text=item.text, summary=item.summary or ""))
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
