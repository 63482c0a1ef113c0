"""One crawl as the application runs it: config -> crawler spec -> run -> deliver."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from alerts.client import Sender
from alerts.dispatcher import DeliveryReport, SlackSettings, deliver_pending
from crawler.spec import CrawlProgress, CrawlReport, CrawlSpec, SourceSpec
from rules import RuleSet, RuleSyntaxError, load_rules
from vigia.config import Config, SourceConfig
from vigia.database import open_config_database
from vigia.errors import ConfigError


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


def redis_prefix(config: Config) -> str:
    """The Redis keys of one deployment: the daemon and its workers share a database, so its URL names them."""
    return "vigia:" + hashlib.sha1(config.database.url.encode()).hexdigest()[:12]


def source_spec(source: SourceConfig) -> SourceSpec:
    return SourceSpec(
        name=source.name, type=source.type, url=source.url, outlet=source.outlet or source.name, link_patterns=source.link_patterns
    )


def crawl_spec(config: Config, sources: list[SourceConfig], ruleset: RuleSet, *, refetch: bool = False) -> CrawlSpec:
    crawler = config.crawler
    return CrawlSpec(
        database_url=config.database.url,
        sources=[source_spec(s) for s in sources],
        ruleset=ruleset,
        default_channel=config.slack.channel,
        max_age=config.alerts.max_age,
        user_agent=crawler.user_agent,
        download_timeout=crawler.timeout.total_seconds(),
        max_page_bytes=crawler.max_page_size,
        refetch=refetch,
        redis_url=crawler.redis_url,
        redis_prefix=redis_prefix(config),
        obey_robots=crawler.obey_robots,
        concurrency_per_domain=crawler.concurrency_per_domain,
        autothrottle=crawler.autothrottle,
        workers=crawler.workers,
        allow_private_hosts=crawler.allow_private_hosts,
    )


def slack_settings(config: Config) -> SlackSettings:
    slack = config.slack
    return SlackSettings(
        token=slack.token, channel=slack.channel, base_url=slack.base_url, webhook_url=slack.webhook_url, locale=slack.locale
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
    from crawler.run import run_crawl

    ruleset = load_ruleset(config)
    sources = select_sources(config, only)
    open_config_database(config)  # migrate, and fail with the config's key if unreachable
    return run_crawl(crawl_spec(config, sources, ruleset, refetch=refetch), on_progress=on_progress)


def deliver(config: Config, sender: Sender | None = None) -> DeliveryReport:
    """Post every pending alert that is due (the outbox, not just this run's).

    ``sender`` replaces Slack (a dry run's printer); by default the config's token or webhook.
    """
    _, sessions = open_config_database(config)
    return deliver_pending(sessions, slack_settings(config), sender=sender)
