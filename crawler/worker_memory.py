"""An extraction worker hands the memory of each page back to the system when done with it.

trafilatura builds lxml trees and strings many times a page's size. Freed, that memory
stays in the worker's heap, where glibc keeps it for reuse instead of returning it, so each
worker grew to the high-water mark of its largest pages (~10 MB more per worker in
bench/crawl.py). ``malloc_trim`` returns the free pages; where the C library has no such
call (not glibc), nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

from crawler.article import Article, read_crawled_article
from crawler.items import ListedArticle


def _find_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _find_malloc_trim()


# Pages at least this large (the largest ~12 % of the corpus) raise the high-water mark; a trim
# costs ~5 ms of CPU (the pages it returns fault in again), too much after every page.
LARGE_PAGE = 256 * 1024


def read_and_release(page: bytes, url: str, *, content_type: str | None, listed: ListedArticle) -> Article:
    """``read_crawled_article``; after a large page, the worker's free heap memory returned to the system."""
    large = len(page) >= LARGE_PAGE
    try:
        return read_crawled_article(page, url, content_type=content_type, listed=listed)
    finally:
        del page  # the page's bytes are freed before the trim, not after it
        if large and _MALLOC_TRIM is not None:
            _MALLOC_TRIM(0)
