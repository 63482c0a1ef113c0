"""`vigia run` migrates its database in a child process, so that Alembic never stays in the daemon."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from storage.db import SCHEMA_HEAD, make_engine, schema_revision

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import sys
from pathlib import Path
from vigia.config import load_config
from vigia.database import migrate_in_child
status = migrate_in_child(load_config(Path(sys.argv[1]), require_slack=False), "text", "WARNING")
print(status, "alembic" in sys.modules)
"""


def migrate(tmp_path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "vigia.yaml"
    config.write_text(f"database: {{url: '{database_url}'}}\n", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(config)], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_a_new_database_is_migrated_by_a_child_and_alembic_stays_out_of_the_caller(tmp_path: Path, sqlite_url: str) -> None:
    done = migrate(tmp_path, sqlite_url)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "False"]
    engine = make_engine(sqlite_url)
    assert schema_revision(engine) == SCHEMA_HEAD
    engine.dispose()
    assert migrate(tmp_path, sqlite_url).stdout.split() == ["0", "False"]  # current: nothing to do


def test_an_unreachable_database_is_exit_2_and_the_childs_message_names_the_key(tmp_path: Path) -> None:
    done = migrate(tmp_path, "postgresql://vigia@127.0.0.1:1/none")

    assert done.stdout.split() == ["2", "False"]
    assert f"vigia: config error: {tmp_path / 'vigia.yaml'}: database.url:" in done.stderr
