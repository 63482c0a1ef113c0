"""Messages that list several stories at once: a digest period, and webhook mode's late copies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerts.blocks import (
    BLOCK_LIMIT,
    TEXT_LIMIT,
    Message,
    chunked_sections,
    fit,
    header,
    section,
)
from alerts.labels import labels
from alerts.mrkdwn import clean, escape, link, truncate
from alerts.story_messages import Story

# A story and the copies other outlets published of it.
StoryWithCopies = tuple[Story, Sequence[Story]]


def digest_message(
    title: str, by_rule: Sequence[tuple[str, Sequence[StoryWithCopies]]], *, locale: str = "es"
) -> Message:
    """One message for a digest period: stories grouped by rule, copies named beside each."""
    words = labels(locale)
    blocks: list[dict[str, Any]] = [header(title)]
    text_parts = [title]
    budget = BLOCK_LIMIT - 1
    for rule_name, stories in by_rule:
        if budget < 2:
            break
        lines = [_digest_line(story, copies, words) for story, copies in stories]
        text_parts.extend(f"{escape(clean(story.title))} — {escape(clean(story.outlet))}" for story, _ in stories)
        rule_blocks = chunked_sections(lines, budget - 1, first=f"*{escape(rule_name)}* ({len(stories)})")
        blocks.extend(rule_blocks)
        budget -= len(rule_blocks)
    return Message(text=truncate("\n".join(text_parts), TEXT_LIMIT), blocks=fit(blocks))


def _digest_line(story: Story, copies: Sequence[Story], words: dict[str, str]) -> str:
    line = f"• {link(story.url, clean(story.title) or words['untitled'])} — {escape(clean(story.outlet))}"
    if copies:
        line += f" ({words['also_in']}: {', '.join(escape(clean(c.outlet)) for c in copies)})"
    return line


def copies_message(groups: Sequence[StoryWithCopies], *, locale: str = "es") -> Message:
    """Webhook mode has no threads: copies of earlier stories, listed under each story's title."""
    words = labels(locale)
    blocks: list[dict[str, Any]] = [section(f"*{words['copies_later']}*")]
    lines = []
    for parent, copies in groups:
        outlets = ", ".join(link(c.url, clean(c.outlet)) for c in copies)
        title = clean(parent.title) or words["untitled"]
        lines.append(f"• {link(parent.url, title)} — {words['also_in']}: {outlets}")
    blocks.extend(chunked_sections(lines, BLOCK_LIMIT - 2))
    text = words["copies_later"] + ": " + "; ".join(
        f"{escape(clean(p.title))} ({', '.join(escape(clean(c.outlet)) for c in cs)})" for p, cs in groups
    )
    return Message(text=truncate(text, TEXT_LIMIT), blocks=fit(blocks))
