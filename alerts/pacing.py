"""Keeping to Slack's pace: about one message a second per channel, short bursts allowed.

A token bucket per channel (a little under one a second, bursts of 3), shared by every delivery run of the process (the daemon
delivers every few seconds; a run must not start with a full burst it used a moment
ago). A 429 empties the channel's bucket until its Retry-After has passed.
"""

from __future__ import annotations

import threading
import time

# A little under Slack's one a second, so network jitter never pushes two posts into one second.
INTERVAL = 1.1  # seconds between messages to one channel (config: slack.pace)
PER_SECOND = 1 / INTERVAL
BURST = 3


class ChannelPacer:
    def __init__(self, per_second: float = PER_SECOND, burst: int = BURST) -> None:
        self.per_second = per_second
        self.burst = burst
        self._lock = threading.Lock()
        # channel -> (tokens, monotonic time of that count)
        self._buckets: dict[str, tuple[float, float]] = {}

    def wait(self, channel: str, stop: threading.Event) -> bool:
        """Block until ``channel`` may take one more message; False if ``stop`` was set meanwhile."""
        while True:
            delay = self._take(channel)
            if delay <= 0:
                return True
            if stop.wait(delay):
                return False

    def hold(self, channel: str, seconds: float) -> None:
        """Slack said 429: nothing more to this channel for ``seconds``."""
        with self._lock:
            # One message may go exactly when the wait is over.
            self._buckets[channel] = (1 - seconds * self.per_second if self.per_second > 0 else 1, time.monotonic())

    def _take(self, channel: str) -> float:
        if self.per_second <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            tokens, then = self._buckets.get(channel, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
            if tokens >= 1:
                self._buckets[channel] = (tokens - 1, now)
                return 0.0
            self._buckets[channel] = (tokens, now)
            return (1 - tokens) / self.per_second
