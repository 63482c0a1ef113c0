"""Adaptive polling made visible: the daemon says when a source's pace changes and why, and
`vigia sources` shows the interval in use and the next poll."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.labelled import article_page, feed
from tests.support.news_site import NewsSite
from tests.support.waiting import eventually
from tests.test_cli import REPO, run_cli
from tests.test_cli_dry_run import relevant_article

ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


def test_a_pace_raised_to_min_every_is_logged_and_shown(tmp_path: Path) -> None:
    article = relevant_article()
    config = tmp_path / "vigia.yaml"
    with NewsSite() as site:
        site.add(article.path, article_page(article))
        content_type, body = feed("rss", "Diario Uno", site.base_url, [article])
        site.add("/rss.xml", body, content_type=content_type)
        config.write_text(
            f"""database:
  url: sqlite:///{tmp_path / 'v.db'}
sources:
  - {{name: Diario Uno, type: rss, url: "{site.url('/rss.xml')}", every: 15s}}
crawler:
  autothrottle: false
daemon:
  http: 127.0.0.1:0
  grace: 5s
""",
            encoding="utf-8",
        )
        code, out, _ = run_cli("sources", "--config", str(config))
        assert code == 0
        assert re.search(r"Diario Uno\s+rss\s+never\s+15s\s+15s\s+at start", out), out

        process = subprocess.Popen(
            [sys.executable, "-m", "vigia", "run", "--dry-run", "--log-format", "json", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=ENV,
        )
        try:
            # Until the poll is recorded (the source is ok, its new pace in use): no fixed wait.
            eventually(lambda: process.poll() is not None or _polled(config), 90, "the first poll of Diario Uno recorded")
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    paces = [line for line in lines if line["message"].startswith("polling Diario Uno every")]
    # every: 15s is below the default floor (daemon.min_every: 1m): one line says so.
    assert len(paces) == 1, stderr
    assert paces[0]["message"].startswith("polling Diario Uno every 1m (was 15s): ")
    assert "daemon.min_every (1m) is the floor" in paces[0]["message"]
    assert paces[0]["level"] == "info" and paces[0]["source"] == "Diario Uno"

    code, out, _ = run_cli("sources", "--config", str(config))
    assert code == 0
    row = re.search(r"Diario Uno\s+rss\s+ok\s+15s\s+1m\s+(\d{4}-\d\d-\d\d \d\d:\d\d UTC)", out)
    assert row, out


def _polled(config: Path) -> bool:
    code, out, _ = run_cli("sources", "--config", str(config))
    return code == 0 and re.search(r"Diario Uno\s+rss\s+ok\s+15s\s+1m\s", out) is not None
