"""Adaptive polling: how long to wait before crawling a source again.

As Miniflux's entry-frequency scheduler does, a source is polled about as often as it
publishes: the expected gap between two of its articles over the last week. Unlike
Miniflux, the interval the user wrote (``every:``) stays the anchor: adaptation may go
at most ``STRETCH`` times faster or slower than it, because an analyst who asked for
ten minutes did not ask for two hours, nor for hammering an outlet every second.
Everything stays within ``daemon.min_every`` .. ``daemon.max_every``.

The pace is measured over the articles the source published in the last week, over the
time they actually span (at least an hour): a feed that lists its last 30 stories of
the past six hours publishes every 12 minutes, not 30 times a week.

A source that fails backs off exponentially (doubling per consecutive failure, up to
``max_every``) and comes back to its normal pace on its first success, because the
failure count is reset by the crawl that succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

RATE_WINDOW = timedelta(days=7)
SHORTEST_SPAN = timedelta(hours=1)
STRETCH = 4.0


@dataclass(frozen=True)
class PollingBounds:
    every: float  # seconds: the configured interval for this source
    min_every: float
    max_every: float

    @property
    def fastest(self) -> float:
        return min(max(self.min_every, self.every / STRETCH), self.max_every)

    @property
    def slowest(self) -> float:
        return max(min(self.max_every, self.every * STRETCH), self.fastest)


@dataclass(frozen=True)
class PublishingRate:
    """How many articles a source published in the window, and the time they span."""

    articles: int
    span: timedelta

    @property
    def gap(self) -> float | None:
        """Seconds between two articles on average; None when nothing was published."""
        if self.articles <= 0:
            return None
        span = min(max(self.span, SHORTEST_SPAN), RATE_WINDOW)
        return span.total_seconds() / self.articles


def publishing_interval(bounds: PollingBounds, rate: PublishingRate | None) -> float:
    """The interval that matches how often the source publishes.

    ``None`` means no history yet (a source never crawled): poll at the configured pace.
    """
    if rate is None:
        return _clamp(bounds.every, bounds.fastest, bounds.slowest)
    gap = rate.gap
    if gap is None:
        return bounds.slowest
    return _clamp(gap, bounds.fastest, bounds.slowest)


def backoff_interval(interval: float, consecutive_failures: int, max_every: float) -> float:
    """Double the wait per consecutive failure, never past ``max_every`` (nor below ``interval``)."""
    if consecutive_failures <= 0:
        return interval
    # Cap the exponent: 2**64 seconds is no more useful than max_every and overflows floats later.
    return max(interval, min(interval * 2.0 ** min(consecutive_failures, 32), max_every))


def next_interval(bounds: PollingBounds, rate: PublishingRate | None, consecutive_failures: int) -> float:
    """The wait before the next crawl, in seconds: publishing pace, then failure back-off."""
    return backoff_interval(publishing_interval(bounds, rate), consecutive_failures, bounds.max_every)


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
