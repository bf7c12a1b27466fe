"""The one settings object: defaults, then config/digest.toml, then DIGEST_* environment variables.

Every setting is declared here once, with its help text; `tests/test_config.py` fails when one is
missing from `config/digest.example.toml` or from the README.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from digest.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("config/digest.toml")
CONFIG_ENV = "DIGEST_CONFIG"

_config_file: ContextVar[Path | None] = ContextVar("_config_file", default=None)


class Settings(BaseSettings):
    """Everything digest can be configured with. Paths are relative to the working directory."""

    model_config = SettingsConfigDict(
        env_prefix="DIGEST_", extra="forbid", validate_default=True, frozen=True
    )

    database_url: str = Field(
        default="sqlite:///var/digest.db",
        description="SQLAlchemy URL of the database: a SQLite file, or postgresql+psycopg://...",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for the service's own files (the default SQLite database lives here).",
    )
    inbox_dir: Path = Field(
        default=Path("var/inbox"),
        description="Folder watched for new dumps; ingested files move to done/, bad ones to "
        "rejected/ with a .reason file.",
    )
    max_dump_bytes: int = Field(
        default=20 * 1024 * 1024,
        gt=0,
        description="Largest source (file or download) accepted, in bytes; larger ones are "
        "rejected.",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone of the service: it decides which day an edition belongs to.",
    )
    log_level: str = Field(
        default="INFO", description="Logging level: DEBUG, INFO, WARNING or ERROR."
    )
    default_max_papers: int = Field(
        default=20, ge=1, le=200, description="Papers per digest for a new subscriber."
    )
    default_send_hour: int = Field(
        default=7, ge=0, le=23, description="Local hour a new subscriber's digest is sent."
    )
    max_alerts_per_subscriber: int = Field(
        default=20, ge=1, le=63, description="How many alerts one subscriber may have."
    )
    rank_title_weight: float = Field(
        default=3.0,
        gt=0,
        description="BM25F weight of a title match relative to an abstract match (1.0).",
    )
    rank_multi_alert_bonus: float = Field(
        default=0.25,
        ge=0,
        description="Score bonus per further alert of the same subscriber a paper matches "
        "(0.25 = +25% each).",
    )
    rank_upvote_weight: float = Field(
        default=0.1,
        ge=0,
        description="Score added per log(1 + upvotes) of a matched paper (trending); 0 turns "
        "it off.",
    )
    semantic_matching: bool = Field(
        default=False,
        description="Also send up to 3 'related' papers per subscriber that lack an alert's "
        "words but are close in meaning (all-MiniLM-L6-v2); needs the `semantic` extra. Off: "
        "on the judged set it added as many wrong papers as right ones (benchmarks/README.md).",
    )
    semantic_threshold: float = Field(
        default=0.4,
        ge=-1.0,
        le=1.0,
        description="Least cosine similarity between an alert's words and a paper's title and "
        "abstract for the paper to be sent as related.",
    )

    service_name: str = Field(
        default="digest", description="The service's name in mails, feeds and pages."
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of the web app; links in mails and feeds start with it.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="Key that signs confirm/manage/unsubscribe/feed tokens; empty: one is "
        "generated once into data_dir/secret.key.",
    )
    mail_from: str = Field(
        default="digest <digest@localhost>",
        description="From address of every mail (also the envelope sender).",
    )
    postal_address: str = Field(
        default="",
        description="The operator's postal address, shown in every mail footer; sending "
        "refuses to start while it is empty.",
    )
    list_id: str = Field(
        default="digest.localhost", description="List-Id header value (a domain-like name)."
    )
    mail_transport: str = Field(
        default="maildir", description="How mail leaves: maildir (a folder), smtp, or memory."
    )
    maildir_path: Path = Field(
        default=Path("var/maildir"), description="Maildir the maildir transport writes to."
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP relay host.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP relay port.")
    smtp_security: str = Field(
        default="none", description="none, starttls or ssl (implicit TLS, usually port 465)."
    )
    smtp_username: str = Field(default="", description="SMTP login; empty: no AUTH.")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP password.")
    smtp_timeout: float = Field(
        default=30.0, gt=0, description="Seconds before an SMTP read or connect gives up."
    )
    smtp_connections: int = Field(
        default=4, ge=1, le=64, description="Concurrent SMTP connections per sending process."
    )
    send_rate: float = Field(
        default=0.0,
        ge=0,
        description="At most this many messages per second per process; 0: no cap.",
    )
    max_attempts: int = Field(
        default=6, ge=1, description="Attempts before a temporarily failing delivery is failed."
    )
    retry_base_seconds: float = Field(
        default=60.0,
        gt=0,
        description="First retry delay; each further attempt doubles it, with jitter.",
    )
    circuit_breaker_failures: int = Field(
        default=20,
        ge=1,
        description="Consecutive failed sends that stop a run (the rest stay pending).",
    )
    max_email_bytes: int = Field(
        default=90_000,
        ge=20_000,
        description="Largest HTML digest; longer lists are cut with a link to the web page.",
    )
    feed_max_entries: int = Field(
        default=50, ge=1, le=1000, description="Most entries in one RSS or Atom feed."
    )
    feeds_dir: Path = Field(
        default=Path("feeds"),
        description="Folder `digest feeds write` and the daily job write the public feeds to.",
    )
    daily_run_at: str = Field(
        default="06:00",
        description="Local time (HH:MM, in `timezone`) of the daily job; feeds are cached until "
        "then.",
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "America" is a folder
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("mail_transport")
    @classmethod
    def _check_transport(cls, value: str) -> str:
        if value not in {"maildir", "smtp", "memory"}:
            raise ValueError("must be maildir, smtp or memory")
        return value

    @field_validator("smtp_security")
    @classmethod
    def _check_security(cls, value: str) -> str:
        if value not in {"none", "starttls", "ssl"}:
            raise ValueError("must be none, starttls or ssl")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("daily_run_at")
    @classmethod
    def _check_daily_run_at(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (
            value.isascii()
            and len(hours) == len(minutes) == 2
            and hours.isdigit()
            and minutes.isdigit()
            and int(hours) < 24
            and int(minutes) < 60
        ):
            raise ValueError("must be a time of day as HH:MM, e.g. 06:00")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return upper

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit arguments win, then the environment, then the TOML file, then defaults."""
        path = _config_file.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def config_path(explicit: Path | None = None) -> Path | None:
    """The config file to read: the explicit one, $DIGEST_CONFIG, or the default if present."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: config file not found")
        return explicit
    env = os.environ.get(CONFIG_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (from ${CONFIG_ENV})")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from the config file, the environment and explicit overrides."""
    path = config_path(config_file)
    token = _config_file.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        where = str(path) if path else "settings"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '?'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from exc
    except ValueError as exc:  # a TOML syntax error surfaces as a ValueError subclass
        raise ConfigError(f"{path}: {exc}") from exc
    finally:
        _config_file.reset(token)
