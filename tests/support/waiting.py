"""Waiting in tests for what a daemon or a server does in its own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until ``check()`` is truthy and return its value; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"after {timeout:g}s still waiting for: {what}")
