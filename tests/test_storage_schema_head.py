"""Opening a database migrates it when it is behind, and imports Alembic only then.

Every command opens the database through ``storage.db.open_database``; the long-lived ones
(the daemon, its crawl worker) would otherwise keep Alembic, Mako and Pygments in memory
for hours after a start-up check that found nothing to do.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from storage.db import SCHEMA_HEAD, alembic_config, make_engine, open_database, schema_revision, upgrade

REPO = Path(__file__).resolve().parents[1]


def test_schema_head_names_the_newest_migration() -> None:
    engine = create_engine("sqlite://")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == SCHEMA_HEAD


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_a_database_one_migration_behind_is_brought_to_the_head(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    script = ScriptDirectory.from_config(alembic_config(create_engine("sqlite://")))
    previous = script.get_revision(SCHEMA_HEAD).down_revision
    assert isinstance(previous, str)
    behind = make_engine(url)
    upgrade(behind, previous)
    assert schema_revision(behind) == previous
    behind.dispose()

    engine, _ = open_database(url)

    assert schema_revision(engine) == SCHEMA_HEAD
    engine.dispose()


def test_a_new_database_has_no_revision_until_migrated(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    assert schema_revision(engine) is None
    upgrade(engine)
    assert schema_revision(engine) == SCHEMA_HEAD
    engine.dispose()


def test_opening_a_current_database_does_not_import_alembic(sqlite_url: str) -> None:
    probe = (
        "import sys; from storage.db import open_database; "
        f"open_database({sqlite_url!r}); print('alembic' in sys.modules, 'mako' in sys.modules)"
    )

    def opened() -> str:
        done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert opened() == "True True"  # a new database: migrated, with Alembic
    assert opened() == "False False"  # the same database again: nothing to migrate, nothing imported
