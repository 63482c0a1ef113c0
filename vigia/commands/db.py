"""``vigia db upgrade``: apply migrations (the other commands do it on start too)."""

from __future__ import annotations

from typing import TextIO

from sqlalchemy import inspect

from vigia.config import Config
from vigia.database import open_config_database
from vigia.errors import ExitStatus


def upgrade_command(config: Config, out: TextIO, err: TextIO) -> int:
    engine, _ = open_config_database(config)
    with engine.connect() as connection:
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    tables = sorted(t for t in inspect(engine).get_table_names() if t != "alembic_version")
    print(f"database {engine.url.render_as_string(hide_password=True)} at revision {version}", file=out)
    print(f"  tables: {', '.join(tables)}", file=out)
    engine.dispose()
    return ExitStatus.SUCCESS
