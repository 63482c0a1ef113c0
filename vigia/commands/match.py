"""``vigia match FILE_OR_URL``: extract one page (or read one text), match it, say which rules fired and why."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from w3lib.encoding import html_to_unicode

from crawler.extraction import extract_article
from crawler.language import detect_language
from rules import Document
from vigia.config import Config
from vigia.from_config import load_ruleset
from vigia.errors import ExitStatus, VigiaError

# Enough to tell a saved web page from plain text: a page has at least one of these tags.
_HTML_TAG = re.compile(rb"<(?:!doctype|html|head|body|article|p|div|h1|meta)\b", re.IGNORECASE)
# A line ending a sentence ends a paragraph too; other line breaks are hard wraps.
_SENTENCE_END = re.compile(r"[.!?…:»\"”)]\s*$")
MAX_INPUT = 5_000_000  # bytes, as crawler.max_page_size's default


@dataclass
class Read:
    """What `vigia match` got to read, however it came."""

    where: str
    title: str
    author: str | None
    date: str | None
    paragraphs: list[str]
    summary: str
    html_lang: str | None


def match_command(config: Config, target: str | None, out: TextIO, err: TextIO, *, text: str | None = None,
                  stdin: TextIO | None = None) -> int:
    ruleset = load_ruleset(config)
    read = _read(config, target, text, stdin or sys.stdin)
    body = "\n\n".join(read.paragraphs)
    words = len(body.split()) + len(read.title.split())
    print(f"page: {read.where}", file=out)
    print(f"title: {read.title or '-'}", file=out)
    if not words:
        # Nothing to match: any verdict (and a language guess on no words) would be made up.
        print(f"vigia match: no text could be read from {read.where}: nothing to match", file=err)
        return ExitStatus.ERROR
    language = detect_language(" ".join([read.title, body]), read.html_lang)
    print(f"author: {read.author or '-'}   date: {read.date or '-'}   language: {language}", file=out)
    print(f"text: {len(body.split())} words in {len(read.paragraphs)} paragraphs", file=out)
    if language == "und":
        # Short text rarely has enough function words to vote; that is not "not Spanish".
        print(f"note: the language cannot be told from these {words} words (too few Spanish function words): "
              "a crawl would store it as skipped; the rules are tried anyway", file=out)
    elif language != "es":
        print(f"note: the text is not Spanish ({language}): a crawl stores it as skipped and never alerts it", file=out)
    print("", file=out)
    document = Document(title=read.title, text=body, summary=read.summary)
    matched = 0
    for evaluation in ruleset.evaluate(document):
        if evaluation.matched and evaluation.match is not None:
            matched += 1
            print(f"MATCH {evaluation.rule_id}: score {evaluation.score:g} (threshold {evaluation.threshold:g})", file=out)
            print(_indent(evaluation.match.explanation), file=out)
            print(f"  snippet: {evaluation.match.snippet}", file=out)
        else:
            why = ruleset.why_not(document, evaluation.rule_id) or evaluation.reason
            if "\n" in why:
                print(f"no match {evaluation.rule_id}:", file=out)
                print(_indent(why), file=out)
            else:
                print(f"no match {evaluation.rule_id}: {why}", file=out)
        print("", file=out)
    print(f"{matched} of {len(ruleset.rules)} rule(s) matched", file=out)
    return ExitStatus.SUCCESS


def _read(config: Config, target: str | None, text: str | None, stdin: TextIO) -> Read:
    if text is not None:
        return plain_text(text, "--text")
    assert target is not None  # the parser asks for one of the two
    if re.match(r"^https?://", target):
        from vigia.pagefetch import fetch_page

        page = fetch_page(
            target, config.crawler.user_agent, config.crawler.timeout.total_seconds(), config.crawler.obey_robots
        )
        return _page(page.html, page.url)
    if target == "-":
        body = stdin.buffer.read(MAX_INPUT + 1) if hasattr(stdin, "buffer") else stdin.read(MAX_INPUT + 1).encode()
        where = "standard input"
    else:
        try:
            with open(target, "rb") as handle:
                body = handle.read(MAX_INPUT + 1)
        except OSError as exc:
            raise VigiaError(f"cannot read {target}: {exc.strerror}") from None
        where = Path(target).resolve().as_uri()
    if len(body) > MAX_INPUT:
        raise VigiaError(f"{target}: larger than {MAX_INPUT} bytes; not read")
    if _HTML_TAG.search(body[:65536]):
        # Pages saved from the web carry their charset in a <meta>, or none at all.
        _, html = html_to_unicode(None, body)
        return _page(html, where)
    try:
        decoded = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        decoded = body.decode("cp1252", errors="replace")  # the usual other encoding of Spanish text files
    return plain_text(decoded, where)


def _page(html: str, url: str) -> Read:
    extracted = extract_article(html, url)
    return Read(url, extracted.title or "", extracted.author, extracted.date, list(extracted.paragraphs),
                extracted.description or "", extracted.html_lang)


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
    return Read(where, title, None, None, paragraphs, "", None)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
