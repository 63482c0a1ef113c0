"""alerts.dispatcher against the loopback Slack stand-in, on SQLite and PostgreSQL.

Articles go in through storage.queries.store_article (the real outbox writer); Slack is
tests.support.slack_standin.SlackStandIn, misbehaving on cue.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts import outbox
from alerts.dispatcher import DeliveryReport, SlackSettings, deliver_pending
from storage.db import open_database
from storage.models import Alert, SlackChannel
from storage.queries import store_article
from storage.records import ArticleRecord, MatchRecord
from tests.support.slack_standin import SlackStandIn

T0 = datetime(2026, 3, 2, 15, 7, tzinfo=UTC)
CHANNEL = "#monitoreo-seguridad"
WIRE_TEXT = (
    "La presidenta Claudia Sheinbaum y el secretario de Estado Marco Rubio acordaron reforzar la "
    "cooperación en seguridad contra el tráfico de fentanilo y de armas en la frontera."
)


@pytest.fixture
def db(migrated_db_url: str) -> Iterator[sessionmaker[Session]]:
    engine, maker = open_database(migrated_db_url)
    yield maker
    engine.dispose()


@pytest.fixture
def sqlite_db(migrated_sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """For what does not depend on the backend (rendering, client faults): SQLite only, faster."""
    engine, maker = open_database(migrated_sqlite_url)
    yield maker
    engine.dispose()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-call retry waits 0.5 s and more in production; the outbox's back-off is what we test."""
    monkeypatch.setattr("alerts.client.RETRY_BACKOFF_FACTOR", 0.01)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token="xoxb-test") as standin:
        yield standin


def settings(standin: SlackStandIn, **extra: object) -> SlackSettings:
    values: dict = dict(token="xoxb-test", channel=CHANNEL, base_url=standin.url)
    values.update(extra)
    return SlackSettings(**values)


def hit(rule: str = "mx-us-security", *, channel: str | None = None, mode: str = "instant",
        digest: dict | None = None, score: float = 7.5) -> MatchRecord:
    snippet = "Sheinbaum y Rubio acordaron reforzar la cooperación contra el fentanilo."
    return MatchRecord(
        rule_id=rule, rule_name=f"Regla {rule}", score=score, channel=channel, mode=mode, digest=digest,
        explanation={
            "rule_id": rule, "rule_name": f"Regla {rule}", "score": score, "terms": ["fentanilo", "cooperación"],
            "entities": ["Claudia Sheinbaum", "Marco Rubio"], "snippet": snippet,
            "snippet_highlights": [[0, 9], [12, 17], [62, 71]],
        },
    )


def add(maker: sessionmaker[Session], slug: str, *, outlet: str = "Milenio", title: str | None = None,
        matches: list[MatchRecord] | None = None, fingerprint: int | None = None, text: str = WIRE_TEXT,
        now: datetime = T0) -> int:
    url = f"https://www.example.com/{slug}"
    record = ArticleRecord(
        canonical_url=url, url=url, outlet=outlet, source_name=None, title=title or f"Nota {slug}",
        author="Redacción", published_at=now - timedelta(hours=1), language="es", text=text,
        status="matched", fingerprint=fingerprint,
    )
    with maker() as session:
        stored = store_article(session, record, matches if matches is not None else [hit()],
                               alert=True, default_channel=CHANNEL, now=now)
        session.commit()
    return stored.id


def alerts(maker: sessionmaker[Session]) -> list[Alert]:
    with maker() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def posts(standin: SlackStandIn) -> list:
    return [c for c in standin.calls_to("chat.postMessage") if c.status == 200 and c.response.get("ok")]


# -- the happy path and the message ------------------------------------------------------


def test_story_is_posted_once_with_its_ts_recorded(db, slack) -> None:
    add(db, "uno")
    report = deliver_pending(db, settings(slack), now=T0)
    assert (report.sent, report.pending, report.failed) == (1, 0, 0)
    [message] = slack.messages
    [row] = alerts(db)
    assert row.status == "sent" and row.slack_ts == message["ts"] and row.slack_channel_id == message["channel"]
    assert row.attempts == 1 and T0 <= row.sent_at < T0 + timedelta(minutes=1)  # stamped when it was sent
    assert "https://www.example.com/uno" in json.dumps(message["blocks"])
    assert slack.calls[0].token == "xoxb-test"
    # A second run owes nothing.
    again = deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=5))
    assert again == DeliveryReport(0, 0, 0, 0, 0, 0, [])
    assert len(slack.messages) == 1


def test_rules_matching_in_one_channel_alert_once_naming_each(db, slack) -> None:
    add(db, "dos", matches=[hit("mx-us-security"), hit("fentanilo", score=4.0)])
    add(db, "tres", matches=[hit("mx-us-security"), hit("otra", channel="#otro-canal")])
    deliver_pending(db, settings(slack), now=T0)
    by_channel = {}
    for message in slack.messages:
        by_channel.setdefault(message["channel_name"], []).append(message)
    assert len(by_channel["monitoreo-seguridad"]) == 2 and len(by_channel["otro-canal"]) == 1
    first = json.dumps(by_channel["monitoreo-seguridad"][0]["blocks"], ensure_ascii=False)
    assert "Regla mx-us-security" in first and "Regla fentanilo" in first and "Reglas" in first


def test_injection_title_pings_no_one(sqlite_db, slack) -> None:
    evil = "<!channel> <https://evil.example|click> & <@U123>"
    add(sqlite_db, "evil", title=evil, outlet="<!here> Diario")
    deliver_pending(sqlite_db, settings(slack), now=T0)
    [message] = slack.messages
    sent = json.dumps(message["blocks"], ensure_ascii=False) + message["text"]
    for raw in ("<!channel>", "<!here>", "<https://evil.example|click>", "<@U123>"):
        assert raw not in sent
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; &lt;@U123&gt;" in sent


def test_english_labels_with_locale_en(sqlite_db, slack) -> None:
    add(sqlite_db, "en")
    deliver_pending(sqlite_db, settings(slack, locale="en"), now=T0)
    blocks = json.dumps(slack.messages[0]["blocks"], ensure_ascii=False)
    assert "Rule:" in blocks and "Terms:" in blocks and "Regla:" not in blocks


# -- syndication: one story, copies in its thread -----------------------------------------


def test_three_syndicated_copies_one_message_two_replies_parent_updated(db, slack) -> None:
    fp = 0x1234_5678_9ABC_DEF0
    add(db, "efe", outlet="EFE", fingerprint=fp)
    add(db, "milenio", outlet="Milenio", fingerprint=fp ^ 0b1011, title="Otro titular", now=T0 + timedelta(minutes=1))
    add(db, "infobae", outlet="Infobae", fingerprint=fp ^ 0b110, title="Y otro", now=T0 + timedelta(minutes=2))
    report = deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=3))
    assert (report.sent, report.threaded, report.updated) == (1, 2, 2)
    [story] = slack.messages
    replies = slack.replies(story["ts"])
    assert [r["channel"] for r in replies] == [story["channel"]] * 2
    assert "Milenio" in replies[0]["text"] and "Infobae" in replies[1]["text"]
    # The parent now names every copy.
    assert story["edited"]
    footer = json.dumps(story["blocks"][-1], ensure_ascii=False)
    assert "También en" in footer and "Milenio" in footer and "Infobae" in footer
    rows = alerts(db)
    assert [r.kind for r in rows] == ["story", "copy", "copy"]
    assert all(r.status == "sent" for r in rows) and rows[1].thread_ts == rows[0].slack_ts


def test_copy_waits_for_its_story(db, slack) -> None:
    fp = 0x0F0F_0F0F_0F0F_0F0F
    add(db, "a", outlet="AP", fingerprint=fp)
    add(db, "b", outlet="Infobae", fingerprint=fp, now=T0 + timedelta(minutes=1))
    slack.fail_next(1, status=503)  # the story fails (a 5xx is not retried in-call: it may have posted)
    first = deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=2))
    assert (first.sent, first.threaded, first.pending) == (0, 0, 2)
    later = deliver_pending(db, settings(slack), now=T0 + timedelta(hours=2))
    assert (later.sent, later.threaded) == (1, 1)
    assert len(slack.messages) == 1 and len(slack.replies(slack.messages[0]["ts"])) == 1


# -- faults ----------------------------------------------------------------------------------


def test_429_on_first_posts_then_success(db, slack) -> None:
    for slug in ("r1", "r2", "r3"):
        add(db, slug)
    slack.fail_next(2, status=429, retry_after=0)
    report = deliver_pending(db, settings(slack), now=T0)
    assert (report.sent, report.pending, report.failed) == (3, 0, 0)
    assert len(slack.messages) == 3
    statuses = [c.status for c in slack.calls_to("chat.postMessage")]
    assert statuses[:2] == [429, 429] and statuses[2:] == [200, 200, 200]


def test_429_with_a_long_retry_after_waits_for_a_later_run(sqlite_db, slack) -> None:
    add(sqlite_db, "limited")
    slack.fail_next(1, status=429, retry_after=120)
    report = deliver_pending(sqlite_db, settings(slack), now=T0)
    assert (report.sent, report.pending) == (0, 1)
    [row] = alerts(sqlite_db)
    assert row.status == "pending" and row.next_attempt_at >= T0 + timedelta(seconds=120)
    assert "rate limited" in row.last_error and row.unconfirmed_since is None  # a 429 posted nothing
    assert deliver_pending(sqlite_db, settings(slack), now=T0 + timedelta(seconds=5)).sent == 0  # not yet due
    assert deliver_pending(sqlite_db, settings(slack), now=T0 + timedelta(hours=1)).sent == 1
    assert not slack.calls_to("conversations.history")


def test_503_for_a_whole_run_then_recovery_delivers_each_once(db, slack) -> None:
    for slug in ("s1", "s2", "s3"):
        add(db, slug, title=f"Titular {slug}")
    slack.fail_next(100, status=503)
    down = deliver_pending(db, settings(slack), now=T0)
    assert (down.sent, down.pending, down.failed) == (0, 3, 0)
    assert down.errors and "retry" in down.errors[0]
    first = alerts(db)[0]
    assert first.next_attempt_at is not None and T0 + timedelta(seconds=15) <= first.next_attempt_at <= T0 + timedelta(seconds=30)
    slack.clear_faults()
    up = deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=10))
    assert (up.sent, up.pending) == (3, 0)
    again = deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=20))
    assert again.sent == 0
    titles = [m["text"].split(" — ")[0] for m in slack.messages]
    assert sorted(titles) == ["Titular s1", "Titular s2", "Titular s3"]


def test_backoff_grows_exponentially(sqlite_db, slack) -> None:
    add(sqlite_db, "backoff")
    slack.down()
    delays = []
    now = T0
    for _ in range(4):
        deliver_pending(sqlite_db, settings(slack), now=now)
        [row] = alerts(sqlite_db)
        delays.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert delays[0] <= timedelta(seconds=30) and delays[3] >= timedelta(seconds=120)
    assert delays == sorted(delays)
    slack.up()
    assert deliver_pending(sqlite_db, settings(slack), now=now).sent == 1


def test_slack_unreachable_then_back(sqlite_db, slack) -> None:
    add(sqlite_db, "refused")
    slack.down(refuse=True)
    report = deliver_pending(sqlite_db, settings(slack), now=T0)
    assert (report.sent, report.pending) == (0, 1)
    slack.up()
    assert deliver_pending(sqlite_db, settings(slack), now=T0 + timedelta(hours=1)).sent == 1
    assert len(slack.messages) == 1


def test_invalid_auth_blocks_everything_with_one_log_line(db, slack, caplog) -> None:
    add(db, "x1")
    add(db, "x2", matches=[hit(channel="#otro")])
    caplog.set_level(logging.ERROR, logger="alerts")
    report = deliver_pending(db, settings(slack, token="xoxb-wrong"), now=T0)
    assert (report.sent, report.failed, report.pending) == (0, 2, 0)
    lines = [r.getMessage() for r in caplog.records if "invalid_auth" in r.getMessage()]
    assert len(lines) == 1 and "vigia alerts retry" in lines[0]
    assert len(slack.calls_to("chat.postMessage")) == 1
    # Fixed token + retry: everything goes.
    with db() as session:
        assert outbox.requeue_failed(session)[0] == 2
    assert deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=1)).sent == 2


def test_channel_error_blocks_only_that_channel(db, slack) -> None:
    add(db, "ok1")
    add(db, "bad", matches=[hit(channel="#cerrado")])
    add(db, "ok2")
    slack.set_error("not_in_channel", channel="#cerrado")
    report = deliver_pending(db, settings(slack), now=T0)
    assert (report.sent, report.failed) == (2, 1)
    with db() as session:
        blocked = session.get(SlackChannel, "#cerrado")
        assert blocked.blocked_error == "not_in_channel"
    # New alerts for the blocked channel wait without another call to Slack.
    calls = len(slack.calls)
    add(db, "bad2", matches=[hit(channel="#cerrado")], now=T0 + timedelta(minutes=1))
    deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=2))
    assert len(slack.calls) == calls


def test_crash_between_claim_and_send_is_sent_next_run(db, slack) -> None:
    slack.channel_id(CHANNEL)  # the channel exists in the workspace
    add(db, "crash")
    [row] = alerts(db)
    with db() as session:
        assert outbox.claim(session, row.id, T0, "crashed-worker")
    # The crashed worker never posts. A claim within its lease is not stolen...
    assert deliver_pending(db, settings(slack), now=T0 + timedelta(seconds=5)).sent == 0
    # ...but one nobody renewed is: Slack's history is searched first (nothing there), then it is posted.
    report = deliver_pending(db, settings(slack), now=T0 + outbox.STALE_CLAIM + timedelta(seconds=5), worker="w2")
    assert (report.recovered, report.sent) == (1, 1) and len(slack.messages) == 1
    assert len(slack.calls_to("conversations.history")) == 1
    [row] = alerts(db)
    assert row.status == "sent" and row.attempts == 2 and row.unconfirmed_since is None


def test_two_dispatchers_never_claim_the_same_row(db) -> None:
    add(db, "race")
    [row] = alerts(db)
    with db() as first, db() as second:
        assert outbox.claim(first, row.id, T0, "a")
        assert not outbox.claim(second, row.id, T0, "b")


# -- digests and webhooks --------------------------------------------------------------------


def test_hourly_digest_waits_then_lists_stories_by_rule(db, slack) -> None:
    hourly = {"every": "hourly"}
    fp = 0x5555_0000_AAAA_FFFF
    add(db, "d1", title="Primera", matches=[hit("resumen", mode="digest", digest=hourly)], fingerprint=fp)
    add(db, "d2", title="Copia", outlet="Infobae", fingerprint=fp,
        matches=[hit("resumen", mode="digest", digest=hourly)], now=T0 + timedelta(minutes=5))
    add(db, "d3", title="Segunda", matches=[hit("otra", mode="digest", digest=hourly)], now=T0 + timedelta(minutes=9))
    add(db, "inst", title="Inmediata")
    early = deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=30))
    assert (early.sent, early.digests, early.pending) == (1, 0, 3)
    due = deliver_pending(db, settings(slack), now=T0.replace(minute=0) + timedelta(hours=1))
    assert due.digests == 1 and due.pending == 0
    digest = slack.messages[-1]
    assert digest["blocks"][0]["type"] == "header" and "3 notas" not in digest["blocks"][0]["text"]["text"]
    body = json.dumps(digest["blocks"], ensure_ascii=False)
    assert body.index("Regla resumen") < body.index("Primera") < body.index("Regla otra") < body.index("Segunda")
    assert "Infobae" in body  # the copy is named beside its story, not listed twice
    assert len(slack.messages) == 2


def test_daily_digest_in_a_timezone(sqlite_db, slack) -> None:
    daily = {"every": "daily", "at": "08:00", "timezone": "America/Mexico_City"}
    add(sqlite_db, "m1", matches=[hit(mode="digest", digest=daily)])  # 09:07 in Mexico City
    # 08:00 next day in Mexico City is 14:00 UTC.
    assert deliver_pending(sqlite_db, settings(slack), now=datetime(2026, 3, 3, 13, 59, tzinfo=UTC)).digests == 0
    assert deliver_pending(sqlite_db, settings(slack), now=datetime(2026, 3, 3, 14, 0, tzinfo=UTC)).digests == 1


def test_webhook_mode_lists_copies_in_a_later_message(db, slack) -> None:
    fp = 0x7777_1111_2222_3333
    add(db, "w1", outlet="EFE", fingerprint=fp, title="<!channel> wire")
    add(db, "w2", outlet="Milenio", fingerprint=fp, now=T0 + timedelta(minutes=1))
    add(db, "w3", outlet="Infobae", fingerprint=fp, now=T0 + timedelta(minutes=1))
    hook = SlackSettings(token=None, channel=CHANNEL, webhook_url=slack.webhook_url)
    report = deliver_pending(db, hook, now=T0 + timedelta(minutes=2))
    assert (report.sent, report.threaded, report.pending) == (1, 2, 0)
    story, copies = slack.messages
    assert "<!channel>" not in json.dumps(story["blocks"]) + story["text"]
    assert "Milenio" in copies["text"] and "Infobae" in copies["text"]
    assert not slack.calls_to("chat.update") and all(c.method == "webhook" for c in slack.calls)


def test_webhook_errors(sqlite_db, slack) -> None:
    add(sqlite_db, "h1")
    hook = SlackSettings(token=None, channel=CHANNEL, webhook_url=slack.webhook_url)
    slack.fail_next(1, status=503)
    assert deliver_pending(sqlite_db, hook, now=T0).pending == 1
    slack.set_error("no_service")
    report = deliver_pending(sqlite_db, hook, now=T0 + timedelta(hours=1))
    assert report.failed == 1 and "no_service" in report.errors[0]
