"""``vigia sources``: each source's health, as the last crawls left it."""

from __future__ import annotations

from datetime import datetime
from typing import TextIO

from sqlalchemy import select

from storage.models import Source
from vigia.config import Config
from vigia.database import open_config_database
from vigia.errors import ExitStatus


def sources_command(config: Config, out: TextIO, err: TextIO) -> int:
    _, sessions = open_config_database(config)
    with sessions() as session:
        stored = {s.name: s for s in session.scalars(select(Source))}
    print(f"{'source':<28} {'type':<8} {'health':<11} {'last success':<20} {'failures':>8}  last error", file=out)
    for configured in config.sources:
        source = stored.get(configured.name)
        if source is None:
            print(f"{configured.name:<28} {configured.type:<8} {'never':<11} {'-':<20} {0:>8}", file=out)
            continue
        health = "ok" if source.consecutive_failures == 0 else "failing"
        if source.quarantined_at is not None:
            health = "quarantined"  # the crawl worker kept dying with it in flight; see the log
        error = (source.last_error or "").splitlines()[0][:80] if source.consecutive_failures else ""
        print(
            f"{configured.name:<28} {configured.type:<8} {health:<11} {_when(source.last_success_at):<20} "
            f"{source.consecutive_failures:>8}  {error}",
            file=out,
        )
    return ExitStatus.SUCCESS


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
