"""Run the longest tests first, so that neither xdist worker is left alone with a long one at the end.

The order is by each test's duration in the last run that timed it (kept in pytest's cache,
``.pytest_cache``, under ``vigia/durations``), and, for a test never timed, by its tier: daemon
tests, then other end-to-end ones, then the rest (tiers from tests/conftest.py, whose hook runs
first). Only the order changes: every test still runs, alone, with its own fixtures.

Every xdist worker collects and sorts the same way (the cache is written by the controller when
the run ends, never while workers read it), as xdist requires.
"""

from __future__ import annotations

import pytest

CACHE_KEY = "vigia/durations"
# Tests shorter than this keep their place (a module's tests together, as written): the order
# only matters for the long ones.
_SHORT = 1.0


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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if getattr(config, "cache", None) is None:
        return
    known: dict[str, float] = config.cache.get(CACHE_KEY, {})
    items.sort(key=lambda item: -_weight(item, known))  # stable: equal weights keep their order


_timed: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Set-up counts too: a module's expensive fixture is paid by its first test.
    _timed[report.nodeid] = _timed.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if getattr(config, "cache", None) is None or hasattr(config, "workerinput") or not _timed:
        return  # an xdist worker: the controller, which sees every report, writes
    known: dict[str, float] = config.cache.get(CACHE_KEY, {})
    config.cache.set(CACHE_KEY, {**known, **{nodeid: round(seconds, 2) for nodeid, seconds in _timed.items()}})
