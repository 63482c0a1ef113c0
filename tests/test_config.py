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


def test_slack_pace_defaults_to_slacks_rate_and_reaches_delivery(tmp_path: Path) -> None:
    from vigia.from_config import slack_settings

    path = write(tmp_path, GOOD.format(db="sqlite:///x.db"))
    default = load_config(path, environ={"SLACK_BOT_TOKEN": "xoxb-123"})
    assert default.slack.pace == timedelta(seconds=1.1) and slack_settings(default).pace == 1.1
    path.write_text(path.read_text(encoding="utf-8").replace("  channel:", "  pace: 0.05s\n  channel:"), encoding="utf-8")
    quick = load_config(path, environ={"SLACK_BOT_TOKEN": "xoxb-123"})
    assert slack_settings(quick).pace == 0.05


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (lambda t: t.replace("  max_age: 2d", "  max_age: 2d\n  colour: red"), "alerts.colour", "unknown key"),
        (lambda t: t.replace("type: rss", "type: atomz"), "sources[El Universal].type", "'rss', 'sitemap' or 'page'"),
        (lambda t: t.replace("every: 45s", "every: soon"), "sources[El Universal].every", "not a duration"),
        (lambda t: t.replace("every: 45s", "every: 10"), "sources[El Universal].every", "10 needs a unit (s, m, h, d)"),
        (lambda t: t.replace("every: 15m", "every: '900'"), "daemon.every", "900 needs a unit (s, m, h, d)"),
        (lambda t: t.replace("url: https://www.example.com/rss.xml", "url: www.example.com"), "sources[El Universal].url",
         "not an http"),
        (lambda t: t.replace("  token: ${SLACK_BOT_TOKEN}\n", ""), "slack", "token is missing"),
        (lambda t: t.replace("${SLACK_BOT_TOKEN}", "${NOT_SET_ANYWHERE}"), "slack.token", "NOT_SET_ANYWHERE is not set"),
        (lambda t: t.replace("    every: 45s", "    every: 45s\n    link_patterns: ['/nota-(?!patrocinada)']"),
         "sources[El Universal].link_patterns", "no backreferences, lookahead or lookbehind"),
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
    code, _out, err = run_cli("check", "--config", str(path))
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


def test_every_problem_is_listed_one_line_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    text = GOOD.format(db="sqlite:///x.db").replace("every: 45s", "every: 45").replace("type: rss", "type: atom")
    code, _, err = run_cli("check", "--config", str(write(tmp_path, text + "  colour: red\n")))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 3, err
    assert all(line.startswith(f"vigia: config error: {tmp_path / 'vigia.yaml'}: ") for line in lines)
    assert "sources[El Universal].type" in err and "sources[El Universal].every: 45 needs a unit" in err
    assert "daemon.colour: unknown key" in err
    assert "more problem" not in err


def test_a_source_without_a_usable_name_is_named_by_its_index(tmp_path: Path) -> None:
    text = GOOD.format(db="sqlite:///x.db").replace("name: El Universal", "name: ''")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), environ={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert caught.value.key == "sources[0].name"


def test_adaptive_polling_floor_defaults_to_a_minute(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD.format(db="sqlite:///x.db")), environ={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert config.daemon.min_every == timedelta(minutes=1)
    lowered = GOOD.format(db="sqlite:///x.db").replace("  every: 15m", "  every: 15m\n  min_every: 1s")
    assert load_config(write(tmp_path, lowered), environ={"SLACK_BOT_TOKEN": "xoxb-1"}).daemon.min_every == timedelta(seconds=1)


def test_slack_is_optional_only_for_commands_that_do_not_post(tmp_path: Path) -> None:
    text = GOOD.format(db="sqlite:///x.db")
    no_slack = text[: text.index("slack:")] + text[text.index("alerts:"):]
    path = write(tmp_path, no_slack)
    assert load_config(path, environ={}, require_slack=False).slack.token is None
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.key == "slack" and "--dry-run" in caught.value.message


def test_crawl_without_a_token_says_how_to_try_without_slack(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(db=f"sqlite:///{tmp_path / 'v.db'}").replace("  token: ${SLACK_BOT_TOKEN}\n", ""))
    code, _, err = run_cli("crawl", "--config", str(path))
    assert code == 2
    assert f"{path}: slack: token is missing" in err and "--dry-run" in err


def test_a_missing_rule_file_is_worded_like_other_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    path = write(tmp_path, GOOD.format(db="sqlite:///x.db") + "rules:\n  - builtin: mx-us-security\n  - file: mias.yaml\n")
    code, _, err = run_cli("check", "--config", str(path))
    assert code == 2
    assert err.strip() == f"vigia: config error: {path}: rules[1].file: rule file not found: {tmp_path / 'mias.yaml'}"


def test_every_unset_variable_is_listed(tmp_path: Path) -> None:
    text = GOOD.format(db="${DATABASE_URL}").replace("https://www.example.com/rss.xml", "${FEED_URL}")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), environ={})
    lines = str(caught.value).splitlines()
    assert lines == [
        f"{tmp_path / 'vigia.yaml'}: database.url: environment variable DATABASE_URL is not set",
        f"{tmp_path / 'vigia.yaml'}: slack.token: environment variable SLACK_BOT_TOKEN is not set",
        f"{tmp_path / 'vigia.yaml'}: sources[El Universal].url: environment variable FEED_URL is not set",
    ]


def test_the_crawl_s_scrapy_settings_come_from_the_config(tmp_path: Path) -> None:
    """One path: config → crawl spec → Scrapy settings; a value the file sets reaches Scrapy,
    and a value it leaves out is the config's default (crawler.settings holds none of them)."""
    from sqlalchemy.orm import sessionmaker

    from crawler.process import crawl_settings
    from crawler.state import CrawlRun
    from rules import load_rules
    from vigia.config import CrawlerConfig
    from vigia.crawl_spec import crawl_spec, page_spec

    path = tmp_path / "vigia.yaml"
    path.write_text("crawler:\n  max_page_size: 123456\n  timeout: 7s\n  obey_robots: false\n", encoding="utf-8")
    config = load_config(path, environ={}, require_slack=False)
    ruleset = load_rules([{"builtin": "mx-us-security"}], tmp_path)
    defaults = CrawlerConfig()
    for spec in (crawl_spec(config, config.sources, ruleset), page_spec(config, ruleset)):
        settings = crawl_settings(spec, CrawlRun(spec=spec, sessions=sessionmaker()))
        assert settings.getint("DOWNLOAD_MAXSIZE") == 123456
        assert settings.getfloat("DOWNLOAD_TIMEOUT") == 7
        assert settings.getbool("ROBOTSTXT_OBEY") is False
        assert settings.get("USER_AGENT") == defaults.user_agent
        assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == defaults.concurrency_per_domain
        assert settings.getbool("AUTOTHROTTLE_ENABLED") is defaults.autothrottle
