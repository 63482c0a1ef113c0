"""Slack messages as plain text, roughly as the Slack client shows them.

``vigia crawl --dry-run`` prints each message this way instead of posting it, ``vigia
demo`` prints its channel this way, and the tests' Slack stand-in can print what it is
sent. A message is a dict with Slack's keys (``text``, ``blocks``, ``ts``, ``thread_ts``)
and the channel's name as ``channel_name``.
"""

from __future__ import annotations

import re
from typing import Any

_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>|<([^<>]+)>")


def mrkdwn_to_plain(text: str) -> str:
    """Slack mrkdwn as a reader sees it: links show their label, entities are unescaped."""

    def link(match: re.Match[str]) -> str:
        if match.group(1):
            return f"{match.group(2)} ({match.group(1)})"
        target = match.group(3)
        if target.startswith("!"):
            return "@" + target[1:].split("|")[0]  # a real ping: visible on purpose
        return target

    text = _LINK.sub(link, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _block_lines(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = str((block.get("text") or {}).get("text") or "")
        return [title, "─" * min(len(title), 60)]
    if kind == "section":
        lines = []
        if block.get("text"):
            lines.append(mrkdwn_to_plain(str(block["text"].get("text") or "")))
        for item in block.get("fields") or []:
            lines.append(mrkdwn_to_plain(str(item.get("text") or "")))
        return "\n".join(lines).splitlines()
    if kind == "context":
        parts = [mrkdwn_to_plain(str(e.get("text") or "")) for e in block.get("elements") or [] if "text" in e]
        return [" · ".join(parts)]
    if kind == "divider":
        return ["· · ·"]
    if kind == "rich_text":
        return []
    return [f"[{kind}]"]


def render_message(message: dict[str, Any], *, edited: bool = False) -> str:
    """One message as plain text; thread replies are indented under their parent."""
    blocks = message.get("blocks") or []
    lines: list[str] = []
    for block in blocks:
        lines.extend(_block_lines(block))
    if not lines:
        lines = mrkdwn_to_plain(str(message.get("text") or "")).splitlines()
    channel = message.get("channel_name") or message.get("channel")
    if message.get("thread_ts"):
        head = f"    ↳ en el hilo de {message['thread_ts']} (#{channel})"
        body = ["    │ " + line for line in lines]
    else:
        head = f"#{channel}  ts={message.get('ts')}" + ("  (editado)" if edited else "")
        body = ["  " + line for line in lines]
    return "\n".join([head, *body, ""])
