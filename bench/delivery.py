"""Delivery under Slack's limits and after a crash: prints figures, asserts nothing.

1. Pacing: N alerts for one channel against a stand-in that enforces Slack's ~1 message/s
   per channel (bursts of 3, Retry-After 1 s): how many 429s, how long, with the
   dispatcher's pacing on and off.
2. Recovery: a dispatcher process is SIGKILLed while Slack is slow to answer its post
   (Slack took the message); how long the next run takes to settle the alert, and how many
   messages the channel shows.

    python bench/delivery.py [--alerts 37]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alerts import dispatcher
from alerts.dispatcher import SlackSettings, deliver_pending
from alerts.pacing import ChannelPacer
from storage.db import open_database
from storage.models import utcnow
from storage.queries import store_article
from storage.records import ArticleRecord, MatchRecord
from tests.support.slack_standin import SlackStandIn

CHANNEL = "#monitoreo"
DISPATCH = """
import sys
from alerts.dispatcher import SlackSettings, deliver_pending
from storage.db import open_database
_, maker = open_database(sys.argv[1])
deliver_pending(maker, SlackSettings(token="xoxb-bench", channel=sys.argv[3], base_url=sys.argv[2]))
"""


def fill(maker, count: int) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    with maker.begin() as session:
        for index in range(count):
            url = f"https://bench.example/{now.timestamp()}/{index}"
            record = ArticleRecord(canonical_url=url, url=url, outlet="Bench", source_name=None, title=f"Nota {index}",
                                   author=None, published_at=now - timedelta(minutes=5), language="es",
                                   text=f"Texto {index}", status="matched", fingerprint=None)
            match = MatchRecord(rule_id="r", rule_name="Regla", score=5.0, channel=None, mode="instant", digest=None,
                                explanation={"terms": ["fentanilo"]})
            store_article(session, record, [match], alert=True, default_channel=CHANNEL, now=now)


def pacing(count: int, paced: bool) -> None:
    # "Off": no pacing, but a 429's Retry-After is still honoured.
    dispatcher.PACER = ChannelPacer() if paced else ChannelPacer(per_second=1000.0, burst=1000)
    with tempfile.TemporaryDirectory() as folder, SlackStandIn(token="xoxb-bench") as slack:
        engine, maker = open_database(f"sqlite:///{folder}/bench.db")
        fill(maker, count)
        slack.enforce_rate(1.0, burst=3, retry_after=1)
        started = time.monotonic()
        runs = 0
        while True:
            runs += 1
            report = deliver_pending(maker, SlackSettings(token="xoxb-bench", channel=CHANNEL, base_url=slack.url),
                                     now=utcnow() + timedelta(hours=runs - 1))
            if not report.pending or runs > 50:
                break
        took = time.monotonic() - started
        print(f"pacing {'on ' if paced else 'off'}: {count} alerts -> {len(slack.messages)} messages, "
              f"{slack.rate_limited} answers of 429, {runs} run(s), {took:.1f} s")
        engine.dispose()


def recovery() -> None:
    dispatcher.PACER = ChannelPacer()
    with tempfile.TemporaryDirectory() as folder, SlackStandIn(token="xoxb-bench") as slack:
        url = f"sqlite:///{folder}/bench.db"
        engine, maker = open_database(url)
        fill(maker, 1)
        slack.channel_id(CHANNEL)
        slack.slow_down(5)
        child = subprocess.Popen([sys.executable, "-c", DISPATCH, url, slack.url, CHANNEL], cwd=REPO,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})
        while not slack.messages:
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        slack.slow_down(None)
        started = time.monotonic()
        report = deliver_pending(maker, SlackSettings(token="xoxb-bench", channel=CHANNEL, base_url=slack.url))
        took = time.monotonic() - started
        print(f"recovery after SIGKILL mid-post: settled in {took:.2f} s by the next run "
              f"(recovered {report.recovered}, adopted {report.adopted}, posted {report.sent - report.adopted}); "
              f"channel shows {len(slack.messages)} message(s)")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=37)
    args = parser.parse_args()
    pacing(args.alerts, paced=False)
    pacing(args.alerts, paced=True)
    recovery()


if __name__ == "__main__":
    main()
