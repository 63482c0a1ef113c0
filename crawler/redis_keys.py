"""The Redis keys of one deployment's shared crawl: jobs, results, polls, workers, queue, dupefilter.

Its own module, free of Scrapy, so that the daemon's scheduler (which only pushes jobs and
reads results) names the same keys as the workers without loading a crawler.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class RedisKeys:
    prefix: str

    @property
    def jobs(self) -> str:
        return f"{self.prefix}:jobs"

    @property
    def results(self) -> str:
        return f"{self.prefix}:results"

    def poll(self, poll_id: str) -> str:
        return f"{self.prefix}:poll:{poll_id}"

    def worker(self, name: str) -> str:
        return f"{self.prefix}:worker:{name}"

    @property
    def requests(self) -> str:
        return f"{self.prefix}:%(spider)s:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.prefix}:%(spider)s:dupefilter"
