"""Logging for every command: readable lines or JSON lines, and never the Slack token.

Commands log with stable ``extra`` keys (``source``, ``url``, ``counts``, ``duration``)
so that the JSON output can be filtered by a log shipper and the readable output still
shows them as ``key=value``. Redaction sits on the handler, not on one logger, so that
records from Scrapy, slack_sdk or urllib3 are cleaned too: a token pasted into a URL or
echoed back in an error message must not reach the journal.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from alerts.redact import Redactor

FORMATS = ("text", "json")
# Libraries that narrate their work at INFO (Scrapy's stats, Alembic's migration context,
# APScheduler's job runs): at any level but DEBUG only their warnings and errors get through.
# Matched by logger name on the handler, because Scrapy resets its loggers to DEBUG when a
# crawl starts, after the CLI configured logging.
LIBRARIES = ("scrapy", "twisted", "alembic", "apscheduler", "filelock", "hpack", "urllib3", "slack_sdk",
             "trafilatura", "htmldate", "courlan", "charset_normalizer", "asyncio", "py.warnings")
# Loggers whose errors are failed downloads the crawler records itself, as one line naming
# the source, the URL and the reason: repeating them (with a traceback) is noise below DEBUG.
RECORDED_ELSEWHERE = ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt",
                      "scrapy.core.downloader")
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class SecretRedactor(logging.Filter):
    """Replace Slack tokens and the configured secrets in a record's message, extras and traceback."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.redactor = Redactor(secrets)

    @property
    def secrets(self) -> list[str]:
        return self.redactor.secrets

    def redact(self, text: str) -> str:
        return self.redactor(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in extra_fields(record).items():
            setattr(record, key, self._redact_value(value))
        return True

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self._redact_value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._redact_value(v) for v in value]
        return value


class LibraryNoise(logging.Filter):
    """Below DEBUG: libraries' INFO chatter dropped, their tracebacks cut to one line.

    Our own loggers are untouched: a traceback from vigia, crawler, alerts or storage is a
    bug and is shown whole.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if not _under(name, LIBRARIES):
            return True
        if record.levelno < logging.WARNING or _under(name, RECORDED_ELSEWHERE):
            return False
        if record.exc_info or record.exc_text:
            error = record.exc_info[1] if record.exc_info else None
            last = f"{type(error).__name__}: {error}" if error is not None else (record.exc_text or "").splitlines()[-1]
            record.msg = f"{record.getMessage()} ({last}; traceback at --log-level debug)"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra=`` keys of a record (source, url, counts, duration…), in the order given."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    """``2025-01-31 12:00:00 INFO vigia.daemon: crawl finished source=El Universal new=3 duration=2.1s``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        pairs = [_pair(key, value) for key, value in extra_fields(record).items()]
        return " ".join([line, *pairs]) if pairs else line


def _pair(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(_pair(k, v) for k, v in value.items())
    if key == "duration" and isinstance(value, (int, float)):
        return f"duration={value:.2f}s"
    text = str(value)
    return f"{key}={json.dumps(text, ensure_ascii=False) if (' ' in text or not text) else text}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, message, then the record's extra keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(extra_fields(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(fmt: str, level: str, secrets: list[str], stream: TextIO | None = None) -> None:
    """Send every logger to one stderr handler in the chosen format, with secrets redacted.

    Called once per process by the CLI; calling it again (the daemon on SIGHUP, tests)
    replaces the handler instead of adding a second one.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; use one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    if logging.getLevelName(level.upper()) != logging.DEBUG:
        handler.addFilter(LibraryNoise())  # before redaction, which renders tracebacks
    handler.addFilter(SecretRedactor(secrets))
    handler.set_name("vigia")
    # On the handler too: Scrapy sets its own loggers to DEBUG, which a root level alone lets through.
    handler.setLevel(level.upper())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "vigia"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # APScheduler logs every job run at INFO; our own crawl lines say more.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    # Alembic announces every migration check at INFO; "Running upgrade" is all that matters.
    logging.getLogger("alembic.runtime.migration").setLevel(max(logging.WARNING, root.level))


def announce(logger_name: str, level: int = logging.INFO) -> None:
    """Let one logger through below the handler's level (the daemon's own INFO lines at the default WARNING).

    Other loggers keep the configured level: only ``logger_name`` and its children get louder.
    """
    logging.getLogger(logger_name).setLevel(level)
    for handler in logging.getLogger().handlers:
        if handler.get_name() == "vigia" and handler.level > level:
            handler.setLevel(level)


def add_secrets(secrets: Iterable[str]) -> None:
    """Redact more values from now on (a reloaded config may carry a new token)."""
    for handler in logging.getLogger().handlers:
        for log_filter in handler.filters:
            if isinstance(log_filter, SecretRedactor):
                log_filter.redactor.add(secrets)


def current_format() -> str:
    """The format setup_logging chose, so child processes (crawls) can log the same way."""
    for handler in logging.getLogger().handlers:
        if handler.get_name() == "vigia":
            return "json" if isinstance(handler.formatter, JsonFormatter) else "text"
    return "text"
