"""The ``vigia`` command line: parse arguments, call one function per command.

Each command lives in vigia/commands/<name>.py, takes the loaded config and the output
streams, and returns an exit status. Errors become exit codes here and only here.

Start-up imports only argparse and the app's own errors: `vigia --help` and every test's
`python -m vigia ...` would otherwise pay for pydantic, SQLAlchemy and the rules package
(~0.25 s of CPU) before parsing a word. The config and each command's module come when
the command runs; the library errors caught below, from the module that raised them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from storage.errors import DatabaseUnreachable, StorageError
from vigia.errors import ConfigError, ExitStatus, VigiaError

if TYPE_CHECKING:
    from vigia.config import Config

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


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
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=default("WARNING"),
        metavar="LEVEL",
        help="DEBUG, INFO, WARNING (default) or ERROR; library chatter (Scrapy, Alembic) only at DEBUG",
    )


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _add_common_options(common, defaults=False)

    parser = argparse.ArgumentParser(
        prog="vigia",
        description="Vigía watches Spanish-language news and posts matching stories to Slack.",
        epilog="`vigia COMMAND --help` describes one command. Start with `vigia demo`.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    _add_common_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, title="commands")

    def command(name: str, summary: str, parent: argparse._SubParsersAction = commands) -> argparse.ArgumentParser:
        # help= is the line in `vigia --help`; description= heads `vigia NAME --help`.
        return parent.add_parser(name, parents=[common], help=summary, description=summary[:1].upper() + summary[1:] + ".")

    demo = command("demo", "the whole pipeline offline: sample outlets and a Slack stand-in on loopback (ignores --config)")
    demo.add_argument("--quiet", action="store_true", help="print only the summary, not the Slack messages")

    crawl = command("crawl", "crawl every source once, deliver alerts, print a summary, exit")
    crawl.add_argument("--source", action="append", metavar="NAME", help="crawl only this source (repeatable)")
    crawl.add_argument("--dry-run", action="store_true",
                       help="print each alert as Slack would show it instead of posting it (no slack section needed)")
    crawl.add_argument("--no-deliver", action="store_true", help="store alerts in the outbox but do not post them")
    crawl.add_argument("--refetch", action="store_true", help="fetch article pages again even if already stored")
    crawl.add_argument("--report-json", type=Path, metavar="PATH", help="also write the crawl report as JSON")

    run = command("run", "the daemon: poll each source on its interval, deliver alerts as they come, until SIGTERM")
    run.add_argument("--dry-run", action="store_true",
                     help="print each alert as Slack would show it instead of posting it (no slack section needed)")

    check = command("check", "validate the config and the rules; print what is wrong, with the file and the key")
    check.add_argument("--slack", action="store_true",
                       help="also ask Slack whether the token works and the bot can post in each channel")

    match = command("match", "extract and match one page or text; say which rules matched and why")
    target = match.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "target", metavar="FILE_OR_URL", nargs="?",
        help="an http(s) URL, a saved HTML page, a plain-text file (first line the title, then paragraphs), or - for stdin",
    )
    target.add_argument("--text", metavar="TEXT", help="match this text (first line the title) instead of a file")

    db = command("db", "database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True, title="subcommands")
    command("upgrade", "apply migrations (every command also does it on start)", db_commands)

    alerts = command("alerts", "list pending and failed alerts")
    alerts_commands = alerts.add_subparsers(dest="alerts_command", metavar="SUBCOMMAND", title="subcommands")
    command("retry", "re-queue failed alerts and unblock channels", alerts_commands)

    command("sources", "each source's health, polling interval in use and next poll")

    worker = command("worker", "with crawler.redis_url: a crawl worker taking due listings from Redis")
    worker.add_argument("--stdio", action="store_true", help=argparse.SUPPRESS)  # the daemon's own worker
    return parser


class _Version(argparse.Action):
    """argparse's own ``version`` action, with the version looked up only when asked for:
    importlib.metadata costs every other command a tenth of a second."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(f"{parser.prog} {_version()}", file=sys.stdout)
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vigia")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        return int(dispatch(args, out, err))
    except ConfigError as exc:
        for line in str(exc).splitlines():  # several problems: one line each, all of them
            print(f"vigia: config error: {line}", file=err)
        return ExitStatus.CONFIG
    except DatabaseUnreachable as exc:
        from vigia.config import default_path

        config_file = args.config or default_path()
        print(f"vigia: config error: {config_file}: database.url: {exc}", file=err)
        return ExitStatus.CONFIG
    except (VigiaError, StorageError) as exc:
        print(f"vigia: {exc}", file=err)
        return getattr(exc, "exit_status", ExitStatus.ERROR)
    except KeyboardInterrupt:
        print("vigia: interrupted", file=err)
        return ExitStatus.INTERRUPTED
    except Exception as exc:
        if _raised_by(exc, "rules.errors", "RuleError"):
            print(f"vigia: rule error: {exc}", file=err)
            return ExitStatus.CONFIG
        if _raised_by(exc, "sqlalchemy.exc", "SQLAlchemyError"):
            # A database that broke mid-run (locked, disk full, gone): one line, not a traceback.
            print(f"vigia: database error: {_first_line(exc)}", file=err)
            return ExitStatus.ERROR
        raise


def _raised_by(exc: Exception, module: str, name: str) -> bool:
    """Whether ``exc`` is a ``module.name``, without importing the module for it.

    A library that raised its error was imported to do so: one not yet imported raised nothing.
    """
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(exc, getattr(loaded, name))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.command == "demo":
        return _demo(args, out, err)
    config = load(args)
    setup_logging(args, [config.slack.token or "", config.slack.webhook_url or ""])
    command = COMMANDS.get(args.command)
    if command is None:
        raise AssertionError(f"unhandled command {args.command}")
    return command(config, args, out, err)


# Each command's module is imported only when that command runs: no command pays for another's imports.


def _demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    setup_logging(args, [])
    from vigia.commands.demo import demo_command

    if args.config is not None:
        print(f"vigia demo: --config {args.config} is ignored: the demo writes its own config", file=err)
    return demo_command(out, err, quiet=args.quiet)


def _crawl(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if config.sources:
        _warm_extraction()
    from vigia.commands.crawl import crawl_command

    return crawl_command(
        config, out, err, only=args.source, deliver=not args.no_deliver, refetch=args.refetch,
        report_json=args.report_json, dry_run=args.dry_run,
    )


def _warm_extraction() -> None:
    """Start the extraction fork server before loading the crawler: it warms trafilatura
    on the other core while this process imports Scrapy and reads its rules and schema."""
    from crawler.fork_main import start_fork_server

    start_fork_server()


def _run(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from vigia.commands.run import run_command

    return run_command(config, out, err, dry_run=args.dry_run)


def _check(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from vigia.commands.check import check_command

    return check_command(config, out, err, slack=args.slack)


def _match(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from vigia.commands.match import match_command

    return match_command(config, args.target, out, err, text=args.text)


def _db(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from vigia.commands.db import upgrade_command

    return upgrade_command(config, out, err)


def _alerts(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from vigia.commands.alerts import alerts_command
    from vigia.database import open_config_database

    _, sessions = open_config_database(config)
    return alerts_command(sessions, out, retry=args.alerts_command == "retry")


def _sources(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from vigia.commands.sources import sources_command

    return sources_command(config, out, err)


def _worker(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _warm_extraction()
    from vigia.commands.worker import worker_command

    return worker_command(config, out, err, stdio=args.stdio)


# Every command but ``demo``, which writes its own config: called with the loaded config.
COMMANDS: dict[str, Callable[[Config, argparse.Namespace, TextIO, TextIO], int]] = {
    "crawl": _crawl,
    "run": _run,
    "check": _check,
    "match": _match,
    "db": _db,
    "alerts": _alerts,
    "sources": _sources,
    "worker": _worker,
}


def load(args: argparse.Namespace) -> Config:
    """The config, checked for what this command needs: a way to post only where it posts."""
    from vigia.config import default_config, default_path, load_config

    posts = (args.command == "crawl" and not (args.dry_run or args.no_deliver)) or (
        args.command == "run" and not args.dry_run
    )
    if args.command == "match" and args.config is None and not os.environ.get("VIGIA_CONFIG") and not default_path().exists():
        return default_config()  # the built-in watchlist needs no file
    return load_config(args.config, require_slack=posts)


def setup_logging(args: argparse.Namespace, secrets: list[str]) -> None:
    try:
        from vigia.logs import setup_logging as configure
    except ImportError:  # the daemon's structured logging is optional for one-off commands
        import logging

        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return
    configure(args.log_format, args.log_level.upper(), [s for s in secrets if s])
