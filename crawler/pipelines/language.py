"""Language stage: only Spanish articles go on to matching; the rest are stored as skipped."""

from __future__ import annotations

from typing import Any

from crawler.items import ArticleItem
from rules.spanish import detect_language

WANTED = "es"


class LanguagePipeline:
    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        if not item.paragraphs:
            item.language = item.listed.language
            item.status, item.skip_reason = "skipped", "no text"
            return item
        item.language = detect_language(item.text, item.html_lang, item.listed.language)
        if item.language != WANTED:
            item.status, item.skip_reason = "skipped", f"language: {item.language}"
        return item
