"""Digests: alerts of ``mode: digest`` rules wait for their schedule, then go out together.

A schedule is the rule's ``digest`` dict: ``{"every": "hourly"}`` (at the top of each hour)
or ``{"every": "daily", "at": "08:00", "timezone": "America/Mexico_City"}``. An alert is
due at the first schedule boundary after it was queued; all due alerts of one channel and
schedule become one message listing the period's stories grouped by rule.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.errors import AlertError
from alerts.labels import labels


class DigestScheduleError(AlertError):
    """A digest dict the dispatcher cannot read; raised so the config check can name it."""


def schedule_key(schedule: dict[str, Any] | None) -> str:
    """A stable grouping key: alerts with equal schedules share one digest message."""
    return json.dumps(schedule or {}, sort_keys=True)


def _zone(schedule: dict[str, Any]) -> ZoneInfo | timezone:
    name = schedule.get("timezone") or schedule.get("tz")
    if not name:
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DigestScheduleError(f"unknown timezone {name!r} in digest schedule") from exc


def _at(schedule: dict[str, Any]) -> time:
    raw = str(schedule.get("at") or "08:00")
    try:
        hours, minutes = raw.split(":")[:2]
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise DigestScheduleError(f"digest 'at' must be HH:MM, got {raw!r}") from exc


def next_boundary(after: datetime, schedule: dict[str, Any] | None) -> datetime:
    """The first moment strictly after ``after`` at which this schedule sends (UTC)."""
    schedule = schedule or {}
    every = str(schedule.get("every") or "daily").lower()
    zone = _zone(schedule)
    local = after.astimezone(zone)
    if every in ("hourly", "hour", "1h"):
        start = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return start.astimezone(UTC)
    if every not in ("daily", "day", "1d"):
        raise DigestScheduleError(f"digest 'every' must be hourly or daily, got {every!r}")
    at = _at(schedule)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate.astimezone(UTC)


def is_due(created_at: datetime, schedule: dict[str, Any] | None, now: datetime) -> bool:
    return next_boundary(created_at, schedule) <= now


def title(schedule: dict[str, Any] | None, channel: str, count: int, locale: str) -> str:
    """``Resumen del día · #canal · 4 notas`` in the message's language."""
    words = labels(locale)
    every = str((schedule or {}).get("every") or "daily").lower()
    period = words["hourly"] if every.startswith("hour") or every == "1h" else words["daily"]
    return f"{words['digest']} {period} · {channel} · {count} {words['stories']}"
