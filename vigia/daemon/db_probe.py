"""Is the database there? A cheap ``SELECT 1`` every few seconds, for /healthz.

Checked in the background rather than per request: a health check must answer fast
even when the database hangs, and a scrape every second must not cost a query each.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from vigia.daemon.delivery_loop import in_daemon_thread

log = logging.getLogger("vigia.daemon.health")

EVERY = 5.0
TIMEOUT = 3.0


class DatabaseProbe:
    def __init__(self, sessions: sessionmaker[Session], every: float = EVERY, timeout: float = TIMEOUT) -> None:
        self.sessions = sessions
        self.every = every
        self.timeout = timeout
        self.ok = True
        self.detail = "database not checked yet"
        self.checked_at = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="vigia-db-probe")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def healthy(self) -> tuple[bool, str]:
        if self.ok and time.monotonic() - self.checked_at > self.every + 2 * self.timeout:
            return False, "the database check is overdue"
        return self.ok, self.detail

    async def check(self) -> None:
        try:
            await asyncio.wait_for(in_daemon_thread(self._select_one), self.timeout)
        except TimeoutError:
            self._set(False, f"database unreachable: no answer to SELECT 1 within {self.timeout:g}s")
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            self._set(False, f"database unreachable: {reason[:300]}")
        else:
            self._set(True, "database reachable")

    def _select_one(self) -> None:
        with self.sessions() as session:
            session.execute(text("SELECT 1"))

    def _set(self, ok: bool, detail: str) -> None:
        if ok != self.ok:
            (log.info if ok else log.error)(detail)
        self.ok, self.detail, self.checked_at = ok, detail, time.monotonic()

    async def _run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.every)
