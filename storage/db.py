"""Engines, sessions and migrations: the one way the rest of Vigía opens the database."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import DatabaseUnreachable

if TYPE_CHECKING:  # Alembic is imported only to migrate (below)
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision (tests/test_storage_schema_head.py checks it is Alembic's head).
# A database already there is left alone without importing Alembic, which (with Mako, and
# Pygments where installed) would stay ~10 MB in each long-lived process: the daemon, its worker.
SCHEMA_HEAD = "0006"
# pg_advisory_lock key for "migrating Vigía's schema" (any bigint; this one spells "vigiamig").
MIGRATION_LOCK_KEY = 0x76696769616D6967


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def check_connection(engine: Engine) -> None:
    """Fail early, with the URL (password hidden), when the database is not there."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)  # the driver's own error, when there is one
        reason = str(orig) if orig else str(exc)
        raise DatabaseUnreachable(engine.url.render_as_string(hide_password=True), reason.strip()) from exc


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (every command does this on start).

    Several processes start at once (workers, a crawl from cron beside the daemon): one
    migrates while the others wait, then find the schema current and do nothing. Without
    the lock two of them create ``alembic_version`` together and one dies on its unique key.
    """
    check_connection(engine)
    if revision == "head" and schema_revision(engine) == SCHEMA_HEAD:
        return
    from alembic import command

    with migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def schema_revision(engine: Engine) -> str | None:
    """The revision Alembic last recorded in the database; None before the first migration."""
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:  # no alembic_version table yet: a new database
        return None
    return versions[0] if len(versions) == 1 else None  # several heads: Alembic's business


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the database-wide migration lock: a PostgreSQL session advisory lock (released by
    the server if the process dies), or an exclusive lock on a file beside a SQLite database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield  # one process's private database, or a URI form we leave to SQLite's own locking
        return
    try:
        handle = open(f"{database}-migration.lock", "a+b")  # noqa: SIM115 - held open for the lock's lifetime
    except OSError:  # a folder we may not write to: SQLite's own locking is all there is
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        yield


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Engine + migrated schema + session factory, as every command wants them."""
    engine = make_engine(url)
    upgrade(engine)
    return engine, session_factory(engine)
