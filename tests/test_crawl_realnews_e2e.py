"""`vigia crawl` end to end on the held-out set written from real Spanish news (issue 12):
third-country extraditions with Mexico as context stay silent, opinion on sovereignty and the
newly catalogued actors (CBP, ANAM, ATF, UIF/OFAC, Cofepris, INM/ICE, Guardia Nacional, Semar,
Defensa, FGR) alert, each story posts one message, and edited wire copies and a second outlet's
write-up of the same event go into its thread."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from tests.support.labelled import FORMATS, LabelledArticle, article_page, feed, outlets, slugify
from tests.support.news_site import NewsSite
from tests.support.slack_standin import QUICK_PACE, SlackStandIn

REPO = Path(__file__).resolve().parents[1]
HELDOUT = REPO / "tests" / "fixtures" / "rules" / "realnews-heldout.jsonl"
TOKEN = "xoxb-test-token"
THIRD_COUNTRY = {"rh01", "rh02", "rh03", "rh04", "rh05", "rh30"}


def load_heldout() -> list[LabelledArticle]:
    """The held-out rows as articles of the last hour (in the file's order, copies after their story)."""
    now = datetime.now(UTC)
    rows = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        LabelledArticle(
            id=row["id"], outlet=row["outlet"], title=row["title"], paragraphs=row["paragraphs"],
            author=row.get("author") or "Redacción", published=now - timedelta(minutes=60 - index),
            language=row.get("lang") or "es", relevant=row["relevant"], category=row["category"], group=row.get("group"),
            path=f"/{slugify(row['outlet'])}/2026/03/05/{slugify(row['title'])}-{row['id']}",
        )
        for index, row in enumerate(rows)
    ]


def vigia(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"SLACK_BOT_TOKEN": TOKEN, "PATH": "/usr/bin:/bin", "HOME": str(REPO)}
    return subprocess.run([sys.executable, "-m", "vigia", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


def _link(message: dict) -> str:
    found = re.search(r"https?://[^\s|>]+", message["text"])
    assert found, message["text"]
    return found.group(0).split("?")[0]


def test_real_news_kinds_one_message_per_story_copies_threaded_third_countries_silent(db_url: str, tmp_path: Path) -> None:
    articles = load_heldout()
    with NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        sources = []
        for index, (outlet, own) in enumerate(sorted(outlets(articles).items())):
            kind = FORMATS[index % 3]
            for article in own:
                site.add(article.path, article_page(article))
            content_type, body = feed(kind, outlet, site.base_url, own)
            site.add(f"/feeds/{index}.xml", body, content_type=content_type)
            sources.append({"name": outlet, "type": "sitemap" if kind == "sitemap" else "rss", "url": site.url(f"/feeds/{index}.xml")})
        config = {
            "database": {"url": db_url},
            "slack": {"token": "${SLACK_BOT_TOKEN}", "channel": "#monitoreo-seguridad", "base_url": slack.url,
                      "pace": QUICK_PACE},
            "sources": sources,
            "crawler": {"autothrottle": False, "concurrency_per_domain": 8},
        }
        path = tmp_path / "vigia.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

        result = vigia("crawl", "--config", str(path))
        assert result.returncode == 0, result.stderr + result.stdout

        by_url = {site.url(a.path): a for a in articles}
        alerted = [by_url[_link(m)] for m in slack.messages]
        keys = [a.group or a.id for a in alerted]
        assert len(keys) == len(set(keys)), keys  # one message per story
        assert not [a.id for a in alerted if a.id in THIRD_COUNTRY]
        assert not [a.id for a in alerted if not a.relevant]
        expected: dict[str, list[LabelledArticle]] = {}
        for article in articles:
            if article.relevant:
                expected.setdefault(article.group or article.id, []).append(article)
        assert set(keys) == set(expected)
        assert {"rh06", "rh07"} <= set(keys)  # the opinion pieces
        for message in slack.messages:
            story = by_url[_link(message)]
            if story.group:
                replies = slack.replies(message["ts"])
                assert len(replies) == len(expected[story.group]) - 1, (story.group, replies)
                assert all(copy.outlet in str(replies) for copy in expected[story.group] if copy is not story)
