"""Test kit for identity and usage: a tiny upstream and the real gateway app on loopback sockets,
with an injected clock, a capturing SMS sender and a light moderation engine."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from hegui.config import Settings, UpstreamConfig
from hegui.context import HeguiContext
from hegui.detect.base import Finding
from hegui.gateway.app import create_app
from hegui.identity.service import IdentityService
from hegui.moderation import ModerationEngine
from hegui.privacy.crypto import generate_key
from hegui.usage.clock import ManualClock
from hegui.usage.gate import gateway_checks
from hegui.usage.store import UsageStore
from loopback import serve_app

REDIS_URL = os.environ.get("HEGUI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")  # as tests/conftest.py
MINOR_ONLY_TERM = "测试未成年不宜甲"  # synthetic A5.1 content: disclaimed for adults, refused for minors
ANSWER = "你好，这是测试模型的回答。"


class MinorTestDetector:
    """Flags the synthetic term as A5.1 (harmful to minors' health)."""

    name = "test-minor"

    def detect(self, text: str, direction: str = "input") -> list[Finding]:
        i = text.find(MINOR_ONLY_TERM)
        if i < 0:
            return []
        return [Finding("test-minor", "term", "A5.1", 3, i, i + len(MINOR_ONLY_TERM), MINOR_ONLY_TERM)]


@dataclass
class CapturingSender:
    """An SMS sender that keeps what it would have sent (the test reads the code from it)."""

    name: str = "capture"
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, mobile: str, code: str, ttl_seconds: int, user_id: str) -> None:
        self.sent.append((mobile, code))

    @property
    def last_code(self) -> str:
        return self.sent[-1][1]


def upstream_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request) -> Any:
        body = await request.json()
        if body.get("stream"):
            async def gen() -> AsyncIterator[bytes]:
                for piece in (ANSWER[:4], ANSWER[4:]):
                    ev = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": body["model"],
                          "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    yield b"data: " + json.dumps(ev, ensure_ascii=False).encode() + b"\n\n"
                ev = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": body["model"],
                      "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                yield b"data: " + json.dumps(ev).encode() + b"\n\n"
                yield b"data: [DONE]\n\n"

            return StreamingResponse(gen(), media_type="text/event-stream")
        return JSONResponse({"id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER},
                                          "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    return app


@dataclass
class Gw:
    url: str
    ctx: HeguiContext
    clock: ManualClock
    sms: CapturingSender
    identity: IdentityService
    http: httpx.Client

    def chat(self, key: str, text: str = "你好", stream: bool = False) -> httpx.Response:
        body = {"model": "m", "messages": [{"role": "user", "content": text}], "stream": stream}
        return self.http.post("/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"})


@contextmanager
def running(ctx: HeguiContext, start: datetime, store: UsageStore | None = None) -> Iterator[Gw]:
    """The real gateway app (identity + usage steps wired) in front of the tiny upstream."""
    clock = ManualClock(start)
    sms = CapturingSender()
    with serve_app(upstream_app()) as up_url:
        ctx.settings.upstreams = [UpstreamConfig(name="tiny", base_url=up_url + "/v1", retries=0)]
        engine = ModerationEngine(ctx.pack, [MinorTestDetector()])
        app = create_app(ctx, engine=engine, usage_checks=gateway_checks(ctx, clock=clock, store=store))
        identity = IdentityService(ctx, sender=sms, clock=clock)
        app.state.identity_service = identity
        with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            yield Gw(url, ctx, clock, sms, identity, http)


@pytest.fixture
def sqlite_ctx(tmp_path: Path) -> Iterator[HeguiContext]:
    """A migrated installation on SQLite only, for gateway behaviour tests whose storage is covered on
    both databases elsewhere (keeps the suite fast)."""
    c = HeguiContext(Settings(data_dir=tmp_path / ".hegui", database_url=f"sqlite:///{tmp_path / 'gw.db'}",
                              secret_key=generate_key()))
    c.db.upgrade()
    yield c
    c.close()
