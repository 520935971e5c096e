"""The shared part of every guard adapter: configuration, the HTTP call, retries, fail-open/closed."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hegui.detect.base import Direction, Finding
from hegui.errors import ConfigError
from hegui.policy.taxonomy import RISKS

log = logging.getLogger(__name__)

GuardKind = Literal["qwen3guard", "llamaguard", "json"]
Level = Literal["safe", "controversial", "unsafe"]


class GuardConfig(BaseModel):
    """One guard model. ``base_url`` is the OpenAI-compatible root (``http://127.0.0.1:8000/v1``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: GuardKind
    name: str = Field(default="", pattern=r"^[a-z0-9][a-z0-9_.-]*$|^$", description="default: the kind")
    base_url: str
    model: str = Field(min_length=1, description="model name the server expects")
    api_key: str | None = None
    timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    connect_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=5)
    backoff_seconds: float = Field(default=0.2, ge=0, le=10)
    fail: Literal["closed", "open"] = "closed"
    fail_category: str = "J"
    directions: tuple[Direction, ...] = ("input", "output")
    controversial_score: float = Field(default=0.5, gt=0, le=1, description="score of a Controversial verdict")
    category_map: dict[str, str] = Field(default_factory=dict, description="guard category → risk code overrides")
    max_chars: int = Field(default=16000, gt=0, description="longer texts are cut (head and tail kept)")

    @field_validator("base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("fail_category")
    @classmethod
    def _code(cls, v: str) -> str:
        if v not in RISKS:
            raise ValueError(f"unknown risk code {v!r}")
        return v

    @field_validator("category_map")
    @classmethod
    def _map_codes(cls, v: dict[str, str]) -> dict[str, str]:
        for k, code in v.items():
            if code not in RISKS:
                raise ValueError(f"category_map[{k!r}]: unknown risk code {code!r}")
        return v

    @property
    def label(self) -> str:
        return self.name or self.kind


class GuardUnavailable(Exception):
    """The guard could not give a verdict (timeout, connection, HTTP error, unparseable answer)."""


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """What the guard said: ``level`` safe | controversial | unsafe; ``categories`` as (risk code, score)."""

    level: Level
    categories: list[tuple[str, float]] = field(default_factory=list)
    raw_categories: list[str] = field(default_factory=list)
    refusal: bool | None = None
    raw: str = ""

    @property
    def safe(self) -> bool:
        return self.level == "safe"


class GuardAdapter(ABC):
    """Base class. Subclasses build the chat messages and parse the reply; this class does the I/O."""

    whole_text = True

    def __init__(self, config: GuardConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.name = f"guard:{config.label}"
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._client = httpx.Client(
            base_url=config.base_url, headers=headers, transport=transport,
            timeout=httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds))

    def close(self) -> None:
        self._client.close()

    # -- to implement ---------------------------------------------------------------------------

    @abstractmethod
    def parse(self, content: str) -> GuardVerdict:
        """Turn the guard's reply text into a verdict; raise ``ValueError`` when it is not one."""

    def messages(self, text: str, direction: Direction, prompt: str | None) -> list[dict[str, str]]:
        """Chat messages for the guard: a prompt is checked as the user turn, an answer as the assistant turn."""
        if direction == "input":
            return [{"role": "user", "content": text}]
        return [{"role": "user", "content": prompt or ""}, {"role": "assistant", "content": text}]

    # -- the call ---------------------------------------------------------------------------------

    def _cut(self, text: str) -> str:
        n = self.config.max_chars
        return text if len(text) <= n else text[: n // 2] + "\n…\n" + text[-n // 2:]

    def _complete(self, messages: list[dict[str, str]]) -> str:
        body: dict[str, Any] = {"model": self.config.model, "messages": messages, "temperature": 0,
                                "max_tokens": 128, "stream": False}
        last: str = ""
        for attempt in range(self.config.retries + 1):
            if attempt:
                time.sleep(self.config.backoff_seconds * (2 ** (attempt - 1)))
            try:
                resp = self._client.post("/chat/completions", json=body)
            except httpx.TimeoutException:
                last = "timeout"
                continue
            except httpx.HTTPError as err:
                last = f"connection: {type(err).__name__}"
                continue
            if resp.status_code >= 500 or resp.status_code == 429:
                last = f"HTTP {resp.status_code}"
                continue
            if resp.status_code >= 400:
                raise GuardUnavailable(f"HTTP {resp.status_code}: {resp.text[:200]}")
            try:
                content = resp.json()["choices"][0]["message"]["content"]
            except (ValueError, KeyError, IndexError, TypeError):
                raise GuardUnavailable("reply is not an OpenAI chat completion") from None
            if not isinstance(content, str):
                raise GuardUnavailable("reply has no text content")
            return content
        raise GuardUnavailable(f"{last} after {self.config.retries + 1} attempt(s)")

    def check(self, text: str, direction: Direction = "input", prompt: str | None = None) -> GuardVerdict:
        """Ask the guard; raise ``GuardUnavailable`` when there is no usable verdict."""
        content = self._complete(self.messages(self._cut(text), direction, prompt))
        try:
            return self.parse(content)
        except ValueError as err:
            raise GuardUnavailable(f"unparseable verdict: {err}") from None

    def detect(self, text: str, direction: Direction = "input", prompt: str | None = None) -> list[Finding]:
        if direction not in self.config.directions or not text.strip():
            return []
        rule = f"{self.name}@{self.config.model}"
        try:
            verdict = self.check(text, direction, prompt)
        except GuardUnavailable as err:
            log.warning("%s unavailable: %s", self.name, err)
            if self.config.fail == "open":
                return []
            return [Finding(self.name, "guard_unavailable", self.config.fail_category, 3, 0, len(text), "", 1.0,
                            f"{rule}:unavailable:{str(err)[:120]}")]
        if verdict.safe:
            return []
        extra = "" if verdict.refusal is None else f":refusal={'yes' if verdict.refusal else 'no'}"
        cats = verdict.categories or [(self.config.fail_category, 1.0 if verdict.level == "unsafe"
                                       else self.config.controversial_score)]
        out = []
        for code, score in cats:
            sev = 3 if verdict.level == "unsafe" else 2
            out.append(Finding(self.name, "risk", code, sev, 0, len(text), ",".join(verdict.raw_categories)[:200],
                               round(score, 4), f"{rule}:{verdict.level}{extra}"))
        return out

    def _map(self, names: list[str], table: dict[str, str], score: float) -> list[tuple[str, float]]:
        """Guard categories → risk codes (operator overrides first); unknown names raise."""
        out: dict[str, float] = {}
        lookup = {k.casefold(): v for k, v in table.items()}
        lookup.update({k.casefold(): v for k, v in self.config.category_map.items()})
        for n in names:
            code = lookup.get(n.strip().casefold())
            if code is None:
                raise ValueError(f"unknown guard category {n!r}")
            out[code] = max(out.get(code, 0.0), score)
        return list(out.items())


def build_guard(config: GuardConfig | dict[str, Any], *, transport: httpx.BaseTransport | None = None) -> GuardAdapter:
    """An adapter from a config (a ``GuardConfig`` or the mapping found in a config file)."""
    from hegui.detect.guard.json_verdict import JsonVerdictAdapter
    from hegui.detect.guard.llamaguard import LlamaGuardAdapter
    from hegui.detect.guard.qwen3guard import Qwen3GuardAdapter

    if not isinstance(config, GuardConfig):
        try:
            config = GuardConfig.model_validate(config)
        except ValidationError as err:
            msgs = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
            raise ConfigError(f"guard model config: {msgs}") from None
    if config.kind == "qwen3guard":
        return Qwen3GuardAdapter(config, transport=transport)
    if config.kind == "llamaguard":
        return LlamaGuardAdapter(config, transport=transport)
    return JsonVerdictAdapter(config, transport=transport)
