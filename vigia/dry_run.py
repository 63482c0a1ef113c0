"""Dry runs: each Slack message printed as Slack would show it, nothing posted.

``vigia crawl --dry-run`` and ``vigia run --dry-run`` hand the dispatcher this sender
instead of a WebClient, so everything else (the outbox, threads for syndicated copies,
the "También en" edits, digests) goes exactly as in a real run and a user can watch real
outlets before creating a Slack app. The rendering is vigia.slack_text's (what ``vigia
demo`` prints). The outbox records the printed alerts as delivered, so a
daemon does not print them again on its next round.
"""

from __future__ import annotations

import threading
import time
from typing import Any, TextIO

from alerts.client import Posted
from vigia.slack_text import render_message


class PrintingSender:
    """A dispatcher ``Sender`` that writes each message to a stream instead of Slack."""

    threads = True
    history = False  # nothing was posted, so there is nothing to look for in a channel
    paced = False  # nor does anything reach Slack: every message is printed at once

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()  # the daemon delivers from a thread
        self._counter = 0
        self._epoch = int(time.time())
        self._titles: dict[str, str] = {}  # ts -> first line, to name a reply's parent

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Posted:
        with self._lock:
            self._counter += 1
            ts = f"{self._epoch}.{self._counter:06d}"
            name = _channel_name(channel)
            shown = render_message({"channel_name": name, "ts": ts, "text": text, "blocks": blocks, "thread_ts": thread_ts})
            lines = shown.splitlines()
            if thread_ts:
                parent = self._titles.get(thread_ts)
                lines[0] = f"    ↳ en el hilo de «{parent}» (#{name})" if parent else lines[0]
            else:
                lines[0] = f"[dry run: not posted] #{name}"
                self._titles[ts] = next((line.strip() for line in lines[1:] if line.strip()), ts)
            self._write("\n".join(lines) + "\n")
        # No channel id: nothing is recorded as a real Slack channel, and a later real run that
        # meets a copy of a printed story addresses the channel by its name, never a made-up id.
        return Posted(channel_id=None, ts=ts)

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        with self._lock:
            title = self._titles.get(ts, ts)
            self._write(f"    ✎ «{title}» edited: {_also_in(blocks) or 'new text'}\n")

    def find(self, channel: str, key: str, oldest: float, thread_ts: str | None = None) -> Posted | None:
        return None

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _channel_name(channel: str) -> str:
    return channel.lstrip("#")


def _also_in(blocks: list[dict[str, Any]]) -> str:
    """The "También en" line of an edited story, the part an edit changes."""
    shown = render_message({"channel_name": "", "ts": "", "text": "", "blocks": blocks, "thread_ts": None})
    return next((line.strip() for line in shown.splitlines() if "También en" in line or "Also in" in line), "")
