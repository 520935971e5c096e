"""Configuration: ``hegui.yaml`` plus ``HEGUI_…`` environment variables (env wins).

Nested keys use ``__`` in the environment: ``HEGUI_GATEWAY__PORT=8080``. Everything has an
embedded default so that ``hegui serve`` runs with no file at all.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hegui.detect.guard.base import GuardConfig
from hegui.errors import ConfigError

CONFIG_ENV = "HEGUI_CONFIG"
DEFAULT_CONFIG_FILE = "hegui.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UpstreamConfig(_Section):
    """One OpenAI-compatible model endpoint (vLLM, Ollama, llama.cpp, a cloud API)."""

    name: str
    base_url: str = Field(description="e.g. http://127.0.0.1:8000/v1")
    api_key: str | None = None
    models: list[str] = Field(default_factory=lambda: ["*"], description="model names routed here; * = any")
    timeout_seconds: float = Field(default=60.0, gt=0)
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)

    @field_validator("base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")


class RateLimitConfig(_Section):
    """Requests per API key: a token bucket of ``burst`` requests refilled at ``requests_per_minute``."""

    enabled: bool = True
    requests_per_minute: int = Field(default=600, gt=0, le=10**9, description="sustained rate per key")
    burst: int = Field(default=60, gt=0, le=10**9, description="requests a key may send at once")


class GatewayConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    max_upstream_bytes: int = Field(default=16 * 1024 * 1024, gt=0,
                                    description="an upstream answer (or stream) larger than this is refused: 502")
    text_label: bool = True
    audit_queue_size: int = Field(default=10_000, gt=0)
    rate_limit: RateLimitConfig = RateLimitConfig()
    metrics_token: str | None = Field(default=None, min_length=16,
                                      description="Bearer token Prometheus sends to read /metrics")
    metrics_public: bool = Field(default=False, description="serve /metrics without credentials (private networks)")
    compiled_kernels: bool = Field(
        default=False, description="load the compiled moderation kernels (numba) in the background at start: "
        "lexicon and proximity-rule checks 2-3x cheaper, ~+170 MB per worker process (see docs/gateway.md)")


class PrivacyConfig(_Section):
    """Where user content may go and how it is protected on the way (see docs/privacy.md)."""

    egress_allow_hosts: list[str] = Field(
        default_factory=list, description="hosts user content may be sent to; empty = the configured upstreams")
    mask_pii_upstream: bool = Field(
        default=False, description="replace identifiers by reversible tokens before the upstream sees them")
    purge_interval_hours: float = Field(default=24.0, ge=0, description="retention purge in serve; 0 = off")


class NotifyConfig(_Section):
    """How complainants and requesters are told the outcome: operator log (default), HTTP, or SMTP."""

    adapter: str = Field(default="log", pattern="^(log|http|smtp)$")
    url: str | None = Field(default=None, description="http adapter: POST JSON {channel, to, subject, body}")
    token: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "hegui@localhost"


class ProviderConfig(_Section):
    """Facts about the provider for filing documents. Missing facts are listed, never invented."""

    name: str | None = None
    unified_social_credit_code: str | None = None
    legal_representative: str | None = None
    security_officer: str | None = None
    contact: str | None = None
    service_name: str | None = None
    service_form: str | None = None
    application_domain: str | None = None
    producer_code: str | None = Field(default=None, description="ContentProducer code for AIGC labels")


class Settings(BaseSettings):
    """All of hegui's settings. See docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="HEGUI_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Path(".hegui")
    database_url: str | None = Field(default=None, description="default: SQLite file under data_dir")
    redis_url: str | None = None
    policy_pack: str = "cn-genai"
    secret_key: str | None = Field(
        default=None, description="base64 32-byte master key; default: generated into data_dir/secret.key")
    old_secret_keys: list[str] = Field(default_factory=list, description="previous keys, still readable")
    log_level: str = "INFO"
    upstreams: list[UpstreamConfig] = Field(default_factory=list)
    gateway: GatewayConfig = GatewayConfig()
    provider: ProviderConfig = ProviderConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    notify: NotifyConfig = NotifyConfig()
    guards: list[GuardConfig] = Field(
        default_factory=list, description="guard models (Qwen3Guard, Llama Guard, JSON verdict) next to the classifier")
    classifier_weights: Path | None = Field(
        default=None, description="your classifier weights (.npz); default: $HEGUI_CLASSIFIER_WEIGHTS or the shipped")
    combo_rules: list[Path] = Field(
        default_factory=list, description="your proximity-rule files (YAML/JSONL), added to the shipped combo rules")

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.startswith(("sqlite://", "sqlite+pysqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must be a sqlite:///PATH or postgresql+psycopg://USER@HOST/DB URL")
        if v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v.removeprefix("postgresql://")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://HOST:PORT/DB URL")
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return v.upper()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hegui.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (the YAML file's content, passed by load_settings) < env
        return (env_settings, init_settings)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file {path}: cannot read: {err}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path}: not valid YAML: {err}".replace("\n", " ")) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of settings at the top level")
    return data


def _describe(err: ValidationError, origin: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown setting (see docs/configuration.md for the valid keys)"
    env_name = "HEGUI_" + key.upper().replace(".", "__")
    more = f" (+{len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
    return f"invalid setting {key!r} (file {origin} or env {env_name}): {msg}{more}"


def config_path(explicit: str | Path | None = None) -> Path | None:
    """The config file in force: ``--config``, else ``$HEGUI_CONFIG``, else ``./hegui.yaml`` if present."""
    if explicit is not None:
        p = Path(explicit)
        if not p.is_file():
            raise ConfigError(f"config file {p} not found (given by --config)")
        return p
    env = os.environ.get(CONFIG_ENV)
    if env:
        p = Path(env)
        if not p.is_file():
            raise ConfigError(f"config file {p} not found (given by {CONFIG_ENV})")
        return p
    p = Path(DEFAULT_CONFIG_FILE)
    return p if p.is_file() else None


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Load settings from the config file and environment; raise ``ConfigError`` on any bad key."""
    path = config_path(config_file)
    data = _read_yaml(path) if path else {}
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**data)
    except ValidationError as err:
        raise ConfigError(_describe(err, str(path) if path else "(none)")) from None


STARTER_CONFIG = """\
# hegui configuration. Every key is optional; environment variables HEGUI_<KEY> override
# (nested keys with "__", e.g. HEGUI_GATEWAY__PORT=8080). See docs/configuration.md.

# Where hegui keeps its embedded state (SQLite database, generated secret key).
data_dir: .hegui

# Database: SQLite file under data_dir by default. For production use PostgreSQL:
# database_url: postgresql+psycopg://hegui@127.0.0.1:5432/hegui

# Redis for shared counters when several gateway workers run (optional):
# redis_url: redis://127.0.0.1:6379/0

# Policy pack: a built-in name (cn-genai) or a path to your own YAML pack.
policy_pack: cn-genai

# Upstream models (any OpenAI-compatible endpoint). Upstream API keys stay on this server.
upstreams: []
#  - name: local-vllm
#    base_url: http://127.0.0.1:8001/v1
#    models: ["qwen2.5-7b-instruct"]
#    api_key: null
#    timeout_seconds: 60

gateway:
  host: 127.0.0.1
  port: 8000
  text_label: true        # append the pack's explicit AIGC label to text answers
  rate_limit:             # per API key; shared by all workers through redis_url
    requests_per_minute: 600
    burst: 60
  # metrics_token: null   # Bearer token Prometheus sends for /metrics (admin/auditor keys work too)

# Facts for the filing documents (hegui filing build). Missing facts are listed, not invented.
provider:
  name: null
  unified_social_credit_code: null
  security_officer: null
"""
