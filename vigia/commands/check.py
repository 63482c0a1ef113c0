"""``vigia check``: validate the config, the rules and the database before a real run.

With ``--slack`` it also asks Slack whether the token works and whether the bot can post
in every channel the config and the rules name.
"""

from __future__ import annotations

import re
from typing import Any, TextIO

from vigia.config import SLACK_MISSING, Config, SourceConfig
from vigia.database import open_config_database
from vigia.errors import ConfigError, ExitStatus
from vigia.from_config import load_ruleset

# Values copied from an example and never filled in. Checked on the values as loaded, so a
# `${SLACK_BOT_TOKEN:-xoxb-replace-me}` whose variable is unset is caught too.
_PLACEHOLDER = re.compile(
    r"\$\{[^}]*\}"  # a reference left unexpanded (quoted in a systemd or .env file, say)
    r"|(?i:replace[-_ ]?me|change[-_ ]?me|your[-_ ](?:token|bot|channel|password|key)|placeholder|<[^>]+>)"
    r"|^xox[a-z]-(?:…|\.\.\.|x+|\*+)?$"  # xoxb-…, xoxb-..., xoxb-xxxx, bare xoxb-
)
_EXAMPLE_HOST = re.compile(r"^https?://(?:[^/]*\.)?example\.(?:com|org|net)(?::\d+)?(?:/|$)", re.IGNORECASE)


def check_command(config: Config, out: TextIO, err: TextIO, *, slack: bool = False) -> int:
    """Everything that would stop a crawl is reported here; the CLI maps errors to exit 2."""
    ruleset = load_ruleset(config)
    engine, _ = open_config_database(config)
    engine.dispose()
    print(f"{config.path}: OK", file=out)
    print(f"  database: {engine.url.render_as_string(hide_password=True)}", file=out)
    print(f"  slack: {_slack_mode(config)} -> {config.slack.channel}", file=out)
    print(f"  sources: {len(config.sources)}", file=out)
    for source in config.sources:
        print(f"    {source.name} ({source.type}, every {_every(config, source)}): {source.url}", file=out)
    print(f"  rules: {len(ruleset.rules)}", file=out)
    for rule in ruleset.rules:
        where = rule.channel or config.slack.channel
        print(f"    {rule.id} -> {where}{' (digest)' if rule.mode == 'digest' else ''}", file=out)
    warnings = placeholder_warnings(config)
    if not config.slack.token and not config.slack.webhook_url:
        warnings.append("slack: no token or webhook_url: only `--dry-run` can run (it prints instead of posting)")
    if not config.sources:
        warnings.append("no sources: `vigia crawl` will have nothing to do")
    for warning in warnings:
        print(f"  warning: {warning}", file=out)
    if slack:
        channels = list(dict.fromkeys([config.slack.channel, *(r.channel for r in ruleset.rules if r.channel)]))
        return check_slack(config, channels, out)
    return ExitStatus.SUCCESS


def placeholder_warnings(config: Config) -> list[str]:
    """``key: value looks like a placeholder`` for every value copied from an example."""
    found = []
    for key, value in _strings(config.model_dump(exclude={"sources"})):
        if _PLACEHOLDER.search(value):
            found.append(f"{key}: {_shown(key, value)} looks like a placeholder; put the real value there")
    for source in config.sources:
        if _EXAMPLE_HOST.match(source.url):
            found.append(f"sources[{source.name}].url: {source.url} is the example's placeholder outlet")
    return found


def check_slack(config: Config, channels: list[str], out: TextIO) -> int:
    """One line for the token, one per channel; exit 1 unless every channel can be posted to."""
    from vigia.slack_access import (
        BadToken,
        SlackClientError,
        check_channels,
        check_token,
        web_client,
    )

    token = config.slack.token
    if not token:
        if config.slack.webhook_url:
            print("  slack: webhook mode: it posts where the webhook was created; no channel to check", file=out)
            return ExitStatus.SUCCESS
        raise ConfigError(str(config.path), "slack.token", SLACK_MISSING)
    client = web_client(token, config.slack.base_url)
    try:
        who = check_token(client)
    except BadToken as exc:
        print(f"  slack: bad token ({exc.code}): {config.slack.base_url} refused it", file=out)
        return ExitStatus.ERROR
    except SlackClientError as exc:
        print(f"  slack: cannot reach {config.slack.base_url}: {exc}", file=out)
        return ExitStatus.ERROR
    print(f"  slack: token OK ({who} at {config.slack.base_url})", file=out)
    try:
        verdicts = check_channels(client, channels)
    except SlackClientError as exc:
        print(f"  slack: cannot reach {config.slack.base_url}: {exc}", file=out)
        return ExitStatus.ERROR
    for verdict in verdicts:
        print(f"    {verdict.channel}: {verdict.verdict}", file=out)
    return ExitStatus.SUCCESS if all(v.can_post for v in verdicts) else ExitStatus.ERROR


def _strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _strings(v, f"{key}.{k}" if key else str(k))]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _strings(v, f"{key}[{i}]")]
    return [(key, value)] if isinstance(value, str) else []


def _shown(key: str, value: str) -> str:
    # Even a placeholder in a secret's place is shown only in part: it may be half a real token.
    secret = key.endswith(("token", "webhook_url", "url")) and len(value) > 24
    return repr(value[:10] + "…") if secret else repr(value)


def _slack_mode(config: Config) -> str:
    if config.slack.webhook_url and not config.slack.token:
        return "webhook"
    if not config.slack.token:
        return "not configured (dry runs only)"
    return config.slack.base_url


def _every(config: Config, source: SourceConfig) -> str:
    from vigia.durations import format_duration

    return format_duration(config.source_interval(source))
