"""Issue 10's delivery items against the Slack stand-in, on SQLite and PostgreSQL.

Each test plays one way Slack or the process misbehaves and checks what a user sees: the
channel holds each story once, threads hang under the right message, `vigia alerts`
holds nothing stuck, errors say what happened and never carry the token.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from alerts import outbox
from alerts.dispatcher import SlackSettings, deliver_pending
from storage.db import open_database
from storage.models import utcnow
from tests.support.slack_standin import SlackStandIn
from tests.support.waiting import eventually
from tests.test_alerts_dispatcher import CHANNEL, T0, add, alerts, settings
from vigia.commands.alerts import alerts_command

REPO = Path(__file__).resolve().parents[1]
TOKEN = "secret-token-not-shaped-like-slack-0123"
FP = 0x0F0F_0F0F_0F0F_0F0F


@pytest.fixture
def db(migrated_db_url: str) -> Iterator[sessionmaker[Session]]:
    engine, maker = open_database(migrated_db_url)
    yield maker
    engine.dispose()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token="xoxb-test") as standin:
        standin.channel_id(CHANNEL)  # the channel exists in the workspace
        yield standin



def listing(maker: sessionmaker[Session]) -> str:
    out = io.StringIO()
    alerts_command(maker, out)
    return out.getvalue()


# -- item 1: a post in flight when the process dies is found, not repeated ---------------------

DISPATCH = """
import sys
from alerts.dispatcher import SlackSettings, deliver_pending
from storage.db import open_database
from storage.models import utcnow
_, maker = open_database(sys.argv[1])
deliver_pending(maker, SlackSettings(token="xoxb-test", channel=sys.argv[3], base_url=sys.argv[2]))
"""


def test_every_message_carries_metadata_naming_its_alert(db, slack) -> None:
    story = add(db, "meta-a", outlet="AP", fingerprint=FP)
    add(db, "meta-b", outlet="Infobae", fingerprint=FP, now=T0 + timedelta(minutes=1))
    deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=2))
    parent, reply = slack.all_messages
    rows = alerts(db)
    for message, row in zip((parent, reply), rows, strict=True):
        assert message["metadata"]["event_type"] == "vigia_alert"
        assert message["metadata"]["event_payload"]["alert_ids"] == str(row.id)
    assert rows[0].article_id == story and reply["thread_ts"] == parent["ts"]


def test_killed_mid_post_the_restart_adopts_the_message_slack_took(db, migrated_db_url: str, slack) -> None:
    add(db, "killed", outlet="AP", fingerprint=FP)
    add(db, "killed-copy", outlet="Infobae", fingerprint=FP, now=T0 + timedelta(minutes=1))
    slack.slow_down(30)  # Slack takes the message, then is slow to answer
    child = subprocess.Popen([sys.executable, "-c", DISPATCH, migrated_db_url, slack.url, CHANNEL], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    eventually(lambda: slack.messages, 20, "the post to reach Slack")
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    slack.slow_down(None)
    [row, copy] = alerts(db)
    assert row.status == "sending" and row.slack_ts is None  # the dead process never heard back

    report = deliver_pending(db, settings(slack))  # the next start, seconds later
    assert (report.recovered, report.adopted, report.sent, report.threaded) == (1, 1, 1, 1)
    [message] = slack.messages
    [row, copy] = alerts(db)
    assert row.status == "sent" and row.slack_ts == message["ts"]
    assert [r["ts"] for r in slack.replies(message["ts"])] == [copy.slack_ts]
    assert len(slack.calls_to("chat.postMessage")) == 2  # the story once, its copy once
    assert "no pending or failed alerts" in listing(db)


@pytest.mark.parametrize("accept", ["before", "after"])
def test_slack_taking_a_post_after_the_client_gave_up_is_not_posted_twice(db, slack, accept: str) -> None:
    add(db, "late")
    slack.slow_down(2.5, accept=accept)  # the client gives up at 1 s; Slack takes it at once or at 2.5 s
    first = deliver_pending(db, settings(slack, timeout=1))
    assert (first.sent, first.pending) == (0, 1) and "timed out" in first.errors[0]
    [row] = alerts(db)
    assert row.status == "pending" and row.unconfirmed_since is not None
    slack.slow_down(None)
    eventually(lambda: slack.messages, 10, "Slack to take the late post")
    later = deliver_pending(db, settings(slack), now=utcnow() + timedelta(hours=1))
    assert (later.adopted, later.sent) == (1, 1)
    assert len(slack.messages) == 1 and alerts(db)[0].slack_ts == slack.messages[0]["ts"]


def test_an_unconfirmed_post_that_slack_never_took_is_posted_after_the_search(db, slack) -> None:
    add(db, "lost")
    slack.down()  # the connection drops after the request: maybe taken, maybe not
    assert deliver_pending(db, settings(slack), now=T0).pending == 1
    slack.up()
    report = deliver_pending(db, settings(slack), now=T0 + timedelta(hours=1))
    assert (report.adopted, report.sent) == (0, 1) and len(slack.messages) == 1
    assert len(slack.calls_to("conversations.history")) == 1


# -- item 2: a long run's claims stay its own -------------------------------------------------


def test_a_slow_run_is_not_taken_over_by_a_second_dispatcher(db, slack) -> None:
    for slug in ("lento-1", "lento-2", "lento-3"):
        add(db, slug)
    slack.slow_down(1.0)  # each post takes longer than the lease below
    quick_lease = settings(slack, lease=timedelta(seconds=0.6))
    reports = []
    runs = [threading.Thread(target=lambda: reports.append(deliver_pending(db, quick_lease))) for _ in range(2)]
    for run in runs:
        run.start()
        time.sleep(0.3)
    for run in runs:
        run.join(60)
    assert sum(r.sent for r in reports) == 3
    texts = [m["text"] for m in slack.messages]
    assert len(texts) == 3 and len(set(texts)) == 3
    assert all(row.status == "sent" for row in alerts(db))


def test_claims_and_retries_are_stamped_when_they_happen(db, slack) -> None:
    add(db, "primero")
    add(db, "segundo")
    slack.slow_down(1.0)
    started = utcnow()
    deliver_pending(db, settings(slack))
    first, second = alerts(db)
    assert second.sent_at > first.sent_at and second.sent_at > started

    add(db, "tercero")
    slack.slow_down(None)
    slack.down(refuse=True)
    before = utcnow()
    deliver_pending(db, settings(slack))
    third = alerts(db)[2]
    assert third.next_attempt_at >= before + outbox.BACKOFF_BASE / 2
    slack.up()


# -- item 6: an answer without ts ---------------------------------------------------------------


def test_an_ok_without_ts_is_reconciled_and_its_thread_goes_on(db, slack) -> None:
    add(db, "sin-ts", outlet="AP", fingerprint=FP)
    add(db, "sin-ts-copia", outlet="Infobae", fingerprint=FP, now=T0 + timedelta(minutes=1))
    slack.omit_ts_next(1)
    first = deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=2))
    assert (first.sent, first.threaded, first.pending) == (0, 0, 2)
    story, copy = alerts(db)
    assert story.status == "pending" and "without the message's ts" in story.last_error
    assert copy.status == "pending"
    assert "without the message's ts" in listing(db)

    later = deliver_pending(db, settings(slack), now=T0 + timedelta(hours=1))
    assert (later.adopted, later.sent, later.threaded) == (1, 1, 1)
    [message] = slack.messages
    assert len(slack.replies(message["ts"])) == 1
    assert "no pending or failed alerts" in listing(db)


# -- item 7: what each answer means --------------------------------------------------------------


def test_a_200_with_an_html_body_is_retried_not_failed(db, slack) -> None:
    add(db, "html-1")
    add(db, "html-2")
    slack.fail_next_with_body("<html><body><h1>Bad gateway</h1></body></html>", status=200)
    first = deliver_pending(db, settings(slack), now=T0)
    assert (first.failed, first.pending) == (0, 2)
    assert "unreadable answer" in alerts(db)[0].last_error
    later = deliver_pending(db, settings(slack), now=T0 + timedelta(hours=1))
    assert (later.sent, later.failed) == (2, 0) and len(slack.messages) == 2


def test_cannot_reply_to_message_posts_that_copy_on_its_own_and_blocks_nothing(db, slack) -> None:
    add(db, "padre", outlet="AP", fingerprint=FP)
    deliver_pending(db, settings(slack), now=T0)
    [parent] = slack.messages
    slack.refuse_replies(parent["ts"])
    add(db, "hija", outlet="Infobae", fingerprint=FP, now=T0 + timedelta(minutes=1))
    add(db, "otra", title="Otra nota", text="Texto distinto sobre aranceles al acero.", now=T0 + timedelta(minutes=1))
    report = deliver_pending(db, settings(slack), now=T0 + timedelta(minutes=2))
    assert (report.sent, report.failed) == (2, 0)
    assert any("not a thread reply (cannot_reply_to_message)" in e for e in report.errors)
    assert len(slack.messages) == 3 and not slack.replies(parent["ts"])
    assert "blocked channels" not in listing(db)


def test_an_error_about_one_message_fails_that_message_only(db, slack) -> None:
    add(db, "largo")
    add(db, "normal")
    slack.fail_next(1, status=200, error="msg_too_long")
    report = deliver_pending(db, settings(slack), now=T0)
    assert (report.sent, report.failed) == (1, 1)
    failed, sent = alerts(db)
    assert failed.status == "failed" and failed.last_error == "msg_too_long" and sent.status == "sent"
    assert "blocked channels" not in listing(db)


@pytest.mark.parametrize("code", ["invalid_auth", "token_revoked", "account_inactive"])
def test_token_errors_block_every_channel(migrated_sqlite_url: str, code: str) -> None:
    engine, maker = open_database(migrated_sqlite_url)
    add(maker, "uno")
    add(maker, "dos", matches=None)
    with SlackStandIn(token="xoxb-test") as slack:
        slack.set_error(code)
        report = deliver_pending(maker, settings(slack), now=T0)
    assert report.failed == 2 and "every channel" in report.errors[0]
    assert f"(every channel: the token)  {code}" in listing(maker)
    engine.dispose()


# -- item 8: TLS to a plain-HTTP port -------------------------------------------------------------


def test_tls_to_a_plain_http_port_fails_at_once_naming_base_url(db, slack) -> None:
    add(db, "tls")
    wrong = slack.url.replace("http://", "https://")
    report = deliver_pending(db, settings(slack, base_url=wrong), now=T0)
    assert (report.sent, report.pending, report.failed) == (0, 0, 1)
    [row] = alerts(db)
    assert row.status == "failed" and "slack.base_url" in row.last_error and wrong in row.last_error
    assert "TLS" in report.errors[0] and "every channel" in report.errors[0]
    assert not slack.calls  # nothing reached the plain-HTTP port as a request


def test_temporary_failures_give_up_after_a_bounded_number_of_attempts(migrated_sqlite_url: str) -> None:
    from alerts.posting import MAX_ATTEMPTS

    engine, maker = open_database(migrated_sqlite_url)
    add(maker, "sin-fin")
    with SlackStandIn(token="xoxb-test") as slack:
        slack.fail_next(100, status=503)
        for attempt in range(MAX_ATTEMPTS):
            report = deliver_pending(maker, settings(slack), now=T0 + timedelta(days=attempt))
    assert report.failed == 1
    [row] = alerts(maker)
    assert row.status == "failed" and f"gave up after {MAX_ATTEMPTS} attempts" in row.last_error
    engine.dispose()


# -- item 14: the token never leaves the process --------------------------------------------------


def test_a_token_echoed_by_slack_is_redacted_everywhere(db) -> None:
    add(db, "eco")
    with SlackStandIn(token=TOKEN) as slack:
        slack.fail_next_with_body(f"<html>proxy error for Authorization: Bearer {TOKEN}</html>")
        report = deliver_pending(db, SlackSettings(token=TOKEN, channel=CHANNEL, base_url=slack.url), now=T0)
    [row] = alerts(db)
    assert report.errors and all(TOKEN not in e for e in report.errors)
    assert TOKEN not in (row.last_error or "") and "[redacted]" in row.last_error
    assert TOKEN not in listing(db)


def test_a_mistyped_webhook_url_is_a_recorded_error_without_the_url(db) -> None:
    add(db, "hook")
    url = "htps://hooks.slack.com/services/T0001/B0001/very-secret-hook"
    report = deliver_pending(db, SlackSettings(token=None, channel=CHANNEL, webhook_url=url), now=T0)
    [row] = alerts(db)
    assert row.status == "failed" and "slack.webhook_url is not a usable URL" in row.last_error
    assert all("very-secret-hook" not in e for e in report.errors) and "very-secret-hook" not in listing(db)


# -- item 18: Slack's pace ------------------------------------------------------------------------


def test_a_burst_of_alerts_is_paced_to_slacks_rate_without_429s(migrated_sqlite_url: str) -> None:
    engine, maker = open_database(migrated_sqlite_url)
    for index in range(6):
        add(maker, f"rafaga-{index}", title=f"Nota {index}", text=f"Texto {index} sobre fentanilo y aranceles.")
    with SlackStandIn(token="xoxb-test") as slack:
        slack.enforce_rate(1.0, burst=3)
        report = deliver_pending(maker, settings(slack), now=T0)
        assert (report.sent, report.pending) == (6, 0)
        assert slack.rate_limited == 0 and len(slack.messages) == 6
    engine.dispose()


def test_a_short_retry_after_is_waited_for_within_the_run(migrated_sqlite_url: str) -> None:
    engine, maker = open_database(migrated_sqlite_url)
    add(maker, "paciencia")
    with SlackStandIn(token="xoxb-test") as slack:
        slack.fail_next(3, status=429, retry_after=1)
        report = deliver_pending(maker, settings(slack), now=T0)
        assert (report.sent, report.pending, report.errors) == (1, 0, [])
        assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 429, 429, 200]
    engine.dispose()


# -- the database lost mid-post (the full disk, on PostgreSQL) ----------------------------


def test_a_database_lost_mid_post_is_reported_and_the_next_run_adopts_the_post(postgres_url: str) -> None:
    from sqlalchemy import text

    from storage.db import make_engine

    engine, maker = open_database(postgres_url)
    add(maker, "caida")
    admin = make_engine(postgres_url)
    with SlackStandIn(token="xoxb-test") as slack:
        slack.channel_id(CHANNEL)
        slack.slow_down(1.5)

        def cut_the_database() -> None:
            eventually(lambda: slack.messages, 20, "the post to reach Slack")
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"))

        cutter = threading.Thread(target=cut_the_database)
        cutter.start()
        report = deliver_pending(maker, settings(slack, lease=timedelta(seconds=1)))
        cutter.join()
        assert report.sent == 0 and any("database error during delivery" in e for e in report.errors)

        slack.slow_down(None)
        later = deliver_pending(maker, settings(slack), now=utcnow() + timedelta(minutes=1))
        assert (later.adopted, later.sent) == (1, 1)
        assert len(slack.messages) == 1 and alerts(maker)[0].slack_ts == slack.messages[0]["ts"]
    admin.dispose()
    engine.dispose()
