"""A rule's keys besides its condition: name, description, channel, mode, digest, threshold,
weights and language, each checked with an error that names the key."""

from __future__ import annotations

import re
from typing import Any

from .errors import RuleSyntaxError
from .nodes import FIELD_NAMES

RULE_KEYS = {"id", "name", "description", "channel", "mode", "digest", "threshold", "weights", "language"}
DEFAULT_WEIGHTS = {"title": 3.0, "summary": 2.0, "text": 1.0}
_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):[0-5]\d")


class ParseContext:
    """Where a parse is (file and rule), to name them in errors."""

    def __init__(self, file: str, rule_id: str | None) -> None:
        self.file = file
        self.rule_id = rule_id

    def error(self, key: str | None, message: str) -> RuleSyntaxError:
        return RuleSyntaxError(self.file, self.rule_id, key, message)


def parse_settings(raw: dict[str, Any], rule_id: str, ctx: ParseContext) -> dict[str, Any]:
    """The rule's settings as RuleSpec fields, checked in the order a reader meets them."""
    name = raw.get("name", rule_id)
    if not isinstance(name, str):
        raise ctx.error("name", "must be a string")
    channel = raw.get("channel")
    if channel is not None and (not isinstance(channel, str) or not channel.strip()):
        raise ctx.error("channel", "must be a channel name such as '#seguridad'")
    mode = raw.get("mode", "instant")
    if mode not in ("instant", "digest"):
        raise ctx.error("mode", "must be 'instant' or 'digest'")
    digest = _parse_digest(raw.get("digest"), mode, ctx)
    threshold = raw.get("threshold", 1.0)
    if not _is_number(threshold) or threshold < 0:
        raise ctx.error("threshold", "must be a number ≥ 0")
    weights = _parse_weights(raw, ctx)
    language = raw.get("language")
    if language is not None and language != "es":
        raise ctx.error("language", "only 'es' is supported")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ctx.error("description", "must be a string")
    return {"name": name, "description": description, "channel": channel, "mode": mode, "digest": digest,
            "threshold": float(threshold), "weights": weights, "language": language}


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def _parse_weights(raw: dict[str, Any], ctx: ParseContext) -> dict[str, float]:
    weights = dict(DEFAULT_WEIGHTS)
    if "weights" not in raw:
        return weights
    if not isinstance(raw["weights"], dict):
        raise ctx.error("weights", "must map title/summary/text to numbers")
    for key, value in raw["weights"].items():
        if key not in FIELD_NAMES:
            raise ctx.error(f"weights.{key}", "unknown field (use title, summary or text)")
        if not _is_number(value) or value < 0:
            raise ctx.error(f"weights.{key}", "must be a number ≥ 0")
        weights[key] = float(value)
    return weights


def _parse_digest(raw: Any, mode: str, ctx: ParseContext) -> dict[str, str] | None:
    if raw is None:
        return {"every": "daily", "at": "08:00"} if mode == "digest" else None
    if mode != "digest":
        raise ctx.error("digest", "only allowed with 'mode: digest'")
    if not isinstance(raw, dict):
        raise ctx.error("digest", "must be a mapping such as {every: daily, at: '08:00'}")
    unknown = set(raw) - {"every", "at", "timezone"}
    if unknown:
        raise ctx.error(f"digest.{sorted(unknown)[0]}", "unknown key (expected every, at, timezone)")
    every = raw.get("every", "daily")
    if every not in ("hourly", "daily", "weekly"):
        raise ctx.error("digest.every", "must be 'hourly', 'daily' or 'weekly'")
    out: dict[str, str] = {"every": every}
    if "at" in raw:
        out["at"] = _time_of_day(raw["at"], ctx)
    elif every != "hourly":
        out["at"] = "08:00"
    if "timezone" in raw:
        if not isinstance(raw["timezone"], str):
            raise ctx.error("digest.timezone", "must be an IANA name like 'America/Mexico_City'")
        out["timezone"] = raw["timezone"]
    return out


def _time_of_day(value: Any, ctx: ParseContext) -> str:
    """``"8:00"`` → ``"08:00"``."""
    at = str(value)
    if not _TIME_OF_DAY.fullmatch(at):
        raise ctx.error("digest.at", "must be a time of day like '08:00'")
    return at if len(at) == 5 else "0" + at
