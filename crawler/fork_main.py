"""Extraction workers without the calling script's main module.

A ``forkserver`` worker imports its parent's main script (as ``__mp_main__``) before it
runs anything, unless it finds that script already there (multiprocessing compares the
path). The workers run only crawler functions, none of the script's; for the ``vigia``
console script that import was vigia.cli with SQLAlchemy and pydantic, ~19 MB that every
worker held for itself. A main module run by name (``python -m vigia``, the daemon's
crawl worker) is never imported by the workers: this gives a script the same.

The crawl names its main script in the environment the fork server starts with
(``set_forkserver_preload`` takes module names only); the fork server puts an empty
module of that path in its place, which its workers inherit.

``start_fork_server`` starts it as the first thing a crawl does: loading and warming
trafilatura there (``crawler.fork_server``) takes ~0.5 s of a core (more on a loaded
machine), which the crawl used to wait out when its pool started; begun early, it runs
while the crawl loads its own code, config, rules and schema on the other core.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import sys
import types
from multiprocessing import spawn

MAIN_PATH = "VIGIA_FORK_SERVER_MAIN"
PRELOAD = ["crawler.fork_server"]


def start_fork_server() -> multiprocessing.context.BaseContext:
    """The extraction pool's context, its fork server started (or already running).

    Returns at once: the fork server loads its preload in its own process, and the pool's
    first worker waits for it (a no-op once the server is up).
    """
    context = multiprocessing.get_context("forkserver")
    # Its default preload is __main__, which would re-run an unguarded calling script.
    context.set_forkserver_preload(PRELOAD)
    name_main_script()
    multiprocessing.forkserver.ensure_running()
    return context


def name_main_script() -> None:
    """In the crawl: name this process's main script, if it has one, to a fork server yet to start."""
    path = spawn.get_preparation_data("extraction").get("init_main_from_path")
    if path:
        os.environ[MAIN_PATH] = path
    else:
        os.environ.pop(MAIN_PATH, None)


def stand_in_for_main_script() -> None:
    """In the fork server: an empty ``__mp_main__`` of the script's path, so its workers skip importing it."""
    path = os.environ.pop(MAIN_PATH, None)
    if path:
        stand_in = types.ModuleType("__mp_main__")
        stand_in.__file__ = path
        sys.modules["__main__"] = sys.modules["__mp_main__"] = stand_in
