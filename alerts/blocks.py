"""Block Kit pieces that always fit Slack's limits: header, section, context, packed lists.

Every message stays inside Slack's limits (header ≤150 chars, section text ≤3,000,
≤50 blocks) with a plain ``text`` fallback for notifications and old clients; the
builders here cut what they are given, so no caller can exceed them. Text reaching
them is already escaped (alerts.mrkdwn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alerts.mrkdwn import truncate

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
BLOCK_LIMIT = 50
TEXT_LIMIT = 3000  # the fallback: Slack truncates very long text; keep it short anyway


@dataclass
class Message:
    text: str
    blocks: list[dict[str, Any]]


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


def chunked_sections(lines: Sequence[str], max_blocks: int, first: str = "") -> list[dict[str, Any]]:
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
        chunks = [*chunks[: max_blocks - 1], f"… (+{dropped})"]
    return [section(c) for c in chunks if max_blocks > 0]
