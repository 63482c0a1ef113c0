"""The Slack channels table: one row per configured channel, whichever dispatcher writes it first."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from alerts import outbox
from storage.db import open_database
from storage.models import SlackChannel

DISPATCHERS = 8


def test_dispatchers_that_learn_a_channel_id_at_once_keep_one_row(db_url: str) -> None:
    engine, maker = open_database(db_url)
    start, errors = threading.Barrier(DISPATCHERS), []

    def learn(channel_id: str) -> None:
        with maker() as session:
            start.wait()
            try:
                outbox.remember_channel_id(session, "#seguridad", channel_id)
            except Exception as exc:  # what a dispatcher would die of
                errors.append(exc)

    threads = [threading.Thread(target=learn, args=("C0SEGURIDAD",)) for _ in range(DISPATCHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with maker() as session:
        assert errors == []
        assert session.scalar(select(func.count()).select_from(SlackChannel)) == 1
        assert outbox.known_channel_id(session, "#seguridad") == "C0SEGURIDAD"
    engine.dispose()


def test_blocking_a_channel_whose_id_is_known_keeps_the_id(db_url: str) -> None:
    engine, maker = open_database(db_url)
    with maker() as session:
        outbox.remember_channel_id(session, "#seguridad", "C0SEGURIDAD")
        outbox.block_channel(session, "#seguridad", "channel_not_found", datetime(2026, 12, 1, tzinfo=UTC))
        outbox.block_channel(session, "#otro", "not_in_channel", datetime(2026, 12, 1, tzinfo=UTC))
    with maker() as session:
        assert outbox.blocked_channels(session) == {"#seguridad": "channel_not_found", "#otro": "not_in_channel"}
        assert outbox.known_channel_id(session, "#seguridad") == "C0SEGURIDAD"
    engine.dispose()
