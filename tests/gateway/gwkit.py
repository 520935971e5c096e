"""Gateway test kit: the gateway on real loopback sockets (uvicorn in a thread), users, a shared engine."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
from fastapi import FastAPI
from gw_fake_upstream import FakeUpstream

from hegui.config import Settings, UpstreamConfig
from hegui.context import HeguiContext
from hegui.detect.base import Detector
from hegui.detect.jailbreak import JailbreakDetector
from hegui.detect.lexicon import LexiconRegistry
from hegui.detect.lexicon.service import LexiconService
from hegui.detect.pii.detector import PiiDetector
from hegui.gateway.app import create_app
from hegui.gateway.pipeline import Gateway
from hegui.identity import accounts
from hegui.install import ensure_database
from hegui.moderation import ModerationEngine
from hegui.privacy.crypto import generate_key
from hegui.text import Normalizer
from loopback import serve_app

BANNED = "测试违禁词甲"  # synthetic A1.4 term added to the lexicon for tests
UPSTREAM_KEY = "sk-upstream-secret-0001"
# A long harmless start (longer than the stream moderator's held-back window), then the term.
UNSAFE_ANSWER = "这是一个很长的正常开头，讲一些普通的事情。" * 12 + "然后模型开始说" + BANNED + "以及后面的危险细节。"


@dataclass
class Running:
    url: str
    app: FastAPI
    ctx: HeguiContext
    user_key: str
    user_id: str
    admin_key: str

    @property
    def gw(self) -> Gateway:
        gw: Gateway = self.app.state.gateway
        return gw

    def client(self, key: str | None = None, **kw: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key or self.user_key, max_retries=0, timeout=30, **kw)


# Tests send hundreds of requests with one key in seconds: the rate limit stays on (every request goes
# through it) but high; tests/gateway/test_rate_limit.py checks the limit itself.
TEST_RATE_LIMIT = {"requests_per_minute": 1_000_000, "burst": 100_000}


def make_settings(tmp: Path, db_url: str | None = None, upstreams: list[UpstreamConfig] | None = None,
                  **gateway: Any) -> Settings:
    return Settings(data_dir=tmp / ".hegui", database_url=db_url or f"sqlite:///{tmp / 'gw.db'}",
                    secret_key=generate_key(), upstreams=upstreams or [],
                    gateway={"rate_limit": TEST_RATE_LIMIT, **gateway})


def upstream_config(up: FakeUpstream, **kw: Any) -> UpstreamConfig:
    base: dict[str, Any] = {"name": "fake", "base_url": up.url, "api_key": UPSTREAM_KEY, "timeout_seconds": 10,
                            "retries": 1}
    base.update(kw)
    return UpstreamConfig(**base)


def rule_engine(ctx: HeguiContext) -> ModerationEngine:
    """The production engine minus the statistical classifier, so answers are deterministic."""
    pack = ctx.pack
    dets: list[Detector] = [LexiconRegistry(ctx), PiiDetector.from_pack(pack), JailbreakDetector()]
    return ModerationEngine(pack, dets, Normalizer(pack.normalisation))


_ENGINE: ModerationEngine | None = None


def shared_engine(tmp: Path) -> ModerationEngine:
    """One engine for the whole test session (building the lexicon automaton takes seconds).

    Its lexicon lives in its own database: the shipped default lexicons plus the synthetic term.
    """
    global _ENGINE
    if _ENGINE is None:
        atexit.register(shutil.rmtree, tmp, True)
        ctx = HeguiContext(make_settings(tmp))
        ensure_database(ctx)
        LexiconService(ctx).add(BANNED, "A1.4", severity=3)
        _ENGINE = rule_engine(ctx)
    return _ENGINE


@contextmanager
def running_gateway(settings: Settings, sanctions: bool = False) -> Iterator[Running]:
    """``sanctions=False`` turns the automatic sanctions ladder off: these tests send many refused inputs."""
    ctx = HeguiContext(settings)
    ctx.db.upgrade()
    user = accounts.create_user(ctx.db, "app user")
    admin = accounts.create_user(ctx.db, "operator", role="admin")
    app = create_app(ctx, engine=shared_engine(Path(tempfile.mkdtemp(prefix="hegui-engine-"))))
    with serve_app(app) as url:
        if not sanctions:
            app.state.gateway.after_refusal = None
        yield Running(url, app, ctx, user.api_key, user.user_id, admin.api_key)
    ctx.close()
