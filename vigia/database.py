"""Opening the configured database, with the config file named in every failure."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import SCHEMA_HEAD, make_engine, open_database, schema_revision
from storage.errors import DatabaseUnreachable
from vigia.config import Config
from vigia.errors import ConfigError


def open_config_database(config: Config) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and sessions for config.database.url, migrated to the newest schema."""
    try:
        return open_database(config.database.url)
    except DatabaseUnreachable as exc:
        raise ConfigError(str(config.path), "database.url", str(exc)) from None
    except Exception as exc:  # a malformed URL, a missing driver
        if exc.__class__.__module__.startswith("sqlalchemy"):
            raise ConfigError(str(config.path), "database.url", str(exc)) from None
        raise


def migrate_in_child(config: Config, log_format: str, log_level: str) -> int:
    """Bring the schema to the newest revision in a short-lived ``vigia db upgrade``; its exit status.

    For the long-lived daemon: Alembic (with Mako, ~10 MB) would stay in its memory for
    good after one migration. A current schema needs no child at all. The child says what
    went wrong on stderr, naming the config's file and key, as the daemon itself would.
    """
    child = start_migration(config, log_format, log_level)
    return 0 if child is None else child.wait()


def start_migration(
    config: Config, log_format: str, log_level: str, *, capture_log: bool = False
) -> subprocess.Popen[str] | None:
    """``vigia db upgrade`` started in a child, or None when the schema is current already.

    Returns at once, so the caller can load what it needs meanwhile; ``capture_log`` keeps
    the child's log lines (its stderr) for the caller to print where its own go.
    """
    if _schema_current(config.database.url):
        return None
    command = [
        sys.executable, "-m", "vigia", "db", "upgrade", "--config", str(config.path),
        "--log-format", log_format, "--log-level", log_level,
    ]  # fmt: skip
    stderr = subprocess.PIPE if capture_log else None
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, text=True)


def _schema_current(url: str) -> bool:
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ImportError):  # a malformed URL, a missing driver: the child says so
        return False
    try:
        return schema_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()
