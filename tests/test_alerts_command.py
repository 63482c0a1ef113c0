"""vigia alerts / vigia alerts retry: the backlog an analyst sees between runs."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from alerts.dispatcher import SlackSettings, deliver_pending
from storage.db import open_database
from storage.queries import store_article
from storage.records import ArticleRecord, MatchRecord
from tests.support.slack_standin import SlackStandIn
from vigia.commands.alerts import alerts_command

T0 = datetime(2026, 3, 2, 15, 7, tzinfo=UTC)


def add(maker, slug: str, channel: str | None = None) -> None:
    url = f"https://www.example.com/{slug}"
    record = ArticleRecord(canonical_url=url, url=url, outlet="Milenio", title=f"Titular {slug}", status="matched",
                           language="es", text="Texto.")
    with maker() as session:
        store_article(session, record, [MatchRecord(rule_id="r", rule_name="R", score=1.0, channel=channel)],
                      alert=True, default_channel="#mon", now=T0)
        session.commit()


def test_backlog_listing_and_retry(migrated_db_url: str) -> None:
    engine, maker = open_database(migrated_db_url)
    out = io.StringIO()
    assert alerts_command(maker, out) == 0
    assert "no pending or failed alerts" in out.getvalue()
    add(maker, "uno")
    add(maker, "dos", channel="#cerrado")
    with SlackStandIn() as slack:
        settings = SlackSettings(token="xoxb", channel="#mon", base_url=slack.url)
        slack.set_error("channel_not_found", channel="#cerrado")
        slack.fail_next(1, status=503)
        deliver_pending(maker, settings, now=T0)
        out = io.StringIO()
        alerts_command(maker, out)
        listing = out.getvalue()
        assert "2 pending" in listing and "Titular uno" in listing and "service_unavailable" in listing
        deliver_pending(maker, settings, now=T0 + timedelta(hours=1))
        out = io.StringIO()
        alerts_command(maker, out)
        listing = out.getvalue()
        assert "blocked channels:" in listing and "#cerrado  channel_not_found" in listing
        assert "1 failed" in listing and "Titular dos" in listing and "Titular uno" not in listing
        slack.set_error(None, channel="#cerrado")
        out = io.StringIO()
        alerts_command(maker, out, retry=True)
        assert "re-queued 1 failed alert(s); unblocked 1 channel(s)" in out.getvalue()
        assert "1 pending" in out.getvalue() and "blocked channels:" not in out.getvalue()
        assert deliver_pending(maker, settings, now=T0 + timedelta(hours=2)).sent == 1
    out = io.StringIO()
    alerts_command(maker, out)
    assert "no pending or failed alerts" in out.getvalue()
    engine.dispose()
