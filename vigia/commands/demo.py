"""``vigia demo``: the whole pipeline offline, in one command, for a first look.

Sample outlets and a Slack stand-in run on loopback; a real config file is written to a
temporary folder and goes through the same loading, crawling and delivery code as
``vigia crawl``, into a temporary SQLite database.
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
from vigia.from_config import crawl_once, deliver
from vigia.database import open_config_database
from vigia.demo import DemoSite
from vigia.errors import ExitStatus
from vigia.slack_standin import SlackStandIn, render_message

DEMO_TOKEN = "xoxb-demo-token"


def demo_command(out: TextIO, err: TextIO, *, quiet: bool = False) -> int:
    # The stand-in prints nothing as it goes: a syndicated copy arrives after other stories,
    # and printed live its reply would land under the wrong message. Messages are printed
    # at the end instead, each thread under its parent.
    with tempfile.TemporaryDirectory(prefix="vigia-demo-") as folder, DemoSite() as site, SlackStandIn(
        token=DEMO_TOKEN
    ) as slack:
        config_path = Path(folder) / "vigia.yaml"
        config_path.write_text(yaml.safe_dump(demo_config(site, slack.url, Path(folder)), allow_unicode=True, sort_keys=False))
        config = load_config(config_path, environ={})
        print(f"Vigía demo: {len(site.sources())} sample outlets at {site.base}, Slack stand-in at {slack.url}", file=out)
        for source in config.sources:
            print(f"  {source.name} ({source.type}): {source.url}", file=out)
        print("Crawling with the built-in watchlist mx-us-security…\n", file=out)
        out.flush()

        progress = ProgressLine(err)
        report = crawl_once(config, on_progress=progress)
        progress.finish()
        delivery = deliver(config)
        if not quiet:
            print_channel(slack, out)
        print_verdicts(article_verdicts(config), out)
        print("", file=out)
        print_summary(report, delivery, out)
        print(
            f"\n{len(slack.messages)} message(s) posted, {len(slack.all_messages) - len(slack.messages)} thread "
            f"repl(ies). Next: copy vigia.example.yaml to vigia.yaml, add your outlets and run `vigia crawl`.",
            file=out,
        )
    return ExitStatus.SUCCESS


def demo_config(site: DemoSite, slack_url: str, folder: Path) -> dict:
    return {
        "database": {"url": f"sqlite:///{folder / 'demo.db'}"},
        "slack": {"token": DEMO_TOKEN, "channel": "#monitoreo-seguridad", "base_url": slack_url},
        "alerts": {"max_age": "3d"},
        "sources": site.sources(),
        "rules": [{"builtin": "mx-us-security"}],
        "crawler": {"autothrottle": False},
    }


def print_channel(slack: SlackStandIn, out: TextIO) -> None:
    """Every top-level message as it finally looks (after edits), its thread replies under it."""
    for message in slack.messages:
        print(render_message(message), file=out)
        for reply in slack.replies(message["ts"]):
            print(render_message(reply), file=out)


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
