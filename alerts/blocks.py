"""Block Kit rendering: an article and its matches as one readable, safe Slack message.

Everything taken from a page (title, outlet, author, snippet, URL) is escaped so that an
article titled ``<!channel> <https://evil|click>`` shows as text and pings no one, and
every message stays inside Slack's limits (header ≤150 chars, section text ≤3,000,
≤50 blocks) with a plain ``text`` fallback for notifications and old clients.

Slack's mrkdwn has no escape for its emphasis markers, so page text cannot say
``*bold*``, ``_italic_``, ``~strike~`` or `` `code` ``: each marker is replaced by a
look-alike that mrkdwn ignores (∗ U+2217, ＿ U+FF3F, ∼ U+223C, ˋ U+02CB). A reader sees
nearly the same characters; only our own markup formats. Bidi overrides and zero-width
characters, which can disguise text, are dropped. Titles are cut before they are put
into a ``<url|label>`` link, so a cut can never break the link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
BLOCK_LIMIT = 50
TEXT_LIMIT = 3000  # the fallback: Slack truncates very long text; keep it short anyway
SNIPPET_CHARS = 420
TITLE_CHARS = 300  # a linked title: longer is not a headline, and the link must fit a section

LABELS: dict[str, dict[str, str]] = {
    "es": {
        "by": "Por",
        "rule": "Regla",
        "rules": "Reglas",
        "score": "puntuación",
        "terms": "Términos",
        "entities": "Entidades",
        "also_in": "También en",
        "copy_in": "También en",
        "untitled": "(sin título)",
        "digest": "Resumen",
        "hourly": "de la última hora",
        "daily": "del día",
        "stories": "notas",
        "more": "y {n} más",
        "copies_later": "Copias de notas ya enviadas",
        "open": "Abrir",
    },
    "en": {
        "by": "By",
        "rule": "Rule",
        "rules": "Rules",
        "score": "score",
        "terms": "Terms",
        "entities": "Entities",
        "also_in": "Also in",
        "copy_in": "Also in",
        "untitled": "(untitled)",
        "digest": "Digest",
        "hourly": "for the last hour",
        "daily": "for the day",
        "stories": "stories",
        "more": "and {n} more",
        "copies_later": "Copies of stories already posted",
        "open": "Open",
    },
}

MONTHS = {
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


def labels(locale: str) -> dict[str, str]:
    return LABELS.get((locale or "es").lower()[:2], LABELS["es"])


@dataclass
class RuleHit:
    """What one matched rule contributes to a message (from Match.explanation, defensively)."""

    rule_id: str
    rule_name: str
    score: float | None = None
    terms: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    snippet: str | None = None
    highlights: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def from_match(cls, rule_id: str, rule_name: str | None, score: float | None, explanation: Any) -> RuleHit:
        data = explanation if isinstance(explanation, dict) else {}
        highlights: list[tuple[int, int]] = []
        for pair in data.get("snippet_highlights") or []:
            try:
                start, end = int(pair[0]), int(pair[1])
            except (TypeError, ValueError, IndexError):
                continue
            highlights.append((start, end))
        snippet = data.get("snippet")
        return cls(
            rule_id=rule_id,
            rule_name=str(rule_name or data.get("rule_name") or rule_id),
            score=score if score is not None else data.get("score"),
            terms=[str(t) for t in data.get("terms") or [] if t],
            entities=[str(e) for e in data.get("entities") or [] if e],
            snippet=str(snippet) if snippet else None,
            highlights=highlights,
        )


@dataclass
class Story:
    """The article fields a message shows."""

    url: str
    outlet: str
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    text: str | None = None
    summary: str | None = None


@dataclass
class Message:
    text: str
    blocks: list[dict[str, Any]]


# -- escaping and limits -----------------------------------------------------------------


# mrkdwn's emphasis markers and look-alikes that do not format.
_MARKERS = str.maketrans({"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"})
# Bidi embeddings/overrides/isolates, zero-width space/joiners, word joiner, BOM.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff]")


def escape(value: str | None) -> str:
    """Slack's three control characters and its emphasis markers; nothing from a page reaches Slack without this."""
    if not value:
        return ""
    value = _INVISIBLE.sub("", value).translate(_MARKERS)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clean(value: str | None) -> str:
    """One line of page text: invisible characters dropped, whitespace collapsed."""
    if not value:
        return ""
    return re.sub(r"\s+", " ", _INVISIBLE.sub("", value)).strip()


def escape_url(url: str) -> str:
    """A URL safe inside ``<url|label>``: no ``|`` or angle brackets, ``&`` escaped."""
    url = url.strip().replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    if not re.match(r"https?://", url, re.IGNORECASE):
        return ""
    return url.replace("&", "&amp;")


def link(url: str, label: str, limit: int = TITLE_CHARS) -> str:
    """A mrkdwn link with an escaped label cut to ``limit`` (or just the label when the URL is unusable)."""
    target = escape_url(url)
    if len(target) > 2000:
        target = ""  # no real article URL is this long; the label still shows
    label = truncate(escape(_clean(label)).replace("|", "¦"), limit)
    return f"<{target}|{label}>" if target else label


def truncate(text: str, limit: int) -> str:
    """Cut at ``limit`` characters with an ellipsis, never inside an ``&amp;`` entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_LIMIT) or "·"}}


def section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(mrkdwn, SECTION_LIMIT) or "·"}}


def context(*parts: str) -> dict[str, Any]:
    elements = [{"type": "mrkdwn", "text": truncate(p, SECTION_LIMIT)} for p in parts if p][:10]
    return {"type": "context", "elements": elements or [{"type": "mrkdwn", "text": "·"}]}


def fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most 50 blocks: the tail is dropped (callers put what matters first)."""
    return blocks[:BLOCK_LIMIT]


# -- pieces ------------------------------------------------------------------------------


# A published date further ahead than this is a page's mistake (year 9998): shown as none.
FUTURE_SLACK = timedelta(days=1)


def format_date(value: datetime | None, locale: str) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    if value > datetime.now(timezone.utc) + FUTURE_SLACK:
        return ""
    month = MONTHS.get(locale[:2], MONTHS["es"])[value.month - 1]
    if locale.startswith("en"):
        return f"{month} {value.day}, {value.year}, {value:%H:%M} UTC"
    return f"{value.day} {month} {value.year}, {value:%H:%M} UTC"


def bold_snippet(snippet: str, highlights: Sequence[tuple[int, int]]) -> str:
    """The snippet escaped, with each highlighted span in bold (overlaps merged)."""
    spans = sorted((max(0, s), min(len(snippet), e)) for s, e in highlights if e > s)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif start < len(snippet):
            merged.append((start, end))
    out: list[str] = []
    position = 0
    for start, end in merged:
        out.append(escape(snippet[position:start]))
        word = escape(snippet[start:end].replace("*", "").strip())
        if word:
            # Slack only renders *bold* at word edges; keep the spaces outside the stars.
            lead = " " if snippet[start:end][:1].isspace() else ""
            trail = " " if snippet[start:end][-1:].isspace() else ""
            out.append(f"{lead}*{word}*{trail}")
        position = end
    out.append(escape(snippet[position:]))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def highlight_terms(snippet: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Fallback highlights when the matcher gave none: case-insensitive whole-word finds."""
    spans: list[tuple[int, int]] = []
    folded = snippet.casefold()
    for term in terms:
        needle = term.casefold().strip()
        if not needle:
            continue
        for found in re.finditer(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", folded):
            spans.append(found.span())
    return spans


def lead_sentences(text: str | None, count: int = 3, limit: int = SNIPPET_CHARS) -> str:
    """The first two or three sentences, for articles whose match carried no snippet."""
    if not text:
        return ""
    flat = re.sub(r"\s+", " ", text).strip()
    sentences = re.split(r"(?<=[.!?…])\s+(?=[\"“¿¡A-ZÁÉÍÓÚÑ0-9])", flat)
    picked = ""
    for sentence in sentences[:count]:
        if picked and len(picked) + len(sentence) > limit:
            break
        picked = f"{picked} {sentence}".strip()
    return truncate(picked, limit)


def _snippet(story: Story, hits: Sequence[RuleHit]) -> str:
    for hit in hits:
        if hit.snippet:
            spans = hit.highlights or highlight_terms(hit.snippet, hit.terms + hit.entities)
            return bold_snippet(hit.snippet, spans)
    terms = [t for hit in hits for t in hit.terms + hit.entities]
    text = lead_sentences(story.text) or lead_sentences(story.summary)
    return bold_snippet(text, highlight_terms(text, terms)) if text else ""


def _unique(values: Iterable[str]) -> list[str]:
    """First spelling of each value, case-insensitively, in order."""
    seen: set[str] = set()
    kept: list[str] = []
    for value in values:
        key = value.strip()
        if key and key.casefold() not in seen:
            seen.add(key.casefold())
            kept.append(key)
    return kept


def _byline(story: Story, locale: str) -> str:
    words = labels(locale)
    parts = [f"*{escape(_clean(story.outlet))}*"]
    date = format_date(story.published_at, locale)
    if date:
        parts.append(date)
    if story.author:
        parts.append(f"{words['by']} {escape(_clean(story.author))}")
    return " · ".join(parts)


def _rules_line(hits: Sequence[RuleHit], locale: str) -> str:
    words = labels(locale)
    rules = []
    for hit in hits:
        score = f" ({words['score']} {hit.score:g})" if isinstance(hit.score, (int, float)) else ""
        rules.append(f"{escape(hit.rule_name)}{score}")
    label = words["rules"] if len(rules) > 1 else words["rule"]
    return f"*{label}:* " + "; ".join(rules)


def also_in_line(outlets: Sequence[tuple[str, str]], locale: str) -> str:
    """``También en: Milenio, Infobae`` with each outlet linked to its copy."""
    names = [link(url, outlet) for outlet, url in outlets]
    return f"{labels(locale)['also_in']}: " + ", ".join(names) if names else ""


# -- messages ----------------------------------------------------------------------------


# The rules list decisive terms first (context words last): an analyst reads the first few.
SHOWN_TERMS = 8


def _first(values: Sequence[str], count: int) -> str:
    shown = ", ".join(escape(v) for v in values[:count])
    return shown + (f" (+{len(values) - count})" if len(values) > count else "")


def story_message(
    story: Story, hits: Sequence[RuleHit], *, locale: str = "es", also_in: Sequence[tuple[str, str]] = ()
) -> Message:
    """The top-level alert: linked title, byline, rules and score, terms, bold snippet, copies."""
    words = labels(locale)
    title = _clean(story.title) or words["untitled"]
    blocks = [section(f"*{link(story.url, title)}*"), context(_byline(story, locale))]
    details = [_rules_line(hits, locale)]
    terms = _unique(t for hit in hits for t in hit.terms)
    entities = _unique(e for hit in hits for e in hit.entities)
    if terms:
        details.append(f"*{words['terms']}:* " + _first(terms, SHOWN_TERMS))
    if entities:
        details.append(f"*{words['entities']}:* " + _first(entities, SHOWN_TERMS))
    blocks.append(section("\n".join(details)))
    snippet = _snippet(story, hits)
    if snippet:
        blocks.append(section("> " + snippet))
    if also_in:
        blocks.append(context(also_in_line(also_in, locale)))
    fallback = f"{truncate(escape(title), TITLE_CHARS)} — {escape(_clean(story.outlet))}"
    rule_names = ", ".join(escape(hit.rule_name) for hit in hits)
    if rule_names:
        fallback += f" [{rule_names}]"
    fallback += f" {escape_url(story.url)}"
    return Message(text=truncate(fallback, TEXT_LIMIT), blocks=fit(blocks))


def copy_message(story: Story, *, locale: str = "es") -> Message:
    """A thread reply for one syndicated copy: the outlet, its headline linked, its date."""
    words = labels(locale)
    title = _clean(story.title) or words["untitled"]
    line = f"{words['copy_in']} *{escape(_clean(story.outlet))}*: {link(story.url, title)}"
    date = format_date(story.published_at, locale)
    blocks = [section(line)] + ([context(date)] if date else [])
    text = f"{words['copy_in']} {escape(_clean(story.outlet))}: {truncate(escape(title), TITLE_CHARS)} {escape_url(story.url)}"
    return Message(text=truncate(text, TEXT_LIMIT), blocks=blocks)


def copies_message(groups: Sequence[tuple[Story, Sequence[Story]]], *, locale: str = "es") -> Message:
    """Webhook mode has no threads: copies of earlier stories, listed under each story's title."""
    words = labels(locale)
    blocks: list[dict[str, Any]] = [section(f"*{words['copies_later']}*")]
    lines = []
    for parent, copies in groups:
        outlets = ", ".join(link(c.url, _clean(c.outlet)) for c in copies)
        title = _clean(parent.title) or words["untitled"]
        lines.append(f"• {link(parent.url, title)} — {words['also_in']}: {outlets}")
    blocks.extend(_chunked_sections(lines, BLOCK_LIMIT - 2))
    text = words["copies_later"] + ": " + "; ".join(
        f"{escape(_clean(p.title))} ({', '.join(escape(_clean(c.outlet)) for c in cs)})" for p, cs in groups
    )
    return Message(text=truncate(text, TEXT_LIMIT), blocks=fit(blocks))


def digest_message(
    title: str, by_rule: Sequence[tuple[str, Sequence[tuple[Story, Sequence[Story]]]]], *, locale: str = "es"
) -> Message:
    """One message for a digest period: stories grouped by rule, copies named beside each."""
    words = labels(locale)
    blocks: list[dict[str, Any]] = [header(title)]
    total = 0
    text_parts = [title]
    budget = BLOCK_LIMIT - 1
    for rule_name, stories in by_rule:
        if budget < 2:
            break
        lines = []
        for story, copies in stories:
            total += 1
            line = f"• {link(story.url, _clean(story.title) or words['untitled'])} — {escape(_clean(story.outlet))}"
            if copies:
                line += f" ({words['also_in']}: {', '.join(escape(_clean(c.outlet)) for c in copies)})"
            lines.append(line)
            text_parts.append(f"{escape(_clean(story.title))} — {escape(_clean(story.outlet))}")
        rule_blocks = _chunked_sections(lines, budget - 1, first=f"*{escape(rule_name)}* ({len(stories)})")
        blocks.extend(rule_blocks)
        budget -= len(rule_blocks)
    return Message(text=truncate("\n".join(text_parts), TEXT_LIMIT), blocks=fit(blocks))


def _chunked_sections(lines: Sequence[str], max_blocks: int, first: str = "") -> list[dict[str, Any]]:
    """Lines packed into as few sections as fit 3,000 chars each, within ``max_blocks``."""
    chunks: list[str] = []
    current = first
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_LIMIT and current:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    if len(chunks) > max_blocks:
        dropped = sum(c.count("\n") + 1 for c in chunks[max_blocks - 1 :])
        chunks = chunks[: max_blocks - 1] + [f"… (+{dropped})"]
    return [section(c) for c in chunks if max_blocks > 0]
