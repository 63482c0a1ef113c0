"""The daemon's delivery loop at shutdown (issue 10, item 1): finish the post, or leave it reconcilable.

The real dispatcher against a slow Slack stand-in: stopping with little time left must not
cut a post off mid-way when it can finish, must start no new post, and must leave every
alert either sent or plainly pending — never stuck in `sending`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from alerts.dispatcher import SHUTDOWN, deliver_pending
from storage.db import open_database
from tests.support.slack_standin import SlackStandIn
from tests.test_alerts_dispatcher import T0, add, alerts, settings
from vigia.daemon.delivery_loop import DeliveryLoop
from vigia.daemon.metrics import DaemonMetrics


@pytest.fixture
def db(migrated_sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine, maker = open_database(migrated_sqlite_url)
    yield maker
    engine.dispose()
    SHUTDOWN.clear()


def test_a_stop_near_the_deadline_finishes_the_post_in_flight_and_starts_no_other(db, caplog) -> None:
    for index in range(6):
        add(db, f"cierre-{index}", title=f"Nota {index}", text=f"Texto {index} sobre fentanilo.",
            now=T0 + timedelta(seconds=index))
    with SlackStandIn(token="xoxb-test") as slack:
        slack.slow_down(0.6)
        loop_settings = settings(slack)

        async def scenario() -> None:
            loop = DeliveryLoop(lambda: deliver_pending(db, loop_settings), DaemonMetrics(), period=0.1)
            loop.start()
            while not slack.calls_to("chat.postMessage"):
                await asyncio.sleep(0.02)
            await loop.stop(flush_timeout=1.5)

        asyncio.run(scenario())
        posted = len(slack.calls_to("chat.postMessage"))
    rows = alerts(db)
    assert 1 <= posted < 6  # stopped before the end...
    assert [r.status for r in rows].count("sent") == posted == len(slack.messages)  # ...each post finished
    assert all(r.status in ("sent", "pending") for r in rows)  # nothing left in `sending`
    assert all(r.unconfirmed_since is None for r in rows)  # and nothing left in doubt


def test_a_post_still_unanswered_at_the_deadline_stays_reconcilable(db, caplog) -> None:
    add(db, "colgado")
    with SlackStandIn(token="xoxb-test") as slack:
        slack.slow_down(4)
        loop_settings = settings(slack)

        async def scenario() -> None:
            loop = DeliveryLoop(lambda: deliver_pending(db, loop_settings), DaemonMetrics(), period=0.1)
            loop.start()
            while not slack.calls_to("chat.postMessage"):
                await asyncio.sleep(0.02)
            await loop.stop(flush_timeout=0.5)

        with caplog.at_level(logging.WARNING, logger="vigia.daemon.delivery"):
            asyncio.run(scenario())
        assert "checks Slack's history before posting it" in caplog.text
        [row] = alerts(db)
        assert row.status == "sending" and row.unconfirmed_since is not None  # claimed, in doubt: recoverable
        slack.slow_down(None)
