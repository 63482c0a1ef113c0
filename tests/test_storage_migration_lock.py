"""Several processes migrating one empty database at once all succeed (one migrates, the others wait)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
PROCESSES = 3


def concurrent_upgrades(database_url: str, tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    config = tmp_path / "vigia.yaml"
    config.write_text(f"database: {{url: '{database_url}'}}\nslack: {{token: xoxb-test}}\n", encoding="utf-8")
    command = [sys.executable, "-m", "vigia", "db", "upgrade", "--config", str(config)]
    started = [subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(PROCESSES)]
    results = []
    for process in started:
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_first_migration_run_by_several_processes_at_once(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    database_url = request.getfixturevalue(f"{backend}_url")

    results = concurrent_upgrades(database_url, tmp_path)

    for result in results:
        assert result.returncode == 0, result.stderr
        assert "at revision" in result.stdout
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()
