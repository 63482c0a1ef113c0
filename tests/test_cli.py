"""The CLI as a user meets it: demo, check, match, sources, help."""

from __future__ import annotations

import html
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vigia.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cli-test")
    path = tmp_path / "vigia.yaml"
    path.write_text(
        f"""
database:
  url: sqlite:///{tmp_path / 'v.db'}
slack:
  token: ${{SLACK_BOT_TOKEN}}
  base_url: http://127.0.0.1:9/api/
sources:
  - name: Diario Uno
    type: rss
    url: http://127.0.0.1:9/rss.xml
    every: 30s
rules:
  - builtin: mx-us-security
  - file: agua.yaml
""",
        encoding="utf-8",
    )
    (tmp_path / "agua.yaml").write_text(
        """
rules:
  - id: agua-mx-us
    name: Disputas por agua México–EU
    channel: "#agua"
    all:
      - any: ["Tratado de Aguas", "tratado de 1944", "Río Bravo", "Río Colorado"]
      - any: ["México", "Estados Unidos"]
    threshold: 2
""",
        encoding="utf-8",
    )
    return path


def test_help_lists_every_command_with_what_it_does() -> None:
    result = subprocess.run([sys.executable, "-m", "vigia", "--help"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    for command in ("demo", "crawl", "run", "check", "match", "db", "alerts", "sources"):
        line = next((line for line in lines if line.split()[:1] == [command]), None)
        assert line is not None and len(line.split()) > 2, f"{command} has no description:\n{result.stdout}"


def test_version() -> None:
    result = subprocess.run([sys.executable, "-m", "vigia", "--version"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0
    assert re.fullmatch(r"vigia \d+\.\d+\.\d+\S*\n", result.stdout)


def test_match_help_says_what_file_or_url_is() -> None:
    result = subprocess.run([sys.executable, "-m", "vigia", "match", "--help"], capture_output=True, text=True, cwd=REPO)
    assert "FILE_OR_URL" in result.stdout and "plain-text file" in result.stdout and "stdin" in result.stdout
    assert "--text" in result.stdout


def test_unknown_log_level_is_a_clean_error_listing_the_choices() -> None:
    result = subprocess.run([sys.executable, "-m", "vigia", "--log-level", "verbose", "check"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--log-level" in result.stderr
    assert all(level in result.stderr for level in ("DEBUG", "INFO", "WARNING", "ERROR"))


def test_check_lists_sources_and_rules(config: Path) -> None:
    code, out, err = run_cli("check", "--config", str(config))
    assert code == 0, err
    assert "Diario Uno (rss, every 30s)" in out
    assert "mx-us-security -> #monitoreo-seguridad" in out
    assert "agua-mx-us -> #agua" in out


def test_check_names_the_rule_file_rule_and_key(config: Path) -> None:
    (config.parent / "agua.yaml").write_text("rules:\n  - id: agua-mx-us\n    all: []\n", encoding="utf-8")
    code, _, err = run_cli("check", "--config", str(config))
    assert code == 2
    assert "agua.yaml" in err and "agua-mx-us" in err and "all" in err
    assert "Traceback" not in err


def test_match_explains_the_seed_article(config: Path, tmp_path: Path) -> None:
    lines = [line.strip() for line in (SHARED / "seed-article.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    page = tmp_path / "seed.html"
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    page.write_text(
        f'<html lang="es"><head><meta charset="utf-8"><title>De la Fuente y Rubio fortalecen cooperación en seguridad'
        f"</title></head><body><article><h1>De la Fuente y Rubio fortalecen cooperación en seguridad</h1>{body}"
        "</article></body></html>",
        encoding="utf-8",
    )
    code, out, err = run_cli("match", "--config", str(config), str(page))
    assert code == 0, err
    assert "MATCH mx-us-security" in out
    assert re.search(r"Rubio", out) and "language: es" in out
    assert "no match agua-mx-us" in out  # and it says why the other rule did not match


def test_sources_shows_never_crawled_sources(config: Path) -> None:
    code, out, _ = run_cli("sources", "--config", str(config))
    assert code == 0
    assert re.search(r"Diario Uno\s+rss\s+never", out)


def test_demo_runs_the_whole_pipeline_offline() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vigia", "demo"], capture_output=True, text=True, cwd=REPO, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # Three relevant stories, one of them with its syndicated copy in the thread.
    assert "3 message(s) posted, 1 thread repl(ies)" in out
    assert "García Harfuch y el embajador Johnson" in out
    assert "También en" in out
    assert "articles: 8 fetched, 8 new, 4 matched, 1 skipped" in out
    channel, table = out.split("Articles (8), and what became of each:")
    # The thread reply is printed right under its parent, before the next story.
    messages = channel.split("#monitoreo-seguridad  ts=")[1:]
    assert len(messages) == 3
    # (the stories are posted in the order the crawl stored them, which varies)
    threaded = [message for message in messages if "↳ en el hilo" in message]
    assert len(threaded) == 1, channel
    # Which copy arrived first (the story) and which went to its thread depends on crawl order.
    parent, reply = threaded[0].split("↳")
    titles = ("García Harfuch y el embajador Johnson", "México y EU pactan")
    assert (titles[0] in parent and titles[1] in reply) or (titles[1] in parent and titles[0] in reply), channel
    # Every article is listed with what became of it; the left-out ones say why.
    for title in ("El Rubio anota doblete", "Productores de tomate", "Bancos refuerzan"):
        assert title not in channel
        assert re.search(rf"^  not relevant\s+.*{title}", table, re.MULTILINE), table
    assert re.search(r"^  not Spanish \(en\)\s+.*Mexico and US agree", table, re.MULTILINE), table
    assert len(re.findall(r"^  alerted ", table, re.MULTILINE)) == 3
    assert re.search(r"^  threaded .*\n\s+\(copy of «(García Harfuch|México y EU pactan)", table, re.MULTILINE), table


def test_demo_says_it_ignores_config(tmp_path: Path) -> None:
    # In a subprocess: the demo crawls, and Twisted's reactor runs once per process.
    result = subprocess.run(
        [sys.executable, "-m", "vigia", "demo", "--quiet", "--config", str(tmp_path / "mine.yaml")],
        capture_output=True, text=True, cwd=REPO, timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    assert "--config" in result.stderr and "ignored" in result.stderr
    assert "3 message(s) posted" in result.stdout


@pytest.mark.parametrize("argv", [["--log-format", "json", "check"], ["check", "--log-format", "json"]])
def test_global_options_work_before_or_after_the_command(argv: list[str]) -> None:
    from vigia.cli import build_parser

    args = build_parser().parse_args(argv)
    assert args.log_format == "json" and args.command == "check"


def test_match_fetches_a_url_through_the_crawler(config: Path) -> None:
    from tests.support.labelled import article_page, load_labelled
    from tests.support.news_site import NewsSite

    article = next(a for a in load_labelled() if a.relevant and a.language == "es" and a.category == "relevant-clear")
    # The site is on loopback, which a typed URL may reach only when the config allows it.
    with config.open("a", encoding="utf-8") as handle:
        handle.write("crawler:\n  allow_private_hosts: [127.0.0.1]\n")
    with NewsSite() as site:
        site.add(article.path, article_page(article))
        result = subprocess.run(
            [sys.executable, "-m", "vigia", "match", "--config", str(config), site.url(article.path)],
            capture_output=True, text=True, cwd="/", timeout=120,
            env={"PATH": "/usr/bin:/bin", "HOME": str(REPO), "SLACK_BOT_TOKEN": "xoxb-cli-test"},
        )
        requests = site.fetched(article.path)
    assert result.returncode == 0, result.stderr
    assert "MATCH mx-us-security" in result.stdout
    assert requests and requests[0].header("User-Agent").startswith("Vigia/")
