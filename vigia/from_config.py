"""The config turned into what the layers below take, and one crawl-and-deliver round.

config -> rule set (rules), crawl spec (crawler, built by ``vigia.crawl_spec``), Slack
settings (alerts); ``crawl_once`` and ``deliver`` are ``vigia crawl``'s two steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rules import RuleSet, RuleSyntaxError, load_rules
from vigia.config import Config, SourceConfig
from vigia.crawl_spec import crawl_spec
from vigia.database import open_config_database
from vigia.errors import ConfigError

if TYPE_CHECKING:  # alerts (and slack_sdk) are imported where used: a crawl worker delivers nothing
    from alerts.client import Sender
    from alerts.dispatcher import DeliveryReport, SlackSettings
    from crawler.spec import CrawlProgress, CrawlReport


def load_ruleset(config: Config) -> RuleSet:
    """The config's rules compiled; a mistake in the config's own ``rules:`` list (a rule file
    that is not there, an unknown watchlist) is a config error, worded like the others."""
    try:
        return load_rules(config.rules, config.base_dir, source=str(config.path))
    except RuleSyntaxError as exc:
        if exc.file == str(config.path) and exc.rule_id is None and exc.key:
            raise ConfigError(exc.file, exc.key, exc.message) from None
        raise


def select_sources(config: Config, only: list[str] | None) -> list[SourceConfig]:
    if not only:
        return list(config.sources)
    names = {source.name for source in config.sources}
    unknown = [name for name in only if name not in names]
    if unknown:
        raise ConfigError(str(config.path), "sources", f"no source named {', '.join(map(repr, unknown))}")
    return [source for source in config.sources if source.name in only]


def slack_settings(config: Config) -> SlackSettings:
    from alerts.dispatcher import SlackSettings

    slack = config.slack
    return SlackSettings(
        token=slack.token, channel=slack.channel, base_url=slack.base_url, webhook_url=slack.webhook_url, locale=slack.locale,
        pace=slack.pace.total_seconds(),
    )


def crawl_once(
    config: Config,
    *,
    only: list[str] | None = None,
    refetch: bool = False,
    on_progress: Callable[[CrawlProgress], None] | None = None,
) -> CrawlReport:
    """Crawl the chosen sources once; articles, matches and alerts end up in the database."""
    # Imported here: the daemon imports this module, and runs no Scrapy of its own.
    from crawler.process import run_crawl

    ruleset = load_ruleset(config)
    sources = select_sources(config, only)
    open_config_database(config)  # migrate, and fail with the config's key if unreachable
    return run_crawl(crawl_spec(config, sources, ruleset, refetch=refetch), on_progress=on_progress)


def deliver(config: Config, sender: Sender | None = None) -> DeliveryReport:
    """Post every pending alert that is due (the outbox, not just this run's).

    ``sender`` replaces Slack (a dry run's printer); by default the config's token or webhook.
    """
    from alerts.dispatcher import deliver_pending

    _, sessions = open_config_database(config)
    return deliver_pending(sessions, slack_settings(config), sender=sender)
