"""``vigia check``: validate the config, the rules and the database before a real run."""

from __future__ import annotations

from typing import TextIO

from vigia.config import Config
from vigia.crawl import load_ruleset
from vigia.database import open_config_database
from vigia.errors import ExitStatus


def check_command(config: Config, out: TextIO, err: TextIO) -> int:
    """Everything that would stop a crawl is reported here; the CLI maps errors to exit 2."""
    ruleset = load_ruleset(config)
    engine, _ = open_config_database(config)
    engine.dispose()
    print(f"{config.path}: OK", file=out)
    print(f"  database: {engine.url.render_as_string(hide_password=True)}", file=out)
    print(f"  slack: {'webhook' if config.slack.webhook_url and not config.slack.token else config.slack.base_url} "
          f"-> {config.slack.channel}", file=out)
    print(f"  sources: {len(config.sources)}", file=out)
    for source in config.sources:
        print(f"    {source.name} ({source.type}, every {_every(config, source)}): {source.url}", file=out)
    print(f"  rules: {len(ruleset.rules)}", file=out)
    for rule in ruleset.rules:
        where = rule.channel or config.slack.channel
        print(f"    {rule.id} -> {where}{' (digest)' if rule.mode == 'digest' else ''}", file=out)
    if not config.sources:
        print("  warning: no sources: `vigia crawl` will have nothing to do", file=out)
    return ExitStatus.SUCCESS


def _every(config: Config, source) -> str:  # type: ignore[no-untyped-def]
    from vigia.durations import format_duration

    return format_duration(config.source_interval(source))
