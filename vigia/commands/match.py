"""``vigia match FILE_OR_URL``: extract one page, match it, say which rules fired and why."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TextIO

from w3lib.encoding import html_to_unicode

from crawler.extraction import extract_article
from crawler.language import detect_language
from rules import Document
from vigia.config import Config
from vigia.crawl import load_ruleset
from vigia.errors import ExitStatus, VigiaError


def match_command(config: Config, target: str, out: TextIO, err: TextIO) -> int:
    ruleset = load_ruleset(config)
    url, html = _read(config, target)
    extracted = extract_article(html, url)
    text = "\n\n".join(extracted.paragraphs)
    language = detect_language(text, extracted.html_lang)
    print(f"page: {url}", file=out)
    print(f"title: {extracted.title or '-'}", file=out)
    print(f"author: {extracted.author or '-'}   date: {extracted.date or '-'}   language: {language}", file=out)
    print(f"text: {len(text.split())} words in {len(extracted.paragraphs)} paragraphs", file=out)
    if language != "es":
        print("note: the page is not Spanish: a crawl stores it as skipped and never alerts it", file=out)
    print("", file=out)
    document = Document(title=extracted.title or "", text=text, summary=extracted.description or "")
    matched = 0
    for evaluation in ruleset.evaluate(document):
        if evaluation.matched and evaluation.match is not None:
            matched += 1
            print(f"MATCH {evaluation.rule_id}: score {evaluation.score:g} (threshold {evaluation.threshold:g})", file=out)
            print(_indent(evaluation.match.explanation), file=out)
            print(f"  snippet: {evaluation.match.snippet}", file=out)
        else:
            print(f"no match {evaluation.rule_id}: {evaluation.reason}", file=out)
        print("", file=out)
    print(f"{matched} of {len(ruleset.rules)} rule(s) matched", file=out)
    return ExitStatus.SUCCESS


def _read(config: Config, target: str) -> tuple[str, str]:
    if re.match(r"^https?://", target):
        from vigia.pagefetch import fetch_page

        page = fetch_page(
            target, config.crawler.user_agent, config.crawler.timeout.total_seconds(), config.crawler.obey_robots
        )
        return page.url, page.html
    path = Path(target)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise VigiaError(f"cannot read {target}: {exc.strerror}") from None
    # Pages saved from the web carry their charset in a <meta>, or none at all.
    _, html = html_to_unicode(None, body)
    return path.resolve().as_uri(), html


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
