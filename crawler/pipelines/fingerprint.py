"""Fingerprint stage: a SimHash of the text, so syndicated copies join one story."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import NotConfigured

from crawler.items import ArticleItem


class FingerprintPipeline:
    def __init__(self) -> None:
        try:
            from crawler.fingerprint import simhash
        except ImportError as exc:  # not shipped yet: articles are stored without a fingerprint
            raise NotConfigured("crawler.fingerprint.simhash is not available") from exc
        self.simhash = simhash

    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        if item.status != "skipped" and item.paragraphs:
            item.fingerprint = self.simhash(item.text)
        return item
