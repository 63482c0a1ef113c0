"""The daemon's Prometheus metrics, in a registry of its own.

A private ``CollectorRegistry`` (not the process-global default) so that tests can
start several daemons in one process and so that only what we mean to publish is
published. Metric names follow Prometheus conventions: ``_total`` for counters,
``_seconds`` for durations and timestamps.

Series per source are kept to what a user reads per source (polls by outcome, articles by
stage, last success, failures in a row, interval, last poll's duration): with thousands of
sources, a per-source histogram alone was 22,400 series, 12 MB in the daemon and seconds of
CPU per scrape. The duration histogram is by source type; ``_created`` series are off.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Polls last from milliseconds (a 304) to minutes (a big sitemap).
CRAWL_BUCKETS = (0.01, 0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, float("inf"))


class DaemonMetrics:
    def __init__(self) -> None:
        disable_created_metrics()  # a `_created` twin of every counter series doubles the page for nothing
        self.registry = CollectorRegistry()
        r = self.registry
        self.crawls = Counter(
            "vigia_crawls", "Polls of a source, by outcome (ok, not_modified, failed, timeout, crashed, stopped, unavailable).",
            ["source", "outcome"], registry=r,
        )
        self.crawl_duration = Histogram(
            "vigia_crawl_duration_seconds", "Wall time of one poll, from its listing request to its last article, by source type.",
            ["type"], buckets=CRAWL_BUCKETS, registry=r,
        )
        self.last_duration = Gauge(
            "vigia_source_last_poll_duration_seconds", "Wall time of the source's last poll.", ["source"], registry=r
        )
        self.articles = Counter(
            "vigia_articles", "Articles by stage: fetched, new (first seen), matched (by a rule).",
            ["source", "stage"], registry=r,
        )
        self.alerts_sent = Counter(
            "vigia_alerts_sent", "Slack messages posted, by kind (story, thread, update, digest).", ["kind"], registry=r
        )
        self.alerts_failed = Gauge(
            "vigia_alerts_failed", "Alerts that failed for good and wait for `vigia alerts retry`.", registry=r
        )
        self.alerts_pending = Gauge("vigia_alerts_pending", "Alerts waiting in the outbox after the last delivery.", registry=r)
        self.last_success = Gauge(
            "vigia_source_last_success_timestamp_seconds", "When the source last answered (Unix time).", ["source"], registry=r
        )
        self.consecutive_failures = Gauge(
            "vigia_source_consecutive_failures", "Failed crawls in a row; 0 once the source answers.", ["source"], registry=r
        )
        self.poll_interval = Gauge(
            "vigia_source_poll_interval_seconds", "The adapted wait between two crawls of the source.", ["source"], registry=r
        )
        self.skipped_ticks = Counter(
            "vigia_poll_ticks_skipped", "Ticks that found the source's previous poll still running (not started twice).",
            ["source"], registry=r,
        )
        self.up = Gauge("vigia_daemon_up", "1 while the scheduler and the dispatcher are alive.", registry=r)

    def forget_source(self, name: str) -> None:
        """A source left the config: stop publishing its series."""
        for gauge in (self.last_success, self.consecutive_failures, self.poll_interval, self.last_duration):
            try:
                gauge.remove(name)
            except KeyError:
                pass

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
