"""``vigia sources``: each source's health and pace, as the last crawls left them.

The pace is what the daemon's adaptive polling stored on the source row: the interval in
use (which may differ from the configured ``every:``, see vigia/daemon/polling.py) and,
from the last crawl, when the next one is due.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TextIO

from sqlalchemy import select

from storage.models import Source
from vigia.config import Config
from vigia.database import open_config_database
from vigia.durations import format_duration
from vigia.errors import ExitStatus


def sources_command(config: Config, out: TextIO, err: TextIO, *, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    _, sessions = open_config_database(config)
    with sessions() as session:
        stored = {s.name: s for s in session.scalars(select(Source))}
    print(
        f"{'source':<28} {'type':<8} {'health':<11} {'every':>6} {'in use':>7}  {'next poll':<20} "
        f"{'last success':<20} {'failures':>8}  last error",
        file=out,
    )
    for configured in config.sources:
        every = config.source_interval(configured)
        source = stored.get(configured.name)
        if source is None:
            print(f"{configured.name:<28} {configured.type:<8} {'never':<11} {format_duration(every):>6} "
                  f"{format_duration(every):>7}  {'at start':<20} {'-':<20} {0:>8}", file=out)
            continue
        in_use = timedelta(seconds=source.poll_interval) if source.poll_interval else every
        health = "never" if source.last_crawled_at is None else "ok" if source.consecutive_failures == 0 else "failing"
        error = (source.last_error or "").splitlines()[0][:80] if source.consecutive_failures and source.last_error else ""
        if source.quarantined_at is not None:
            health = "quarantined"  # the crawl worker kept dying with it in flight; see the log
        if not error and source.listing_note:
            error = f"note: {source.listing_note[:120]}"
        print(
            f"{configured.name:<28} {configured.type:<8} {health:<11} {format_duration(every):>6} "
            f"{_rounded(in_use):>7}  {_next_poll(source.last_crawled_at, in_use, now):<20} "
            f"{_when(source.last_success_at):<20} {source.consecutive_failures:>8}  {error}",
            file=out,
        )
    print("`in use` is the adaptive interval of `vigia run` (between a quarter of and four times `every`); "
          "`next poll` counts from the last crawl.", file=out)
    return ExitStatus.SUCCESS


def _next_poll(last_crawled: datetime | None, interval: timedelta, now: datetime) -> str:
    if last_crawled is None:
        return "at start"
    due = _aware(last_crawled) + interval
    return "due now" if due <= now else _when(due)


def _rounded(interval: timedelta) -> str:
    # The adaptive pace is a float of seconds (1337.2…); a reader wants 22m.
    seconds = interval.total_seconds()
    return format_duration(timedelta(seconds=round(seconds / 60) * 60 if seconds >= 600 else round(seconds)))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(moment: datetime | None) -> str:
    return _aware(moment).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
