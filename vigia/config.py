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
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from vigia.durations import parse_duration
from vigia.errors import ConfigError

DEFAULT_PATH = "vigia.yaml"
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
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

    @field_validator("base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto base_url; without the slash the path breaks.
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _needs_a_way_to_post(self) -> SlackConfig:
        if not self.token and not self.webhook_url:
            raise ValueError("token is missing or empty: set token: ${SLACK_BOT_TOKEN} (a bot token), or give webhook_url")
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
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
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


class DaemonConfig(Section):
    every: Duration = timedelta(minutes=15)
    http: str | None = "127.0.0.1:9108"
    min_every: Duration = timedelta(seconds=1)
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


def load_config(path: Path | str | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read, expand and validate a config file; raise ConfigError naming file and key."""
    path = Path(path) if path else default_path()
    environ = dict(os.environ) if environ is None else environ
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
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
        config = Config.model_validate(expanded)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = _key_name(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        more = len(exc.errors()) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise ConfigError(str(path), key or None, message) from None
    config.path = path
    return config


def _expand(value: Any, environ: dict[str, str], file: str, key: str) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in strings; an unset variable is an error."""
    if isinstance(value, dict):
        return {k: _expand(v, environ, file, f"{key}.{k}" if key else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, environ, file, f"{key}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            raise ConfigError(file, key, f"environment variable {name} is not set")

        return _ENV_REFERENCE.sub(substitute, value)
    return value


def _key_name(location: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)
