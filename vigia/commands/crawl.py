"""``vigia crawl``: crawl every source once, deliver alerts, print a summary, exit."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TextIO

from alerts.redact import Redactor
from crawler.spec import CrawlProgress, CrawlReport
from vigia.config import Config
from vigia.crawl import crawl_once, deliver
from vigia.errors import ExitStatus


def crawl_command(
    config: Config,
    out: TextIO,
    err: TextIO,
    *,
    only: list[str] | None = None,
    deliver: bool = True,
    refetch: bool = False,
    report_json: Path | None = None,
) -> int:
    progress = ProgressLine(err)
    report = crawl_once(config, only=only, refetch=refetch, on_progress=progress)
    progress.finish()
    if report_json:
        report_json.write_text(json.dumps(dataclasses.asdict(report), default=str, indent=2), encoding="utf-8")
    delivery = _deliver(config) if deliver else None
    print_summary(report, delivery, _Redacting(out, Redactor([config.slack.token, config.slack.webhook_url])))
    failed_sources = [s for s in report.sources if not s.ok]
    undelivered = delivery is not None and (delivery.failed or delivery.errors)
    return ExitStatus.ERROR if failed_sources and len(failed_sources) == len(report.sources) or undelivered else ExitStatus.SUCCESS


def _deliver(config: Config):  # type: ignore[no-untyped-def]
    return deliver(config)


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


def print_summary(report: CrawlReport, delivery, out: TextIO | _Redacting) -> None:  # type: ignore[no-untyped-def]
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
        print(
            f"alerts: {report.alerts_queued} queued, {delivery.sent} sent, {delivery.threaded} in threads, "
            f"{delivery.pending} pending, {delivery.failed} failed"
            + (f" ({delivery.adopted} found in Slack already, not posted again)" if getattr(delivery, "adopted", 0) else ""),
            file=out,
        )
    else:
        print(f"alerts: {report.alerts_queued} queued (not delivered: --no-deliver)", file=out)
    print(f"errors: {len(report.errors)}", file=out)
    for source in report.sources:
        if not source.ok:
            print(f"  source {source.name}: {source.error}", file=out)
    for source_name, url, error in report.errors[:20]:
        print(f"  {source_name}: {url}: {error}", file=out)
    if len(report.errors) > 20:
        print(f"  … and {len(report.errors) - 20} more", file=out)
    if delivery is not None:
        for error in delivery.errors[:10]:
            print(f"  slack: {error}", file=out)
