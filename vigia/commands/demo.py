"""``vigia demo``: the whole pipeline offline, in one command, for a first look.

Sample outlets run on loopback; a real config file is written to a temporary folder and
goes through the same loading, crawling and delivery code as ``vigia crawl``, into a
temporary SQLite database. The alerts go through the real dispatcher into a channel kept
in memory (vigia.demo.channel) instead of Slack, and are printed at the end.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TextIO

import yaml
from sqlalchemy import select

from storage.models import Alert, Article
from vigia.commands.crawl import ProgressLine, print_summary
from vigia.config import Config, load_config
from vigia.database import open_config_database
from vigia.demo.channel import DemoChannel
from vigia.demo.site import DemoSite
from vigia.errors import ExitStatus
from vigia.from_config import crawl_once, deliver

DEMO_CHANNEL = "#monitoreo-seguridad"


def demo_command(out: TextIO, err: TextIO, *, quiet: bool = False) -> int:
    with tempfile.TemporaryDirectory(prefix="vigia-demo-") as folder, DemoSite() as site:
        config_path = Path(folder) / "vigia.yaml"
        config_path.write_text(yaml.safe_dump(demo_config(site, Path(folder)), allow_unicode=True, sort_keys=False))
        config = load_config(config_path, environ={}, require_slack=False)
        channel = DemoChannel()
        print(f"Vigía demo: {len(site.sources())} sample outlets at {site.base_url}, "
              f"Slack messages printed here (nothing is posted)", file=out)
        for source in config.sources:
            print(f"  {source.name} ({source.type}): {source.url}", file=out)
        print("Crawling with the built-in watchlist mx-us-security…\n", file=out)
        out.flush()

        progress = ProgressLine(err)
        report = crawl_once(config, on_progress=progress)
        progress.finish()
        delivery = deliver(config, channel)
        if not quiet:
            channel.print(out)
        print_verdicts(article_verdicts(config), out)
        print(file=out)
        print_summary(report, delivery, out)
        print(
            f"\n{len(channel.messages)} message(s) posted, {channel.replies} thread "
            f"repl(ies). Next: copy vigia.example.yaml to vigia.yaml, add your outlets and run `vigia crawl`.",
            file=out,
        )
    return ExitStatus.SUCCESS


def demo_config(site: DemoSite, folder: Path) -> dict:
    return {
        "database": {"url": f"sqlite:///{folder / 'demo.db'}"},
        "slack": {"channel": DEMO_CHANNEL},  # no token: the demo's channel is a DemoChannel
        "alerts": {"max_age": "3d"},
        "sources": site.sources(),
        "rules": [{"builtin": "mx-us-security"}],
        "crawler": {"autothrottle": False},
    }


def article_verdicts(config: Config) -> list[tuple[str, str, str]]:
    """(verdict, outlet, title) for every stored article, alerted first."""
    _, sessions = open_config_database(config)
    with sessions() as session:
        articles = session.scalars(select(Article).order_by(Article.id)).all()
        alerts = {a.article_id: a for a in session.scalars(select(Alert))}
        titles = {a.id: a.title or a.url for a in articles}
        rows = [(_verdict(article, alerts.get(article.id), titles), article.outlet, article.title or article.url)
                for article in articles]
    first = ("alerted", "threaded")  # what reached Slack, then what was left out and why
    return sorted(rows, key=lambda row: next((i for i, word in enumerate(first) if row[0].startswith(word)), len(first)))


def _verdict(article: Article, alert: Alert | None, titles: dict[int, str]) -> str:
    if alert is not None:
        if alert.status != "sent":
            return f"alert {alert.status}"
        if alert.kind == "copy":
            return "threaded (copy of «" + _short(titles.get(alert.story_id, "?"), 40) + "»)"
        return "alerted"
    if article.status == "unmatched":
        return "not relevant"
    if article.status == "matched":
        return "matched, not alerted"
    reason = article.skip_reason or article.status
    if reason.startswith("language: "):
        return f"not Spanish ({reason.removeprefix('language: ')})"
    return f"{article.status}: {reason}"


def print_verdicts(rows: list[tuple[str, str, str]], out: TextIO) -> None:
    print(f"Articles ({len(rows)}), and what became of each:", file=out)
    width = max((len(verdict) for verdict, _, _ in rows if not verdict.startswith("threaded")), default=8)
    for verdict, outlet, title in rows:
        if verdict.startswith("threaded"):
            print(f"  {'threaded':<{width}}  {outlet}: {_short(title, 70)}", file=out)
            print(f"  {'':<{width}}    {verdict.removeprefix('threaded ')}", file=out)
        else:
            print(f"  {verdict:<{width}}  {outlet}: {_short(title, 70)}", file=out)


def _short(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
