"""The ``vigia`` command line: parse arguments, call one function per command.

Each command lives in vigia/commands/<name>.py, takes the loaded config and the output
streams, and returns an exit status. Errors become exit codes here and only here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rules.errors import RuleError
from storage.errors import DatabaseUnreachable, StorageError
from vigia.config import Config, default_path, load_config
from vigia.errors import ConfigError, ExitStatus, VigiaError


def _add_common_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """--config and logging options, before or after the command name.

    The copies on each command default to SUPPRESS so that ``vigia --log-format json run``
    keeps the value given before the command instead of the command's default.
    """

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--config",
        type=Path,
        default=default(None),
        metavar="PATH",
        help="config file (default: $VIGIA_CONFIG or ./vigia.yaml)",
    )
    parser.add_argument("--log-format", choices=["text", "json"], default=default("text"), help="log line format")
    parser.add_argument("--log-level", default=default("WARNING"), help="DEBUG, INFO, WARNING (default) or ERROR")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _add_common_options(common, defaults=False)

    parser = argparse.ArgumentParser(
        prog="vigia",
        description="Vigía watches Spanish-language news and posts matching stories to Slack.",
    )
    _add_common_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("demo", parents=[common], help="the whole pipeline offline, on loopback")
    demo.add_argument("--quiet", action="store_true", help="print only the summary, not the Slack messages")

    crawl = commands.add_parser("crawl", parents=[common], help="crawl every source once, deliver alerts, exit")
    crawl.add_argument("--source", action="append", metavar="NAME", help="crawl only this source (repeatable)")
    crawl.add_argument("--no-deliver", action="store_true", help="store alerts in the outbox but do not post them")
    crawl.add_argument("--refetch", action="store_true", help="fetch article pages again even if already stored")
    crawl.add_argument("--report-json", type=Path, metavar="PATH", help="also write the crawl report as JSON")

    commands.add_parser("run", parents=[common], help="the daemon: poll sources on their intervals until SIGTERM")
    commands.add_parser("check", parents=[common], help="validate the config and the rules")

    match = commands.add_parser("match", parents=[common], help="extract and match one page; explain the result")
    match.add_argument("target", metavar="FILE_OR_URL")

    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    db_commands.add_parser("upgrade", parents=[common], help="apply migrations")

    alerts = commands.add_parser("alerts", parents=[common], help="list pending and failed alerts")
    alerts_commands = alerts.add_subparsers(dest="alerts_command", metavar="SUBCOMMAND")
    alerts_commands.add_parser("retry", parents=[common], help="re-queue failed alerts and unblock channels")

    commands.add_parser("sources", parents=[common], help="list each source's health")

    worker = commands.add_parser("worker", parents=[common], help="with crawler.redis_url: a crawl worker taking due listings from Redis")
    worker.add_argument("--stdio", action="store_true", help=argparse.SUPPRESS)  # the daemon's own worker
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        return int(dispatch(args, out, err))
    except ConfigError as exc:
        print(f"vigia: config error: {exc}", file=err)
        return ExitStatus.CONFIG
    except RuleError as exc:
        print(f"vigia: rule error: {exc}", file=err)
        return ExitStatus.CONFIG
    except DatabaseUnreachable as exc:
        config_file = args.config or default_path()
        print(f"vigia: config error: {config_file}: database.url: {exc}", file=err)
        return ExitStatus.CONFIG
    except (VigiaError, StorageError) as exc:
        print(f"vigia: {exc}", file=err)
        return getattr(exc, "exit_status", ExitStatus.ERROR)
    except KeyboardInterrupt:
        print("vigia: interrupted", file=err)
        return ExitStatus.INTERRUPTED


def dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.command == "demo":
        setup_logging(args, [])
        from vigia.commands.demo import demo_command

        return demo_command(out, err, quiet=args.quiet)

    config = load(args)
    setup_logging(args, [config.slack.token or "", config.slack.webhook_url or ""])
    if args.command == "crawl":
        from vigia.commands.crawl import crawl_command

        return crawl_command(
            config, out, err, only=args.source, deliver=not args.no_deliver, refetch=args.refetch, report_json=args.report_json
        )
    if args.command == "run":
        from vigia.commands.run import run_command

        return run_command(config, out, err)
    if args.command == "check":
        from vigia.commands.check import check_command

        return check_command(config, out, err)
    if args.command == "match":
        from vigia.commands.match import match_command

        return match_command(config, args.target, out, err)
    if args.command == "db":
        from vigia.commands.db import upgrade_command

        return upgrade_command(config, out, err)
    if args.command == "alerts":
        from vigia.commands.alerts import alerts_command
        from vigia.database import open_config_database

        _, sessions = open_config_database(config)
        return alerts_command(sessions, out, retry=args.alerts_command == "retry")
    if args.command == "sources":
        from vigia.commands.sources import sources_command

        return sources_command(config, out, err)
    if args.command == "worker":
        from vigia.commands.worker import worker_command

        return worker_command(config, out, err, stdio=args.stdio)
    raise AssertionError(f"unhandled command {args.command}")


def load(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def setup_logging(args: argparse.Namespace, secrets: list[str]) -> None:
    try:
        from vigia.logs import setup_logging as configure
    except ImportError:  # the daemon's structured logging is optional for one-off commands
        import logging

        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return
    configure(args.log_format, args.log_level.upper(), [s for s in secrets if s])
