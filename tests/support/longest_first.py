"""Run the longest tests first, so that neither xdist worker is left alone with a long one at the end.

The order is by each test's duration in the last run that timed it: pytest's cache
(``.pytest_cache``, under ``vigia/durations``) on a checkout that has run the suite, and
otherwise ``tests/durations.json``, kept in the repository for a fresh clone (CI) — a hint for
the order, never a result. A test in neither goes by its tier: daemon tests, then other
end-to-end ones, then the rest (tiers from tests/conftest.py, whose hook runs first). Only the
order changes: every test still runs, alone, with its own fixtures.

Refresh the file after adding or speeding up long tests (it is what a clean clone goes by):

    .venv/bin/pytest -p no:cacheprovider --store-durations

xdist hands each worker its tests in order, one or two at a time (``--maxschedchunk 1`` in
pyproject.toml): its default first hands each worker a quarter of its share in one block, and
the longest tests, all at the front, would go to the first worker alone.

Every xdist worker collects and sorts the same way (the cache and the file are written by the
controller when the run ends, never while workers read them), as xdist requires.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CACHE_KEY = "vigia/durations"
DURATIONS_FILE = Path(__file__).resolve().parents[1] / "durations.json"
# Tests shorter than this keep their place (a module's tests together, as written): the order
# only matters for the long ones.
_SHORT = 1.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store-durations", action="store_true",
        help=f"write this run's test durations to {DURATIONS_FILE.name} (the order a fresh clone runs in)",
    )


def _weight(item: pytest.Item, known: dict[str, float]) -> float:
    seconds = known.get(item.nodeid)
    if seconds is None:
        seconds = _untimed({mark.name for mark in item.iter_markers()})
    return seconds if seconds >= _SHORT else 0.0


def _untimed(tiers: set[str]) -> float:
    """Seconds assumed for a test never timed: a daemon started, another process, a server."""
    if "e2e" in tiers:
        return 30.0 if "daemon" in tiers else 10.0
    return 1.0 if tiers & {"postgres", "redis"} else 0.0


def _stored() -> dict[str, float]:
    try:
        return dict(json.loads(DURATIONS_FILE.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}


def _cached(config: pytest.Config) -> dict[str, float]:
    cache = getattr(config, "cache", None)  # None with -p no:cacheprovider
    return cache.get(CACHE_KEY, {}) if cache is not None else {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This checkout's own timings win: the file is from another run, maybe another machine.
    known = {**_stored(), **_cached(config)}
    items.sort(key=lambda item: -_weight(item, known))  # stable: equal weights keep their order


_timed: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Set-up counts too: a module's expensive fixture is paid by its first test.
    _timed[report.nodeid] = _timed.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput") or not _timed:
        return  # an xdist worker: the controller, which sees every report, writes
    timed = {nodeid: round(seconds, 2) for nodeid, seconds in _timed.items()}
    cache = getattr(config, "cache", None)
    if cache is not None:
        cache.set(CACHE_KEY, {**cache.get(CACHE_KEY, {}), **timed})
    if config.getoption("store_durations"):
        # Tenths of a second: enough for an order, and a refresh changes only the lines that moved.
        stored = {**_stored(), **{nodeid: round(seconds, 1) for nodeid, seconds in timed.items()}}
        DURATIONS_FILE.write_text(json.dumps(dict(sorted(stored.items())), indent=0) + "\n", encoding="utf-8")
