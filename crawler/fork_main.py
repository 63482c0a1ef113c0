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
"""

from __future__ import annotations

import os
import sys
import types
from multiprocessing import spawn

MAIN_PATH = "VIGIA_FORK_SERVER_MAIN"


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
