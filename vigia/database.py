"""Opening the configured database, with the config file named in every failure."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.db import open_database
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
