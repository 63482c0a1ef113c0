"""``vigia run``: the daemon. Polls each source on its own interval, delivers as alerts come, until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from alerts.dispatcher import DeliveryReport, deliver_pending
from alerts.instances import instance_id
from vigia.config import Config
from vigia.daemon.lifecycle import Daemon
from vigia.database import migrate_in_child, open_config_database
from vigia.dry_run import PrintingSender
from vigia.errors import ExitStatus
from vigia.from_config import load_ruleset, slack_settings
from vigia.logs import announce, current_format


def run_command(config: Config, out: TextIO, err: TextIO, *, dry_run: bool = False) -> int:
    """Open the database (migrating it), then run the daemon until it is told to stop.

    ``dry_run``: alerts are printed on ``out`` as Slack would show them, never posted.
    """
    if not config.sources:
        print(f"vigia run: {config.path} lists no sources; add some under `sources:`", file=err)
        return ExitStatus.CONFIG
    load_ruleset(config)  # a RuleError here is exit 2 now, not a failure in every crawl later
    root_level = logging.getLogger().getEffectiveLevel()
    # Migrations run in a child that exits: the daemon itself never loads Alembic.
    migrated = migrate_in_child(config, current_format(), logging.getLevelName(root_level))
    if migrated != ExitStatus.SUCCESS:
        return migrated  # the child said why on stderr
    _, sessions = open_config_database(config)
    # Crawl processes log warnings and errors only (unless debugging): the daemon logs a
    # summary line per crawl, and Scrapy's INFO stats dumps would drown it.
    child_level = "DEBUG" if root_level <= logging.DEBUG else "ERROR" if root_level >= logging.ERROR else "WARNING"
    # A daemon is watched through its log: at the CLI's default (WARNING) it would look idle.
    if root_level == logging.WARNING:
        announce("vigia")
    daemon = Daemon(config, sessions, delivery_for(sessions, out if dry_run else None), log_format=current_format(),
                    log_level=child_level, require_slack=not dry_run)
    return asyncio.run(daemon.run())


def delivery_for(sessions: sessionmaker[Session], printer: TextIO | None = None) -> Callable[[Config], DeliveryReport]:
    """The dispatcher call the daemon repeats: deliver what is due with the current Slack settings.

    With a ``printer`` (``--dry-run``) each message is written there instead of posted.
    """
    worker = instance_id("vigia-run")
    sender = PrintingSender(printer) if printer is not None else None

    def deliver(config: Config) -> DeliveryReport:
        return deliver_pending(sessions, slack_settings(config), worker=worker, sender=sender)

    return deliver
