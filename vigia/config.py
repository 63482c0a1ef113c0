"""Loading and validating the YAML config.

The file is parsed, ``${VAR}`` references in string values are expanded from the
environment, and the result is validated by pydantic models that forbid unknown keys.
Every mistake becomes one ``ConfigError`` naming the file and the key.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from alerts.pacing import INTERVAL as PACE_SECONDS
from crawler.addresses import parse_allowed_host
from rules.bounded_yaml import YAMLTooLarge, load_bounded
from rules.linear_regex import RegexSyntaxError, compile_linear
from vigia.durations import parse_duration
from vigia.errors import ConfigError, ConfigErrors

DEFAULT_PATH = "vigia.yaml"
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
SLACK_MISSING = (
    "token is missing or empty: set token: ${SLACK_BOT_TOKEN} (a bot token), or give webhook_url; "
    "or try it without Slack: --dry-run prints each message instead of posting it"
)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def _parse_size(value: Any) -> Any:
    """``500MB``, ``1GiB`` or a number of bytes."""
    if isinstance(value, str):
        found = _SIZE.match(value)
        if not found:
            raise ValueError(f"{value!r} is not a size (a number of bytes, or with KB, MB, GB)")
        return int(float(found.group(1)) * _SIZE_UNITS[(found.group(2) or "b").lower()])
    return value


Size = Annotated[int, BeforeValidator(_parse_size)]
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(Section):
    url: str = "sqlite:///vigia.db"


class SlackConfig(Section):
    token: str | None = None
    channel: str = "#monitoreo-seguridad"
    base_url: str = "https://slack.com/api/"
    webhook_url: str | None = None
    locale: Literal["es", "en"] = "es"
    # At most one message per channel each ``pace`` (short bursts allowed): a little slower
    # than Slack's one a second. Shorter only against a stand-in that does not enforce it (tests).
    pace: Duration = timedelta(seconds=PACE_SECONDS)

    @field_validator("base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto base_url; without the slash the path breaks.
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _needs_a_way_to_post(self, info: ValidationInfo) -> SlackConfig:
        # A dry run prints messages instead of posting them: it needs neither token nor webhook.
        if not self.token and not self.webhook_url and (info.context or {}).get("require_slack", True):
            raise ValueError(SLACK_MISSING)
        return self


class AlertsConfig(Section):
    max_age: Duration | None = timedelta(days=3)


class SourceConfig(Section):
    name: str = Field(min_length=1)
    type: Literal["rss", "sitemap", "page"]
    url: str
    every: Duration | None = None
    outlet: str | None = None  # shown in Slack; defaults to name
    link_patterns: list[str] | None = None  # page sources: regexes an article link matches

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("link_patterns")
    @classmethod
    def _valid_regexes(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or []:
            try:
                compile_linear(pattern)
            except RegexSyntaxError as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        return value


def _allowed_host(value: str) -> str:
    parse_allowed_host(value)  # raises ValueError naming the entry
    return value


class CrawlerConfig(Section):
    user_agent: str = "Vigia/0.1 (+https://github.com/vigia-news/vigia)"
    timeout: Duration = timedelta(seconds=30)
    max_page_size: int = 5_000_000
    concurrency_per_domain: int = Field(default=4, ge=1)
    obey_robots: bool = True
    autothrottle: bool = True
    workers: int = Field(default=2, ge=1)
    redis_url: str | None = None  # scrapy-redis: a shared queue and dupefilter for many workers
    # host or host:port that links and redirects may reach although it is loopback/private
    allow_private_hosts: list[Annotated[str, AfterValidator(_allowed_host)]] = []


class CrawlLimits(Section):
    """What one crawl allows itself, whatever the file says: not config keys (a hostile or
    broken outlet is cut here), but written here, once, like every other default of the crawl.

    A test or benchmark that needs other bounds replaces them on the spec it builds."""

    retry_times: int = 2
    retry_after_max: Duration = timedelta(seconds=30)  # a longer Retry-After ends the URL instead of waiting
    crawl_delay_cap: Duration = timedelta(seconds=30)  # a larger robots.txt Crawl-delay is cut to this
    max_articles_per_source: int = 1000  # new article requests per source per crawl, newest first
    max_listings_per_source: int = 200  # feed/sitemap/section requests per source per crawl
    max_sitemap_depth: int = 3  # an index inside an index inside an index, no deeper
    max_sitemap_children: int = 100  # children read per sitemap index, newest lastmod first
    log_level: str = "WARNING"  # Scrapy's own logger; the CLI's --log-level sets ours


CRAWL_LIMITS = CrawlLimits()


class DaemonConfig(Section):
    every: Duration = timedelta(minutes=15)
    http: str | None = "127.0.0.1:9108"
    # The floor of adaptive polling. A minute keeps a real outlet from being polled every
    # few seconds by accident; tests and benchmarks on loopback lower it explicitly.
    min_every: Duration = timedelta(minutes=1)
    max_every: Duration = timedelta(hours=2)
    crawl_timeout: Duration = timedelta(minutes=10)
    grace: Duration = timedelta(seconds=30)
    jitter: Duration | None = None
    # The crawl worker is replaced, after its polls finish, past this age or resident size
    # (its whole process tree: Scrapy and the extraction pool). null: never.
    worker_max_age: Duration | None = timedelta(hours=6)
    worker_max_rss: Size | None = 1_000_000_000

    @field_validator("http")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[^:\s]*:\d{1,5}$", value):
            raise ValueError(f"{value!r} is not HOST:PORT")
        return value


class Config(Section):
    database: DatabaseConfig = DatabaseConfig()
    slack: SlackConfig
    alerts: AlertsConfig = AlertsConfig()
    sources: list[SourceConfig] = []
    rules: list[dict[str, Any]] = [{"builtin": "mx-us-security"}]
    crawler: CrawlerConfig = CrawlerConfig()
    daemon: DaemonConfig = DaemonConfig()

    # Not in the file: where it came from, for messages and relative paths.
    path: Path = Field(default=Path(DEFAULT_PATH), exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _slack_section_may_be_left_out(cls, data: Any) -> Any:
        # An absent section is an empty one: SlackConfig then says what it needs (or, in a
        # dry run, that it needs nothing).
        if isinstance(data, dict) and "slack" not in data:
            return {**data, "slack": {}}
        return data

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}; names must be unique")
            seen.add(source.name)
        return value

    @property
    def base_dir(self) -> Path:
        return self.path.resolve().parent

    def source_interval(self, source: SourceConfig) -> timedelta:
        return source.every or self.daemon.every


def default_path() -> Path:
    return Path(os.environ.get("VIGIA_CONFIG") or DEFAULT_PATH)


def default_config() -> Config:
    """The config with no file at all: the built-in watchlist, SQLite, no Slack (``vigia match``)."""
    return Config.model_validate({}, context={"require_slack": False})


def load_config(
    path: Path | str | None = None, environ: dict[str, str] | None = None, *, require_slack: bool = True
) -> Config:
    """Read, expand and validate a config file; raise ConfigError naming file and key.

    ``require_slack=False`` is for commands that never post (a dry run, ``match``, ``crawl
    --no-deliver``): the ``slack`` section may then be absent or carry no token.
    """
    path = Path(path) if path else default_path()
    environ = dict(os.environ) if environ is None else environ
    try:
        raw = load_bounded(path.read_text(encoding="utf-8"))
    except YAMLTooLarge as exc:
        raise ConfigError(str(path), None, f"refused: {exc}") from None
    except FileNotFoundError:
        raise ConfigError(str(path), None, "no such file (give --config PATH or set VIGIA_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(str(path), None, f"not valid YAML: {where}{getattr(exc, 'problem', exc)}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(str(path), None, "the top level must be a mapping of sections (database, slack, sources…)")
    expanded = _expand(raw, environ, str(path), "")
    try:
        config = Config.model_validate(expanded, context={"require_slack": require_slack})
    except ValidationError as exc:
        raise ConfigErrors([_problem(str(path), error, expanded) for error in exc.errors()]) from None
    config.path = path
    return config


def _problem(file: str, error: Any, raw: dict[str, Any]) -> ConfigError:
    """One pydantic error as the user reads it: the key by name, what is wrong in words."""
    key = _key_name(error["loc"], raw)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "required key is missing"
    return ConfigError(file, key or None, message)


def _expand(value: Any, environ: dict[str, str], file: str, key: str, unset: list[ConfigError] | None = None) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in strings; every unset variable is an error
    (all of them reported together, like validation problems)."""
    top = unset is None
    unset = [] if unset is None else unset
    if isinstance(value, dict):
        result: Any = {k: _expand(v, environ, file, f"{key}.{k}" if key else str(k), unset) for k, v in value.items()}
    elif isinstance(value, list):
        result = [_expand(v, environ, file, f"{key}[{_entry_label(v, i)}]", unset) for i, v in enumerate(value)]
    elif isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            unset.append(ConfigError(file, key, f"environment variable {name} is not set"))
            return match.group(0)

        result = _ENV_REFERENCE.sub(substitute, value)
    else:
        result = value
    if top and unset:
        raise ConfigErrors(unset)
    return result


def _entry_label(entry: Any, index: int) -> str:
    """A list entry as a key shows it: by its name when it has one (sources), else its index."""
    name = entry.get("name") if isinstance(entry, dict) else None
    return name if isinstance(name, str) and name.strip() else str(index)


def _key_name(location: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """``sources[El Universal].every`` rather than ``sources[0].every`` when the entry has a name."""
    parts: list[str] = []
    node: Any = raw
    for part in location:
        if isinstance(part, int):
            entry = node[part] if isinstance(node, list) and part < len(node) else None
            parts.append(f"[{_entry_label(entry, part)}]")
        else:
            parts.append(("." if parts else "") + str(part))
        node = _child(node, part)
    return "".join(parts)


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    return None
