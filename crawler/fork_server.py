"""Run once in the extraction pool's fork server, before it forks a single worker.

Each worker is forked from the fork server (``forkserver`` start method), so what the
fork server holds, every worker shares, page for page, until one of them writes to it.
Importing this module (the pool names it in ``set_forkserver_preload``, which takes
module names) loads trafilatura and fills its lazy caches there (``warm_up``: justext's
stoplists, tld's suffix trie), ~70 MB that each worker otherwise held for itself. ``gc.freeze()`` then moves all of it
to the collector's permanent generation: a worker's collections never write the GC
headers of those objects, which would copy their pages into the worker one by one.
"""

from __future__ import annotations

import gc

import crawler.pool_lifetime  # (the workers' initializer)
import crawler.worker_memory  # noqa: F401  (what the workers run: read_crawled_article and its imports)
from crawler.extraction import warm_up
from crawler.fork_main import stand_in_for_main_script

stand_in_for_main_script()  # the workers need none of the calling script
warm_up()
gc.collect()  # what warm_up left behind is freed now, not in each worker after the fork
gc.freeze()
