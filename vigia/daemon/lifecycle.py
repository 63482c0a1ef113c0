"""The daemon from start to exit: start the parts, react to signals, stop in order.

Start: database (migrated), sources registered, health endpoint, dispatcher, the crawl
worker (or, with Redis, the job queue), scheduler. SIGHUP: read the config again; a valid
one replaces sources and intervals and the worker is replaced once its polls finish (so
rules and crawler settings change too), an invalid one is refused with one log line and
the running config stays. SIGTERM or SIGINT: no new polls; polls in flight get half the
grace period to finish, then the worker gets SIGTERM (Scrapy closes gracefully) and
SIGKILL at the deadline; the outbox is flushed once more; exit 0. Everything stored is in the database, so a restart picks up where
this one stopped: pending alerts go out, known articles are not alerted again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.orm import Session, sessionmaker

from rules import RuleError
from storage.models import utcnow
from vigia.config import Config, load_config
from vigia.crawl_spec import redis_prefix
from vigia.daemon.config_snapshot import AcceptedConfig, read_config_text
from vigia.daemon.db_probe import DatabaseProbe
from vigia.daemon.delivery_loop import DeliveryLoop, DeliveryReport, in_daemon_thread
from vigia.daemon.http_endpoint import HealthEndpoint
from vigia.daemon.metrics import DaemonMetrics
from vigia.daemon.schedule import SourceSchedule
from vigia.daemon.source_state import quarantined_sources, read_state, register_sources
from vigia.daemon.supervisor import WorkerCommand, WorkerSupervisor
from vigia.daemon.tick import CrawlJob
from vigia.errors import ConfigError, VigiaError
from vigia.from_config import load_ruleset
from vigia.logs import add_secrets

if TYPE_CHECKING:
    from vigia.daemon.redis_jobs import RedisPoller

log = logging.getLogger("vigia.daemon")

# Of the grace period: the share running crawls get to finish by themselves, and the
# moment they are killed; the rest is for the last delivery.
FINISH_SHARE = 0.5
KILL_SHARE = 0.8


class Daemon:
    def __init__(
        self,
        config: Config,
        sessions: sessionmaker[Session],
        deliver: Callable[[Config], DeliveryReport],
        *,
        log_format: str = "text",
        log_level: str = "WARNING",
        require_slack: bool = True,
    ) -> None:
        """``deliver(config)`` posts what is pending and returns a DeliveryReport.

        ``require_slack=False`` (a dry run prints instead of posting): a reloaded config may
        then leave out the slack section, as the one it started with could.
        """
        self.require_slack = require_slack
        self.config = config
        self.sessions = sessions
        self.metrics = DaemonMetrics()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.accepted = AcceptedConfig(config.path)
        self.accepted.accept(read_config_text(config.path))
        self.supervisor = self._poller(config, log_format, log_level)
        self.delivery = DeliveryLoop(lambda: deliver(self.config), self.metrics)
        self.database = DatabaseProbe(sessions)
        self.job = CrawlJob(lambda: self.config, sessions, self.supervisor, self.delivery, self.metrics, self._reschedule)
        self.schedule = SourceSchedule(self.scheduler, self.job.run, lambda name: self.metrics.skipped_ticks.labels(name).inc())
        self.endpoint = HealthEndpoint(config.daemon.http, self.metrics, self.healthy) if config.daemon.http else None
        self.stopping = False
        self._stop = asyncio.Event()

    def _poller(self, config: Config, log_format: str, log_level: str) -> WorkerSupervisor | RedisPoller:
        daemon = config.daemon
        if config.crawler.redis_url:
            from vigia.daemon.redis_jobs import RedisPoller  # only then the Redis client (~10 MB)

            return RedisPoller(
                config.crawler.redis_url,
                redis_prefix(config),
                timeout=daemon.crawl_timeout.total_seconds(),
                grace=daemon.grace.total_seconds(),
            )
        return WorkerSupervisor(
            WorkerCommand(config.path, log_format, log_level),
            timeout=daemon.crawl_timeout.total_seconds(),
            grace=daemon.grace.total_seconds(),
            max_age=daemon.worker_max_age.total_seconds() if daemon.worker_max_age else None,
            max_rss=daemon.worker_max_rss,
            config_path=self.accepted.for_crawl,
        )

    async def run(self) -> int:
        """Run until SIGTERM or SIGINT; return the exit status (0 after a clean stop)."""
        await self.start()
        self._install_signals()
        await self._stop.wait()
        await self.shutdown()
        return 0

    async def start(self) -> None:
        await in_daemon_thread(lambda: register_sources(self.sessions, self.config))
        if self.endpoint is not None:
            try:
                await self.endpoint.start()
            except OSError as exc:
                raise ConfigError(str(self.config.path), "daemon.http", f"cannot listen on {self.config.daemon.http}: {exc.strerror}") from None
        self.database.start()
        self.delivery.start()
        self.supervisor.start()
        self.scheduler.start()
        await self._plan_sources()
        self.metrics.up.set(1)
        log.info(
            "vigia run: watching %d sources; stop with Ctrl-C or SIGTERM, reload the config with SIGHUP",
            len(self.config.sources),
            extra={"pid": os.getpid(), "config": str(self.config.path)},
        )

    def healthy(self) -> tuple[bool, str]:
        if self.stopping:
            return False, "stopping"
        if not self.scheduler.running:
            return False, "the scheduler is not running"
        details = ["scheduler running"]
        for ok, detail in (self.database.healthy(), self.supervisor.alive(), self.delivery.alive()):
            if not ok:
                return False, detail
            details.append(detail)
        return True, ", ".join(details)

    def request_stop(self, reason: str) -> None:
        if not self.stopping:
            log.info("%s received: stopping (grace %gs)", reason, self.config.daemon.grace.total_seconds())
        self._stop.set()

    async def reload(self) -> None:
        """SIGHUP: replace the config if the file on disk is valid, keep the old one otherwise."""
        path = self.config.path
        try:
            text = read_config_text(path)
            new = await in_daemon_thread(lambda: load_config(path, require_slack=self.require_slack))
            await in_daemon_thread(lambda: load_ruleset(new))  # broken rules would fail every crawl
            if read_config_text(path) != text:
                raise ConfigError(str(path), None, "the file changed while it was being read; send SIGHUP again")
            await in_daemon_thread(lambda: register_sources(self.sessions, new))
        except (VigiaError, RuleError, OSError) as exc:
            log.error("config reload refused, still running the previous config: %s", exc, extra={"config": str(path)})
            return
        except Exception as exc:  # the database, say: same answer, keep running
            log.error("config reload failed, still running the previous config: %s", exc, extra={"config": str(path)})
            return
        if new.database.url != self.config.database.url:
            log.error("config reload refused: database.url cannot change while running; restart to switch databases")
            return
        if new.daemon.http != self.config.daemon.http:
            log.warning("daemon.http changed; the health endpoint moves at the next restart")
        add_secrets([new.slack.token or "", new.slack.webhook_url or ""])
        before = self.schedule.names()
        self.config = new
        self.accepted.accept(text)
        self.supervisor.timeout = new.daemon.crawl_timeout.total_seconds()
        self.supervisor.grace = new.daemon.grace.total_seconds()
        self.supervisor.recycle("the config was reloaded")  # rules and crawler settings live in the worker
        self.job.quarantined.clear()  # register_sources lifted them
        await self._plan_sources(replan=True)
        after = self.schedule.names()
        log.info(
            "config reloaded",
            extra={"config": str(path), "counts": {"sources": len(after), "added": len(after - before), "removed": len(before - after)}},
        )

    async def shutdown(self) -> None:
        self.stopping = True
        self.metrics.up.set(0)
        started = time.monotonic()
        grace = self.config.daemon.grace.total_seconds()
        self.scheduler.pause()
        running = list(self.job.active)
        if running:
            log.info("waiting for %d poll(s) in flight", len(running))
        await self.supervisor.stop(finish_by=started + grace * FINISH_SHARE, kill_by=started + grace * KILL_SHARE)
        if self.job.active:
            await asyncio.wait(list(self.job.active), timeout=max(0.1, started + grace * KILL_SHARE - time.monotonic()))
        self.scheduler.shutdown(wait=False)
        await self.delivery.stop(flush_timeout=max(1.0, started + grace * 0.95 - time.monotonic()))
        self.database.stop()
        if self.endpoint is not None:
            await self.endpoint.close()
        self.accepted.close()
        log.info("stopped", extra={"duration": time.monotonic() - started})

    async def _plan_sources(self, replan: bool = False) -> None:
        """Give each configured source its job; drop jobs of sources no longer configured."""
        configured = {source.name for source in self.config.sources}
        self.job.quarantined = await in_daemon_thread(lambda: quarantined_sources(self.sessions)) & configured
        for name in self.schedule.names() - configured:
            self.schedule.remove(name)
            self.metrics.forget_source(name)
        for source in self.config.sources:
            state = await in_daemon_thread(partial(read_state, self.sessions, source.name))
            if state is None:
                continue
            interval = self.job.adapt(source, state)
            first_run = None
            if not replan and state.last_crawled_at is not None:
                # A restart keeps the pace: no burst of crawls for sources polled a moment ago.
                first_run = max(state.last_crawled_at + timedelta(seconds=interval), utcnow())
            if source.name in self.schedule.names():
                self.schedule.put(source.name, interval, self.config.daemon.jitter)
            else:
                self.schedule.put(source.name, interval, self.config.daemon.jitter, first_run=first_run)

    def _reschedule(self, name: str, interval: float) -> None:
        if name in self.schedule.names() and not self.stopping:
            self.schedule.put(name, interval, self.config.daemon.jitter)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))
