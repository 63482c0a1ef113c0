"""Waiting in tests for what a daemon or a server does in its own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until ``check()`` is truthy and return its value; fail naming ``what`` otherwise.

    Quick at first (most waits end within a few tenths of a second), then every 0.2 s: a check
    may cost the process under test work of its own (a /metrics scrape), and on a shared 2-core
    machine twenty checks a second for a minute take CPU from the very process awaited.
    """
    deadline = time.monotonic() + timeout
    pause = 0.02
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(pause)
        pause = min(pause * 1.5, 0.2)
    pytest.fail(f"after {timeout:g}s still waiting for: {what}")
