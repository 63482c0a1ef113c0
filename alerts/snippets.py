"""Snippet text for a story message: matched spans in bold, or an article's lead sentences when no snippet came."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from alerts.mrkdwn import escape, truncate

SNIPPET_CHARS = 420


def bold_snippet(snippet: str, highlights: Sequence[tuple[int, int]]) -> str:
    """The snippet escaped, with each highlighted span in bold (overlaps merged)."""
    out: list[str] = []
    position = 0
    for start, end in _merged(highlights, len(snippet)):
        out.append(escape(snippet[position:start]))
        out.append(_bold(snippet[start:end]))
        position = end
    out.append(escape(snippet[position:]))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _merged(highlights: Sequence[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """The spans clipped to the snippet, sorted, overlapping ones joined."""
    spans = sorted((max(0, s), min(length, e)) for s, e in highlights if e > s)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif start < length:
            merged.append((start, end))
    return merged


def _bold(span: str) -> str:
    word = escape(span.replace("*", "").strip())
    if not word:
        return ""
    # Slack only renders *bold* at word edges; keep the spaces outside the stars.
    lead = " " if span[:1].isspace() else ""
    trail = " " if span[-1:].isspace() else ""
    return f"{lead}*{word}*{trail}"


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
