"""The demo's Slack channel: a dispatcher ``Sender`` that keeps each message, printed at the end.

The demo needs no Slack workspace, so its alerts go through the real dispatcher and outbox
(threads for syndicated copies, "También en" edits) into this instead of the Web API.
Nothing is printed as it arrives: a syndicated copy comes after other stories, and printed
live its reply would land under the wrong message. :meth:`DemoChannel.print` shows the
channel as a reader finally sees it: every message after its edits, each thread under its
parent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from alerts.client import Posted
from alerts.errors import SlackMessageRejected
from vigia.slack_text import render_message


@dataclass
class DemoMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    replies: list[DemoMessage] = field(default_factory=list)

    def shown(self) -> str:
        return render_message({"channel_name": self.channel.lstrip("#"), "ts": self.ts, "text": self.text,
                               "blocks": self.blocks, "thread_ts": self.thread_ts})


class DemoChannel:
    """Records posts and edits as Slack would keep them; never answers a history search."""

    threads = True
    history = False  # nothing was posted anywhere, so there is nothing to look for
    paced = False

    def __init__(self) -> None:
        self.messages: list[DemoMessage] = []  # top-level, in the order posted
        self._by_ts: dict[str, DemoMessage] = {}
        self._lock = threading.Lock()
        self._epoch = int(time.time())

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None = None,
             metadata: dict[str, Any] | None = None) -> Posted:
        with self._lock:
            ts = f"{self._epoch}.{len(self._by_ts) + 1:06d}"
            message = DemoMessage(channel, ts, text, blocks, thread_ts)
            self._by_ts[ts] = message
            parent = self._by_ts.get(thread_ts) if thread_ts else None
            (parent.replies if parent is not None else self.messages).append(message)
        # No channel id: the outbox addresses the channel by its name, as in a dry run.
        return Posted(channel_id=None, ts=ts)

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        with self._lock:
            message = self._by_ts.get(ts)
            if message is None:
                raise SlackMessageRejected("message_not_found", f"no message {ts!r} in {channel_id}")
            message.text, message.blocks = text, blocks

    def find(self, channel: str, key: str, oldest: float, thread_ts: str | None = None) -> Posted | None:
        return None

    @property
    def replies(self) -> int:
        return sum(len(message.replies) for message in self.messages)

    def print(self, out: TextIO) -> None:
        for message in self.messages:
            print(message.shown(), file=out)
            for reply in message.replies:
                print(reply.shown(), file=out)
