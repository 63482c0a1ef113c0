"""``vigia match FILE_OR_URL``: extract one page (or read one text), match it, say which rules fired and why."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from crawler.article import Article, from_plain_text, read_article
from rules import RuleSet
from vigia.config import Config
from vigia.crawl_spec import page_spec
from vigia.errors import ExitStatus, VigiaError
from vigia.from_config import load_ruleset

# Enough to tell a saved web page from plain text: a page has at least one of these tags.
_HTML_TAG = re.compile(rb"<(?:!doctype|html|head|body|article|p|div|h1|meta)\b", re.IGNORECASE)
# A line ending a sentence ends a paragraph too; other line breaks are hard wraps.
_SENTENCE_END = re.compile(r"[.!?…:»\"”)]\s*$")


@dataclass
class Read:
    """What `vigia match` got to read, however it came, through the crawl's page pipeline."""

    where: str
    article: Article


def match_command(config: Config, target: str | None, out: TextIO, err: TextIO, *, text: str | None = None,
                  stdin: TextIO | None = None) -> int:
    ruleset = load_ruleset(config)
    read = _read(config, ruleset, target, text, stdin or sys.stdin)
    article = read.article
    title, body = article.title or "", article.text
    words = len(body.split()) + len(title.split())
    print(f"page: {read.where}", file=out)
    print(f"title: {title or '-'}", file=out)
    if not words:
        # Nothing to match: any verdict (and a language guess on no words) would be made up.
        print(f"vigia match: no text could be read from {read.where}: nothing to match", file=err)
        return ExitStatus.ERROR
    language = article.language or "und"
    print(f"author: {article.author or '-'}   date: {article.date or '-'}   language: {language}", file=out)
    print(f"text: {len(body.split())} words in {len(article.paragraphs)} paragraphs", file=out)
    if language == "und":
        # Short text rarely has enough function words to vote; that is not "not Spanish".
        print(f"note: the language cannot be told from these {words} words (too few Spanish function words): "
              "a crawl would store it as skipped; the rules are tried anyway", file=out)
    elif language != "es":
        print(f"note: the text is not Spanish ({language}): a crawl stores it as skipped and never alerts it", file=out)
    print(file=out)
    document = article.document()
    # The verdict is the crawl's own (RuleSet.match); evaluate() only words the misses.
    matches = {match.rule_id: match for match in ruleset.match(document)}
    for evaluation in ruleset.evaluate(document):
        match = matches.get(evaluation.rule_id)
        if match is not None:
            print(f"MATCH {match.rule_id}: score {match.score:g} (threshold {match.threshold:g})", file=out)
            print(_indent(match.explanation), file=out)
            print(f"  snippet: {match.snippet}", file=out)
        else:
            why = ruleset.why_not(document, evaluation.rule_id) or evaluation.reason
            if "\n" in why:
                print(f"no match {evaluation.rule_id}:", file=out)
                print(_indent(why), file=out)
            else:
                print(f"no match {evaluation.rule_id}: {why}", file=out)
        print(file=out)
    print(f"{len(matches)} of {len(ruleset.rules)} rule(s) matched", file=out)
    return ExitStatus.SUCCESS


def _read(config: Config, ruleset: RuleSet, target: str | None, text: str | None, stdin: TextIO) -> Read:
    if text is not None:
        return plain_text(text, "--text")
    assert target is not None  # the parser asks for one of the two
    if re.match(r"^https?://", target):
        from vigia.pagefetch import fetch_page

        page = fetch_page(target, page_spec(config, ruleset))
        return Read(page.url, read_article(page.body, page.url, content_type=page.content_type))
    limit = config.crawler.max_page_size  # a file is held to the crawl's page-size limit
    if target == "-":
        body = stdin.buffer.read(limit + 1) if hasattr(stdin, "buffer") else stdin.read(limit + 1).encode()
        where = "standard input"
    else:
        try:
            with open(target, "rb") as handle:
                body = handle.read(limit + 1)
        except OSError as exc:
            raise VigiaError(f"cannot read {target}: {exc.strerror}") from None
        where = Path(target).resolve().as_uri()
    if len(body) > limit:
        raise VigiaError(f"{target}: larger than {limit} bytes; not read")
    if _HTML_TAG.search(body[:65536]):
        # A page saved from the web carries its charset in a <meta>, or none at all: the crawl's decoding.
        return Read(where, read_article(body, where))
    try:
        decoded = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        decoded = body.decode("cp1252", errors="replace")  # the usual other encoding of Spanish text files
    return plain_text(decoded, where)


def plain_text(text: str, where: str) -> Read:
    """First non-empty line the title, then paragraphs: split at blank lines and at line
    breaks that end a sentence (a hard-wrapped line is joined to the next one)."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    title = lines.pop(0) if lines else ""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(line)
        if current and (not line or _SENTENCE_END.search(line)):
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return Read(where, from_plain_text(title, paragraphs))


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
