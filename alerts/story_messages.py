"""An article and its matches as one readable Slack message, and a syndicated copy as a thread reply.

The story message reads top to bottom: linked title, byline, rules and scores, terms and
entities, the snippet with its matched words in bold, then the outlets that carried the
story too. Page text is escaped (alerts.mrkdwn) and every block fits Slack's limits
(alerts.blocks).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.blocks import TEXT_LIMIT, Message, context, fit, section
from alerts.labels import format_date, labels
from alerts.mrkdwn import TITLE_CHARS, clean, escape, escape_url, link, truncate
from alerts.snippets import bold_snippet, highlight_terms, lead_sentences

# The rules list decisive terms first (context words last): an analyst reads the first few.
SHOWN_TERMS = 8


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
        snippet = data.get("snippet")
        return cls(
            rule_id=rule_id,
            rule_name=str(rule_name or data.get("rule_name") or rule_id),
            score=score if score is not None else data.get("score"),
            terms=[str(t) for t in data.get("terms") or [] if t],
            entities=[str(e) for e in data.get("entities") or [] if e],
            snippet=str(snippet) if snippet else None,
            highlights=_highlights(data.get("snippet_highlights")),
        )


def _highlights(raw: Any) -> list[tuple[int, int]]:
    """``[[start, end], ...]`` as stored by the matcher; anything unreadable is skipped."""
    highlights: list[tuple[int, int]] = []
    for pair in raw or []:
        try:
            start, end = int(pair[0]), int(pair[1])
        except (TypeError, ValueError, IndexError):
            continue
        highlights.append((start, end))
    return highlights


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


def story_message(
    story: Story, hits: Sequence[RuleHit], *, locale: str = "es", also_in: Sequence[tuple[str, str]] = ()
) -> Message:
    """The top-level alert: linked title, byline, rules and score, terms, bold snippet, copies."""
    title = clean(story.title) or labels(locale)["untitled"]
    blocks = [section(f"*{link(story.url, title)}*"), context(_byline(story, locale)), section(_details(hits, locale))]
    snippet = snippet_for(story, hits)
    if snippet:
        blocks.append(section("> " + snippet))
    if also_in:
        blocks.append(context(also_in_line(also_in, locale)))
    fallback = f"{truncate(escape(title), TITLE_CHARS)} — {escape(clean(story.outlet))}"
    rule_names = ", ".join(escape(hit.rule_name) for hit in hits)
    if rule_names:
        fallback += f" [{rule_names}]"
    fallback += f" {escape_url(story.url)}"
    return Message(text=truncate(fallback, TEXT_LIMIT), blocks=fit(blocks))


def copy_message(story: Story, *, locale: str = "es") -> Message:
    """A thread reply for one syndicated copy: the outlet, its headline linked, its date."""
    words = labels(locale)
    title = clean(story.title) or words["untitled"]
    line = f"{words['copy_in']} *{escape(clean(story.outlet))}*: {link(story.url, title)}"
    date = format_date(story.published_at, locale)
    blocks = [section(line)] + ([context(date)] if date else [])
    text = f"{words['copy_in']} {escape(clean(story.outlet))}: {truncate(escape(title), TITLE_CHARS)} {escape_url(story.url)}"
    return Message(text=truncate(text, TEXT_LIMIT), blocks=blocks)


def also_in_line(outlets: Sequence[tuple[str, str]], locale: str) -> str:
    """``También en: Milenio, Infobae`` with each outlet linked to its copy."""
    names = [link(url, outlet) for outlet, url in outlets]
    return f"{labels(locale)['also_in']}: " + ", ".join(names) if names else ""


def snippet_for(story: Story, hits: Sequence[RuleHit]) -> str:
    """The first hit's own snippet; failing that, the article's lead with every hit's terms in bold."""
    for hit in hits:
        if hit.snippet:
            spans = hit.highlights or highlight_terms(hit.snippet, hit.terms + hit.entities)
            return bold_snippet(hit.snippet, spans)
    terms = [t for hit in hits for t in hit.terms + hit.entities]
    text = lead_sentences(story.text) or lead_sentences(story.summary)
    return bold_snippet(text, highlight_terms(text, terms)) if text else ""


def _byline(story: Story, locale: str) -> str:
    words = labels(locale)
    parts = [f"*{escape(clean(story.outlet))}*"]
    date = format_date(story.published_at, locale)
    if date:
        parts.append(date)
    if story.author:
        parts.append(f"{words['by']} {escape(clean(story.author))}")
    return " · ".join(parts)


def _details(hits: Sequence[RuleHit], locale: str) -> str:
    """The rules line, then the first terms and entities found."""
    words = labels(locale)
    details = [_rules_line(hits, locale)]
    terms = _unique(t for hit in hits for t in hit.terms)
    entities = _unique(e for hit in hits for e in hit.entities)
    if terms:
        details.append(f"*{words['terms']}:* " + _first(terms, SHOWN_TERMS))
    if entities:
        details.append(f"*{words['entities']}:* " + _first(entities, SHOWN_TERMS))
    return "\n".join(details)


def _rules_line(hits: Sequence[RuleHit], locale: str) -> str:
    words = labels(locale)
    rules = []
    for hit in hits:
        score = f" ({words['score']} {hit.score:g})" if isinstance(hit.score, (int, float)) else ""
        rules.append(f"{escape(hit.rule_name)}{score}")
    label = words["rules"] if len(rules) > 1 else words["rule"]
    return f"*{label}:* " + "; ".join(rules)


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


def _first(values: Sequence[str], count: int) -> str:
    shown = ", ".join(escape(v) for v in values[:count])
    return shown + (f" (+{len(values) - count})" if len(values) > count else "")
