"""Which of a listing's articles a poll asks for: newest first, once each, never one already stored.

A listing's entries are deduplicated by canonical URL against each other and against
the articles this run has in flight, looked up in the store in chunks (unless the spec
says refetch), and cut at the source's article budget for this crawl: a listing with
more new entries than that is cut, the cut is reported, and the rest are requested by
the next poll (the budget counts only articles not stored yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from crawler.canonical_url import canonical_url
from crawler.items import ListedArticle
from crawler.state import CrawlRun
from storage.queries import known_urls

KNOWN_URLS_CHUNK = 500  # listed URLs looked up in the store per query


def new_articles(run: CrawlRun, name: str, listed: Iterable[ListedArticle]) -> Iterator[tuple[str, ListedArticle]]:
    """``(canonical URL, entry)`` for each listed article of source ``name`` to request, within its budget."""
    fresh = _unscheduled(run, listed)
    budget = run.budget(name)
    # ``scheduled`` is this process's in-flight set. With a shared queue (Redis) another
    # worker may fetch the article and end its request, so the key would stay here for
    # good and a failed article would never be asked for again: there the shared
    # dupefilter keeps a URL from being fetched twice at once.
    track_in_flight = not run.spec.redis_url
    keys = list(fresh)
    for start in range(0, len(keys), KNOWN_URLS_CHUNK):
        chunk = keys[start : start + KNOWN_URLS_CHUNK]
        known = _stored(run, chunk)
        for position, key in enumerate(chunk, start):
            if key in known:  # the store deduplicates it; no request, so nothing in flight
                run.already_known += 1
                continue
            if budget.articles_left <= 0:
                run.note(
                    name,
                    f"listing capped: requested the newest {run.spec.max_articles_per_source} new articles; "
                    f"up to {len(keys) - position} older entries left for the next poll",
                )
                return
            budget.articles_left -= 1
            if track_in_flight:
                run.scheduled.add(key)
            yield key, fresh[key]


def newest_first(listed: Iterable[ListedArticle]) -> list[ListedArticle]:
    """Dated entries newest first, then undated ones in the listing's own order.

    Feeds are usually newest first already, sitemaps often oldest first; a bound on what
    is read must keep today's stories whatever the order.
    """
    entries = list(listed)
    dated = sorted((e for e in entries if e.published), key=lambda e: e.published.timestamp(), reverse=True)  # type: ignore[union-attr]
    return dated + [e for e in entries if e.published is None]


def _unscheduled(run: CrawlRun, listed: Iterable[ListedArticle]) -> dict[str, ListedArticle]:
    """The entries by canonical URL, newest first, without unusable URLs nor ones this run has in flight."""
    fresh: dict[str, ListedArticle] = {}
    for entry in newest_first(listed):
        try:
            key = canonical_url(entry.url)
        except ValueError:
            continue
        if key not in run.scheduled and key not in fresh:
            fresh[key] = entry
    return fresh


def _stored(run: CrawlRun, keys: list[str]) -> set[str]:
    """Which of these canonical URLs the store has already (none when the spec says refetch)."""
    if run.spec.refetch:
        return set()
    with run.sessions() as session:
        return known_urls(session, keys)
