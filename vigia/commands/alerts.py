"""``vigia alerts`` lists the outbox backlog; ``vigia alerts retry`` re-queues what failed.

The listing is what an analyst reads after a Slack outage or a permanent error: which
alerts are waiting and why, and which channels delivery has stopped for.
"""

from __future__ import annotations

from datetime import datetime
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts import outbox
from alerts.redact import redact
from storage.models import SlackChannel
from vigia.errors import ExitStatus

TITLE_WIDTH = 60


def alerts_command(sessionmaker: sessionmaker[Session], out: TextIO, retry: bool = False) -> int:
    """Print pending/failed alerts and blocked channels; with ``retry``, re-queue and unblock first."""
    with sessionmaker() as session:
        if retry:
            requeued, unblocked = outbox.requeue_failed(session)
            print(f"re-queued {requeued} failed alert(s); unblocked {unblocked} channel(s)", file=out)
            print("they go out on the next `vigia crawl` (or at once under `vigia run`)", file=out)
        rows = outbox.listing(session)
        blocked = list(
            session.scalars(
                select(SlackChannel).where(SlackChannel.blocked_error.is_not(None)).order_by(SlackChannel.name)
            )
        )
    if blocked:
        print("blocked channels:", file=out)
        for channel in blocked:
            name = "(every channel: the token)" if channel.name == outbox.ALL_CHANNELS else channel.name
            print(f"  {name}  {redact(channel.blocked_error or '')}  since {_when(channel.blocked_at)}", file=out)
        print("  fix the token or the channel (invite the bot), then run `vigia alerts retry`", file=out)
    if not rows:
        print("no pending or failed alerts", file=out)
        return ExitStatus.SUCCESS
    counts: dict[str, int] = {}
    for alert, _ in rows:
        counts[alert.status] = counts.get(alert.status, 0) + 1
    print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())), file=out)
    header = f"{'id':>6}  {'status':<8} {'kind':<6} {'channel':<24} {'tries':>5}  {'next attempt':<16}  title / last error"
    print(header, file=out)
    for alert, article in rows:
        title = _short(article.title or article.url, TITLE_WIDTH)
        print(
            f"{alert.id:>6}  {alert.status:<8} {alert.kind:<6} {_short(alert.channel, 24):<24} {alert.attempts:>5}  "
            f"{'-' if alert.status == 'failed' else _when(alert.next_attempt_at):<16}  {title}",
            file=out,
        )
        if alert.last_error:
            print(f"{'':>6}  {'':<8} {'':<6} {'':<24} {'':>5}  {'':<16}  ↳ {_short(redact(alert.last_error), 100)}", file=out)
    return ExitStatus.SUCCESS


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "now"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
