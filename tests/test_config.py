"""Config loading: a user's mistakes become one clear line with the file and the key, exit 2."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from vigia.cli import main
from vigia.config import load_config
from vigia.errors import ConfigError

GOOD = """
database:
  url: {db}
slack:
  token: ${{SLACK_BOT_TOKEN}}
  channel: "#seguridad"
  base_url: http://127.0.0.1:9/api
alerts:
  max_age: 2d
sources:
  - name: El Universal
    type: rss
    url: https://www.example.com/rss.xml
    every: 45s
daemon:
  every: 15m
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vigia.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_good_config_expands_environment_and_parses_durations(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(db="sqlite:///x.db"))
    config = load_config(path, environ={"SLACK_BOT_TOKEN": "xoxb-123"})
    assert config.slack.token == "xoxb-123"
    assert config.slack.base_url == "http://127.0.0.1:9/api/"  # slash kept for slack_sdk
    assert config.alerts.max_age == timedelta(days=2)
    assert config.source_interval(config.sources[0]) == timedelta(seconds=45)
    assert config.rules == [{"builtin": "mx-us-security"}]


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (lambda t: t.replace("  max_age: 2d", "  max_age: 2d\n  colour: red"), "alerts.colour", "unknown key"),
        (lambda t: t.replace("type: rss", "type: atomz"), "sources[0].type", "'rss', 'sitemap' or 'page'"),
        (lambda t: t.replace("every: 45s", "every: soon"), "sources[0].every", "not a duration"),
        (lambda t: t.replace("url: https://www.example.com/rss.xml", "url: www.example.com"), "sources[0].url", "not an http"),
        (lambda t: t.replace("  token: ${SLACK_BOT_TOKEN}\n", ""), "slack", "token is missing"),
        (lambda t: t.replace("${SLACK_BOT_TOKEN}", "${NOT_SET_ANYWHERE}"), "slack.token", "NOT_SET_ANYWHERE is not set"),
    ],
)
def test_config_mistakes_name_file_and_key(tmp_path: Path, edit, key: str, words: str) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, edit(GOOD.format(db="sqlite:///x.db")))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert caught.value.file == str(path)
    assert caught.value.key == key
    assert words in str(caught.value)


def test_cli_config_error_is_one_line_exit_2_without_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    path = write(tmp_path, GOOD.format(db="sqlite:///x.db").replace("daemon:", "deamon:"))
    code, out, err = run_cli("check", "--config", str(path))
    assert code == 2
    assert err.strip() == f"vigia: config error: {path}: deamon: unknown key"
    assert "Traceback" not in err


def test_missing_config_file_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run_cli("crawl", "--config", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert "nope.yaml" in err and "no such file" in err


def test_invalid_yaml_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "slack:\n  token: [unclosed\n")
    code, _, err = run_cli("check", "--config", str(path))
    assert code == 2
    assert str(path) in err and "line" in err


def test_unreachable_database_is_exit_2_naming_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    path = write(tmp_path, GOOD.format(db="postgresql://nobody@127.0.0.1:1/vigia"))
    code, _, err = run_cli("db", "upgrade", "--config", str(path))
    assert code == 2
    assert f"{path}: database.url: cannot reach database" in err
    assert "Traceback" not in err


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    path = write(tmp_path, GOOD.format(db=f"sqlite:///{tmp_path / 'v.db'}"))
    code, out, _ = run_cli("db", "upgrade", "--config", str(path))
    assert code == 0
    assert "alerts" in out and "articles" in out
    assert (tmp_path / "v.db").exists()
