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

from vigia.commands.crawl import ProgressLine, print_summary
from vigia.config import load_config
from vigia.crawl import crawl_once, deliver
from vigia.demo import DemoSite
from vigia.errors import ExitStatus
from vigia.slack_standin import SlackStandIn

DEMO_TOKEN = "xoxb-demo-token"


def demo_command(out: TextIO, err: TextIO, *, quiet: bool = False) -> int:
    with tempfile.TemporaryDirectory(prefix="vigia-demo-") as folder, DemoSite() as site, SlackStandIn(
        token=DEMO_TOKEN, printer=None if quiet else out
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
