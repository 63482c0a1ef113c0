"""``vigia worker``: a long-lived crawl worker.

With ``crawler.redis_url`` set it takes due listings from Redis, where the daemon's
scheduler pushes them, and reports each poll back there (run one per machine or core).
``--stdio`` is the daemon's own worker: jobs on stdin, reports and heartbeats on stdout.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TextIO

from crawler.process import run_worker
from vigia.config import Config
from vigia.crawl_spec import crawl_spec, redis_prefix
from vigia.database import open_config_database
from vigia.errors import ConfigError, ExitStatus
from vigia.from_config import load_ruleset

if TYPE_CHECKING:  # imported where used: each mode loads only its own feed
    from crawler.redis_feed import RedisFeed
    from crawler.worker import PipeFeed


def worker_command(config: Config, out: TextIO, err: TextIO, *, stdio: bool = False) -> int:
    ruleset = load_ruleset(config)
    if stdio:
        # The protocol owns the real stdout; anything a library prints goes to stderr instead.
        protocol = os.dup(1)
        os.dup2(2, 1)
        from crawler.worker import PipeFeed, exit_with_parent

        feed: PipeFeed | RedisFeed = PipeFeed(0, protocol)
        exit_with_parent(os.getppid(), grace=config.daemon.grace.total_seconds())
    else:
        if not config.crawler.redis_url:
            raise ConfigError(
                str(config.path), "crawler.redis_url", "vigia worker takes its jobs from Redis: set crawler.redis_url"
            )
        from crawler.redis_feed import RedisFeed

        feed = RedisFeed(config.crawler.redis_url, redis_prefix(config))
    open_config_database(config)  # migrate, and fail with the config's key if unreachable
    spec = crawl_spec(config, [], ruleset)
    # A shared dupefilter entry outlives no poll: an article held by a worker that died is asked for again.
    spec.settings["VIGIA_DUPEFILTER_TTL"] = config.daemon.crawl_timeout.total_seconds()
    run_worker(spec, feed)
    return ExitStatus.SUCCESS
