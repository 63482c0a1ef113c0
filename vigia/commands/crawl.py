"""``vigia crawl``: crawl every source once, deliver alerts, print a summary, exit."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from alerts.redact import Redactor
from crawler.spec import CrawlProgress, CrawlReport
from vigia.config import Config
from vigia.database import start_migration
from vigia.errors import ExitStatus
from vigia.from_config import crawl_once, deliver


def crawl_command(
    config: Config,
    out: TextIO,
    err: TextIO,
    *,
    only: list[str] | None = None,
    deliver: bool = True,
    refetch: bool = False,
    report_json: Path | None = None,
    dry_run: bool = False,
) -> int:
    """``dry_run`` prints each alert as Slack would show it instead of posting it (``deliver``
    still decides whether alerts leave the outbox at all)."""
    migrate_in_child(config, err)
    progress = ProgressLine(err)
    report = crawl_once(config, only=only, refetch=refetch, on_progress=progress)
    progress.finish()
    if report_json:
        report_json.write_text(json.dumps(dataclasses.asdict(report), default=str, indent=2), encoding="utf-8")
    delivery_error = None
    try:
        delivery = _deliver(config, out if dry_run else None) if deliver else None
    except SQLAlchemyError as exc:  # the crawl's summary still matters when the outbox cannot be read
        delivery, delivery_error = None, str(getattr(exc, "orig", None) or exc).splitlines()[0]
    out = _Redacting(out, Redactor([config.slack.token, config.slack.webhook_url]))  # type: ignore[assignment]
    print_summary(report, delivery, out, dry_run=dry_run)
    if delivery_error:
        print(f"  alerts not delivered: database error: {delivery_error}", file=out)
        return ExitStatus.ERROR
    failed_sources = [s for s in report.sources if not s.ok]
    every_source_failed = bool(failed_sources) and len(failed_sources) == len(report.sources)
    undelivered = delivery is not None and (delivery.failed or delivery.errors)
    # Articles fetched and not stored are ours to lose: never a quiet success.
    if every_source_failed or undelivered or report.storage_errors:
        return ExitStatus.ERROR
    return ExitStatus.SUCCESS


def migrate_in_child(config: Config, err: TextIO) -> None:
    """Bring the schema to the newest revision in a short-lived ``vigia db upgrade``.

    Alembic (with Mako, ~11 MB) would otherwise stay in this process through the whole
    crawl. The crawler (Scrapy, Twisted: ~0.5 s) loads while the child migrates. When the
    child fails, nothing is said here: ``crawl_once`` then opens the database in this
    process, which fails the same way and says so as it always has (the config's file and
    key, on this command's own ``err``).
    """
    from vigia.logs import current_format

    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    level = level if level in ("DEBUG", "INFO", "ERROR") else "WARNING"
    child = start_migration(config, current_format(), level, capture_log=True)
    import crawler.process  # noqa: F401  (what crawl_once runs, loaded meanwhile)

    if child is None:
        return
    _, log = child.communicate()
    if child.returncode == ExitStatus.SUCCESS and log:
        err.write(log)  # its log lines (at --log-level debug), where this command's own go


def _deliver(config: Config, printer: TextIO | None):  # type: ignore[no-untyped-def]
    if printer is None:
        return deliver(config)
    from vigia.dry_run import PrintingSender

    return deliver(config, PrintingSender(printer))


class _Redacting:
    """A text stream that removes the Slack token and webhook URL from whatever is printed."""

    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        self.stream, self.redact = stream, redact

    def write(self, text: str) -> int:
        return self.stream.write(self.redact(text))

    def flush(self) -> None:
        self.stream.flush()


class ProgressLine:
    """One self-rewriting status line on a terminal; silent when stderr is a file or pipe."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.active = hasattr(stream, "isatty") and stream.isatty()
        self.width = 0

    def __call__(self, progress: CrawlProgress) -> None:
        if not self.active:
            return
        line = (
            f"crawling… fetched {progress.fetched}, new {progress.new}, matched {progress.matched}, "
            f"errors {progress.errors}"
        )
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def finish(self) -> None:
        if self.active and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def print_summary(report: CrawlReport, delivery, out: TextIO | _Redacting, *, dry_run: bool = False) -> None:  # type: ignore[no-untyped-def]
    ok = sum(1 for s in report.sources if s.ok)
    unchanged = sum(1 for s in report.sources if s.not_modified)
    print(
        f"sources: {len(report.sources)} ({ok} ok, {unchanged} unchanged, {len(report.sources) - ok} failed)",
        file=out,
    )
    print(
        f"articles: {report.fetched} fetched, {report.new} new, {report.matched} matched, {report.skipped} skipped",
        file=out,
    )
    if delivery is not None:
        verb = "printed (dry run: nothing posted)" if dry_run else "sent"
        print(
            f"alerts: {report.alerts_queued} queued, {delivery.sent} {verb}, {delivery.threaded} in threads, "
            f"{delivery.pending} pending, {delivery.failed} failed"
            + (f" ({delivery.adopted} found in Slack already, not posted again)" if getattr(delivery, "adopted", 0) else ""),
            file=out,
        )
    else:
        print(f"alerts: {report.alerts_queued} queued (not delivered: --no-deliver)", file=out)
    problems = summary_errors(report)
    print(f"errors: {len(problems)}", file=out)
    if report.storage_errors:
        print(f"  {report.storage_errors} fetched article(s) could not be stored; they are fetched again next time", file=out)
    for line in problems[:20]:
        print(f"  {line}", file=out)
    if len(problems) > 20:
        print(f"  … and {len(problems) - 20} more", file=out)
    for source in report.sources:
        for note in source.notes:
            print(f"  source {source.name}: {note}", file=out)
    if delivery is not None and delivery.errors:
        # The dispatcher logged each one as it happened (stderr); saying them again here was
        # every Slack error twice on a terminal.
        print(f"  slack: {len(delivery.errors)} problem(s), logged above; `vigia alerts` lists failed alerts", file=out)


def summary_errors(report: CrawlReport) -> list[str]:
    """Each problem once: a source's own failure, then the page errors not already said.

    A source that failed is usually also in ``report.errors`` (its listing URL, same text);
    printing both made every source error appear twice.
    """
    lines: list[str] = []
    said: set[tuple[str, str]] = set()
    for source in report.sources:
        if not source.ok:
            lines.append(f"source {source.name}: {source.error}")
            said.add((source.name, str(source.error)))
    for source_name, url, error in report.errors:
        if (source_name, str(error)) in said:
            continue
        lines.append(f"{source_name}: {url}: {error}")
    return lines
