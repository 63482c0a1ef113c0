"""A source's schedule: a tick that finds its poll still running starts nothing, says nothing, and is counted."""

from __future__ import annotations

import asyncio
import logging

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from vigia.daemon.schedule import SourceSchedule


async def until(check, what: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_tick_during_a_running_poll_is_skipped_quietly_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    started: list[str] = []
    skipped: list[str] = []

    async def scenario() -> None:
        release = asyncio.Event()

        async def crawl(name: str) -> None:
            started.append(name)
            await release.wait()

        scheduler = AsyncIOScheduler(timezone="UTC")
        schedule = SourceSchedule(scheduler, crawl, skipped.append)
        scheduler.start()
        try:
            schedule.put("Diario", 0.1, None)
            await until(lambda: len(skipped) >= 3, "three ticks during the first poll")
            assert started == ["Diario"]  # not started twice
            release.set()
            await until(lambda: len(started) >= 2, "the next tick after the poll ended")
        finally:
            scheduler.shutdown(wait=False)

    with caplog.at_level(logging.INFO):
        asyncio.run(scenario())
    assert set(skipped) == {"Diario"}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]
