"""Shared fixtures (databases on both backends, the shared data folder, loopback news sites)
and the test tiers.

Every test gets markers from what it uses, in ``pytest_collection_modifyitems`` (nobody
writes them by hand, so a new test lands in the right tier by itself):

- ``postgres``: it uses the ``postgres_url`` or ``migrated_postgres_url`` fixture, or runs with a parameter ``"postgres"``
  (``db_url[postgres]``, ``backend=postgres``).
- ``redis``: it uses the ``redis_client`` fixture, or its module imports the ``redis`` client (it talks to the Redis on 6379).
- ``daemon``: its module is ``tests/test_daemon_*.py``.
- ``e2e``: it uses the ``news_site``, ``other_news_site`` or ``corpus_pages`` fixture, or its module imports
  ``subprocess``, ``multiprocessing`` or ``concurrent.futures.ProcessPoolExecutor`` (it starts
  other processes: `vigia` itself, a crawl, extraction workers) or a loopback server
  (``tests.support.news_site``, ``tests.support.slack_standin``, ``vigia.demo``'s).  Decided per module for imports: a
  module that needs them for one test is slow to import and set up for all of them.
- ``unit``: none of the above: in-process, no server, no database but SQLite.

``.venv/bin/pytest -m unit`` is the fast tier; ``-m "not postgres"`` runs without PostgreSQL.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
import redis

from storage.db import open_database
from tests.support.corpus import CorpusPage, extract_once
from tests.support.news_site import NewsSite

pytest_plugins = ["tests.support.longest_first"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
POSTGRES_ADMIN = os.environ.get("VIGIA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """A client of the Redis on this machine; a clear failure, not a hang, when it is down."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not running at {REDIS_URL} (.ci/run starts it): {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"the shared data folder is missing: expected it at {SHARED}")
    return SHARED


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'vigia.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    yield from _postgres_database()


def _postgres_database(template: str | None = None) -> Iterator[str]:
    name = f"vigia_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database URL on each backend: tests using it run twice."""
    return request.getfixturevalue(f"{request.param}_url")


# Migrated databases: the schema made once per test process, copied for each test. For tests
# whose subject is not the migrations (those take the empty ones above): Alembic's upgrade
# costs a second or two of commits per test on PostgreSQL and half a second on SQLite.

@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "vigia.db"
    engine, _ = open_database(f"sqlite:///{path}")
    engine.dispose()  # the last connection closed checkpoints the WAL: the schema is in the file alone
    if path.with_name(path.name + "-wal").exists():
        pytest.fail(f"the template database {path} kept a WAL file: copying the file alone would lose it")
    return path


@pytest.fixture
def migrated_sqlite_url(_migrated_sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite database already migrated to the head revision."""
    path = tmp_path / "vigia.db"
    shutil.copyfile(_migrated_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _migrated_postgres_template() -> Iterator[str]:
    name = f"vigia_template_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        engine, _ = open_database(f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}")
        engine.dispose()  # CREATE DATABASE … TEMPLATE needs nobody connected to the template
        yield name
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_postgres_url(_migrated_postgres_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database already migrated to the head revision, dropped afterwards."""
    yield from _postgres_database(template=_migrated_postgres_template)


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_db_url(request: pytest.FixtureRequest) -> str:
    """:func:`db_url`, already migrated: tests using it run twice."""
    return request.getfixturevalue(f"migrated_{request.param}_url")


# Loopback news sites: started once per session (stopping one waits out serve_forever's 0.5 s
# poll), handed to each test with no routes and an empty request log, so a test sees only
# what it added and what its own crawl fetched, exactly as with a site of its own.

def _fresh(site: NewsSite) -> Iterator[NewsSite]:
    site.routes.clear()
    site.clear_log()
    try:
        yield site
    finally:
        site.routes.clear()
        site.clear_log()


@pytest.fixture(scope="session")
def _news_site_server() -> Iterator[NewsSite]:
    with NewsSite() as site:
        yield site


@pytest.fixture(scope="session")
def _other_news_site_server() -> Iterator[NewsSite]:
    with NewsSite() as site:
        yield site


@pytest.fixture
def news_site(_news_site_server: NewsSite) -> Iterator[NewsSite]:
    """A loopback news site for one test: no routes yet, nothing requested."""
    yield from _fresh(_news_site_server)


@pytest.fixture
def other_news_site(_other_news_site_server: NewsSite) -> Iterator[NewsSite]:
    """A second one, on another port (a different origin from :func:`news_site`)."""
    yield from _fresh(_other_news_site_server)


@pytest.fixture(scope="session")
def corpus_pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[CorpusPage, ...]:
    """The shared corpus's 225 article pages, extracted once per test run (tests.support.corpus)."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's folder is inside the run's: the parent is shared by this run's workers only.
    run_folder = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return extract_once(run_folder / "corpus-pages.pickle")


# What makes a test module start other processes or loopback servers (see the docstring).
_PROCESS_STARTERS = (subprocess, multiprocessing, concurrent.futures.ProcessPoolExecutor)
_SERVER_MODULES = ("tests.support.news_site", "tests.support.slack_standin", "vigia.demo.loopback", "vigia.demo.site")
_SITE_FIXTURES = {"news_site", "other_news_site", "corpus_pages"}


def _starts_processes_or_servers(module: ModuleType) -> bool:
    for value in vars(module).values():
        if any(value is starter for starter in _PROCESS_STARTERS):
            return True
        if getattr(value, "__module__", None) in _SERVER_MODULES or getattr(value, "__name__", None) in _SERVER_MODULES:
            return True
    return False


def _tiers(item: pytest.Item) -> list[str]:
    module = getattr(item, "module", None)
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    tiers = []
    if {"postgres_url", "migrated_postgres_url"} & set(getattr(item, "fixturenames", ())) or any(p == "postgres" for p in params if isinstance(p, str)):
        tiers.append("postgres")
    if "redis_client" in getattr(item, "fixturenames", ()) or (
            module is not None and any(getattr(v, "__name__", None) == "redis" for v in vars(module).values())):
        tiers.append("redis")
    if item.path.name.startswith("test_daemon_"):
        tiers.append("daemon")
    if _SITE_FIXTURES & set(getattr(item, "fixturenames", ())) or (
            module is not None and _starts_processes_or_servers(module)):
        tiers.append("e2e")
    return tiers or ["unit"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for tier in _tiers(item):
            item.add_marker(tier)
