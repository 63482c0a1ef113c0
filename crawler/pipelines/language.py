"""Language stage: only Spanish articles go on to matching; the rest are stored as skipped.

The language itself was told by the page pipeline (``crawler.article``, in the extract stage).
"""

from __future__ import annotations

from typing import Any

from crawler.article import WANTED_LANGUAGE
from crawler.items import ArticleItem


class LanguagePipeline:
    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        if not item.paragraphs:
            item.status, item.skip_reason = "skipped", "no text"
        elif item.language != WANTED_LANGUAGE:
            item.status, item.skip_reason = "skipped", f"language: {item.language}"
        return item
