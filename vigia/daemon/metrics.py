"""The daemon's Prometheus metrics, in a registry of its own.

A private ``CollectorRegistry`` (not the process-global default) so that tests can
start several daemons in one process and so that only what we mean to publish is
published. Metric names follow Prometheus conventions: ``_total`` for counters,
``_seconds`` for durations and timestamps.

Per source, only what a user reads per source: polls by outcome, articles by stage, last
success, failures in a row, interval, the last poll's duration. The duration histogram is
by source type: by source it was 22,400 series at 1,400 sources, 2.8 MB a scrape.
The per-source series are plain numbers here, each metric a custom collector that builds
its family when /metrics is read (prometheus_client's documented way for values kept
elsewhere): its own labelled children cost an object and a lock per value, about 10 KB a
source. Everything runs on the daemon's event loop: no locks. No ``_created`` series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Polls last from milliseconds (a 304) to minutes (a big sitemap).
CRAWL_BUCKETS = (0.01, 0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, float("inf"))


class CounterValue:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("counters can only be incremented by non-negative amounts")
        self.value += amount


class GaugeValue:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = float(value)


V = TypeVar("V", CounterValue, GaugeValue)


class Series(Collector, Generic[V]):
    """One metric by labels, ``labels(*values)`` giving the value to change, as in prometheus_client."""

    value_type: Callable[[], V]
    family_type: type[CounterMetricFamily] | type[GaugeMetricFamily]

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...], registry: CollectorRegistry) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.values: dict[tuple[str, ...], V] = {}
        registry.register(self)

    def labels(self, *values: object) -> V:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, not {values!r}")
        key = tuple(str(value) for value in values)
        found = self.values.get(key)
        if found is None:
            found = self.values[key] = self.value_type()
        return found

    def remove(self, *values: object) -> None:
        del self.values[tuple(str(value) for value in values)]

    def collect(self) -> Iterable[Metric]:
        family = self.family_type(self.name, self.documentation, labels=self.labelnames)
        for key, value in self.values.items():
            family.add_metric(key, value.value)
        return [family]


class CounterSeries(Series[CounterValue]):
    value_type = CounterValue
    family_type = CounterMetricFamily


class GaugeSeries(Series[GaugeValue]):
    value_type = GaugeValue
    family_type = GaugeMetricFamily


class DaemonMetrics:
    def __init__(self) -> None:
        disable_created_metrics()  # a `_created` twin of every counter and histogram doubles the page for nothing
        self.registry = CollectorRegistry()
        r = self.registry
        self.crawls = CounterSeries(
            "vigia_crawls", "Polls of a source, by outcome (ok, not_modified, failed, timeout, crashed, stopped, unavailable).",
            ("source", "outcome"), r,
        )
        self.crawl_duration = Histogram(
            "vigia_crawl_duration_seconds", "Wall time of one poll, from its listing request to its last article, by source type.",
            ["type"], buckets=CRAWL_BUCKETS, registry=r,
        )
        self.last_duration = GaugeSeries(
            "vigia_source_last_poll_duration_seconds", "Wall time of the source's last poll.", ("source",), r
        )
        self.articles = CounterSeries(
            "vigia_articles", "Articles by stage: fetched, new (first seen), matched (by a rule).", ("source", "stage"), r
        )
        self.alerts_sent = Counter(
            "vigia_alerts_sent", "Slack messages posted, by kind (story, thread, update, digest).", ["kind"], registry=r
        )
        self.alerts_failed = Gauge(
            "vigia_alerts_failed", "Alerts that failed for good and wait for `vigia alerts retry`.", registry=r
        )
        self.alerts_pending = Gauge("vigia_alerts_pending", "Alerts waiting in the outbox after the last delivery.", registry=r)
        self.last_success = GaugeSeries(
            "vigia_source_last_success_timestamp_seconds", "When the source last answered (Unix time).", ("source",), r
        )
        self.consecutive_failures = GaugeSeries(
            "vigia_source_consecutive_failures", "Failed crawls in a row; 0 once the source answers.", ("source",), r
        )
        self.poll_interval = GaugeSeries(
            "vigia_source_poll_interval_seconds", "The adapted wait between two crawls of the source.", ("source",), r
        )
        self.skipped_ticks = CounterSeries(
            "vigia_poll_ticks_skipped", "Ticks that found the source's previous poll still running (not started twice).",
            ("source",), r,
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
