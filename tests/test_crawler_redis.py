"""Scaling past one machine: the crawl's queue and dupefilter in the machine's real Redis."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import func, select

from crawler.spec import SourceSpec
from storage.db import open_database
from storage.models import Article
from tests.support.labelled import article_page, feed, load_labelled
from tests.support.news_site import NewsSite
from tests.test_crawler_run import crawl, make_spec

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_crawl_with_redis_queue_stores_every_article_once(redis_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from rules import load_rules

    prefix = f"vigia-test-{uuid.uuid4().hex[:8]}"
    articles = [a for a in load_labelled() if a.language == "es"][:6]
    db_url = f"sqlite:///{tmp_path / 'v.db'}"
    try:
        with NewsSite() as site:
            for article in articles:
                site.add(article.path, article_page(article))
            _, rss = feed("rss", "Uno", site.base_url, articles)
            _, atom = feed("atom", "Dos", site.base_url, articles[:3])  # the same articles listed twice
            site.add("/rss.xml", rss, content_type="application/rss+xml")
            site.add("/atom.xml", atom, content_type="application/atom+xml")
            spec = make_spec(
                db_url,
                [SourceSpec("Uno", "rss", site.url("/rss.xml"), "Uno"), SourceSpec("Dos", "rss", site.url("/atom.xml"), "Dos")],
                load_rules([{"builtin": "mx-us-security"}], Path(".")),
                redis_url=REDIS_URL,
                # Keep the queue's keys after the crawl so the test can see Redis was used.
                settings={
                    "SCHEDULER_PERSIST": True,
                    "SCHEDULER_QUEUE_KEY": f"{prefix}:%(spider)s:requests",
                    "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s:dupefilter",
                },
            )
            report = crawl(spec)
            page_requests = [r for r in site.requests if r.path in {a.path for a in articles}]
        assert report.new == len(articles)
        assert len(page_requests) == len(articles)  # each page fetched once, across both feeds
        _, sessions = open_database(db_url)
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Article)) == len(articles)
        # The shared dupefilter in Redis holds every article request (feeds bypass it: they are re-polled).
        assert redis_client.scard(f"{prefix}:news:dupefilter") == len(articles)
    finally:
        for key in redis_client.scan_iter(f"{prefix}:*"):
            redis_client.delete(key)
