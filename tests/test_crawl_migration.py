"""`vigia crawl` migrates a new database in a short-lived child: the crawl process itself never imports Alembic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from storage.db import SCHEMA_HEAD
from tests.support.news_site import NewsSite

REPO = Path(__file__).resolve().parents[1]
# The crawl as the CLI runs it, then which of the modules it loaded are Alembic's.
PROBE = """
import json, sys
from vigia.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "alembic": sorted(m for m in sys.modules if m.split(".")[0] == "alembic")}))
"""


def crawl(config: Path) -> dict:  # type: ignore[type-arg]
    argv = ["crawl", "--no-deliver", "--config", str(config)]
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_crawl_of_a_new_database_migrates_it_without_alembic_in_the_crawl(tmp_path: Path) -> None:
    database = tmp_path / "vigia.db"
    with NewsSite() as site:
        site.add("/rss.xml", '<rss version="2.0"><channel><title>t</title></channel></rss>', content_type="application/rss+xml")
        config = tmp_path / "vigia.yaml"
        config.write_text(json.dumps({
            "database": {"url": f"sqlite:///{database}"},
            "slack": {"channel": "#c"},
            "sources": [{"name": "Diario", "type": "rss", "url": site.url("/rss.xml")}],
        }))  # fmt: skip
        first, second = crawl(config), crawl(config)
    assert first == {"code": 0, "alembic": []}
    assert second == {"code": 0, "alembic": []}
    with create_engine(f"sqlite:///{database}").connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
        assert connection.execute(text("SELECT name FROM sources")).scalars().all() == ["Diario"]
