"""Adaptive polling: sources are polled about as often as they publish, and failing ones back off."""

from __future__ import annotations

from datetime import timedelta

from vigia.daemon.polling import PollingBounds, PublishingRate, backoff_interval, next_interval
from vigia.daemon.schedule import jitter_for

TEN_MINUTES = PollingBounds(every=600, min_every=60, max_every=7200)


def rate(articles: int, hours: float = 24 * 7) -> PublishingRate:
    return PublishingRate(articles=articles, span=timedelta(hours=hours))


def test_a_source_never_crawled_is_polled_at_the_configured_pace() -> None:
    assert next_interval(TEN_MINUTES, None, 0) == 600


def test_a_source_that_publishes_often_is_polled_more_often() -> None:
    # 30 stories in the last 6 hours: one every 12 minutes; 200 in a week: one every 50 minutes.
    busy = next_interval(TEN_MINUTES, rate(300, hours=6), 0)
    assert busy < 600
    assert busy == 150  # never faster than a quarter of what the user asked for
    assert next_interval(TEN_MINUTES, rate(30, hours=6), 0) == 720


def test_a_source_that_rarely_publishes_is_polled_less_often_within_bounds() -> None:
    quiet = next_interval(TEN_MINUTES, rate(2), 0)
    silent = next_interval(TEN_MINUTES, rate(0), 0)
    assert 600 < quiet <= 2400
    assert silent == 2400  # four times the configured pace, at most


def test_the_global_bounds_win_over_the_configured_pace() -> None:
    bounds = PollingBounds(every=600, min_every=300, max_every=900)
    assert next_interval(bounds, rate(10_000), 0) == 300
    assert next_interval(bounds, rate(0), 0) == 900


def test_a_failing_source_backs_off_exponentially_up_to_max_every() -> None:
    waits = [next_interval(TEN_MINUTES, None, failures) for failures in range(8)]
    assert waits[:5] == [600, 1200, 2400, 4800, 7200]
    assert waits[5:] == [7200, 7200, 7200]


def test_a_source_recovers_its_pace_on_its_first_success() -> None:
    assert next_interval(TEN_MINUTES, rate(30, hours=6), 0) == 720
    assert backoff_interval(720, 0, 7200) == 720


def test_backoff_survives_a_source_that_failed_for_months() -> None:
    assert backoff_interval(600, 100_000, 7200) == 7200


def test_a_short_burst_counts_as_at_least_an_hour() -> None:
    # The first crawl stores a feed's 40 items "just now": that is not one story every second.
    assert next_interval(PollingBounds(every=2, min_every=1, max_every=60), rate(40, hours=0), 0) == 8


def test_jitter_defaults_to_a_tenth_of_the_interval_capped() -> None:
    assert jitter_for(10, None) == 1
    assert jitter_for(3600, None) == 30
    assert jitter_for(3600, timedelta(seconds=5)) == 5
