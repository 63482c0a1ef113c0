"""The dialect's own INSERT, which has ON CONFLICT, for writes that several processes race on.

Only the dialect in use is imported: PostgreSQL's would cost every process on SQLite (the
daemon, its worker) ~2 MB.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def dialect_insert(dialect: str, table: Table) -> Any:
    """``INSERT`` of ``dialect`` (``"postgresql"`` or ``"sqlite"``) into ``table``."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def session_dialect(session: Session) -> str:
    return session.get_bind().dialect.name
