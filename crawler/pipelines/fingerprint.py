"""Fingerprint stage: a SimHash of the text (stories.simhash), so syndicated copies join one story.

The extraction worker has computed it already (``crawler.article.read_crawled_article``);
this stage computes it only for an item that came without it."""

from __future__ import annotations

from typing import Any

from crawler.items import ArticleItem
from stories import simhash


class FingerprintPipeline:
    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        if item.status != "skipped" and item.paragraphs and item.fingerprint is None:
            item.fingerprint = simhash(item.text)
        return item
