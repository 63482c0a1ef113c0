"""Durations as users write them in the config: 30s, 10m, 2h, 3d."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_BARE_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: object) -> timedelta:
    """Parse ``"10m"``-style text; raise ValueError otherwise.

    A bare number is refused rather than read as seconds: ``every: 10`` written by someone
    who meant minutes would poll an outlet every ten seconds without a word.
    """
    if isinstance(value, timedelta):
        return value
    if (isinstance(value, (int, float)) and not isinstance(value, bool)) or _BARE_NUMBER.match(str(value)):
        number = str(value).strip()
        raise ValueError(f"{number} needs a unit (s, m, h, d): write {number}s, {number}m, {number}h or {number}d")
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; write a number and a unit (s, m, h, d): 30s, 10m, 2h, 3d")
    seconds = timedelta(**{_UNITS[match.group(2)]: float(match.group(1))}).total_seconds()
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
