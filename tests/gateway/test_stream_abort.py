"""A client that hangs up mid-stream: the upstream request is cancelled and the exchange audited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gw_fake_upstream import FakeUpstream
from gwkit import Running, make_settings, running_gateway, upstream_config

from hegui.audit import log as audit_log

LONG_ANSWER = "这是一个慢慢生成的回答，每一段都要等一会儿。" * 40  # 40 pieces of 22 characters, 0.1 s apart


@pytest.fixture(scope="module")
def slow_model() -> Iterator[FakeUpstream]:
    with FakeUpstream(answer_text=LONG_ANSWER, piece_chars=22, piece_delay=0.1) as up:
        yield up


@pytest.fixture(scope="module")
def gateway(slow_model: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp: Path = tmp_path_factory.mktemp("gw-abort")
    with running_gateway(make_settings(tmp, upstreams=[upstream_config(slow_model, models=["*"])])) as r:
        yield r


def _wait_for(cond: object, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_hanging_up_mid_stream_cancels_the_upstream_and_audits_the_exchange(gateway: Running,
                                                                            slow_model: FakeUpstream) -> None:
    started, finished, abandoned = slow_model.streams_started, slow_model.streams_finished, slow_model.streams_abandoned
    with httpx.Client(base_url=gateway.url, timeout=30) as c, c.stream(
            "POST", "/v1/chat/completions", headers={"authorization": f"Bearer {gateway.user_key}"},
            json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "讲个长故事"}]}) as r:
        rid = r.headers["x-hegui-request-id"]
        for line in r.iter_lines():
            if '"content":"这' in line:  # the first checked text arrived: hang up
                break
    assert slow_model.streams_started == started + 1
    assert _wait_for(lambda: slow_model.streams_abandoned == abandoned + 1)  # the upstream saw the hang-up
    assert slow_model.streams_finished == finished  # ... long before its 4 s answer was complete

    def record() -> dict[str, object] | None:
        return next((x for x in audit_log.export(gateway.ctx.db, gateway.ctx.keys, decrypt=True)
                     if x["record_id"] == rid), None)

    assert _wait_for(lambda: record() is not None)
    rec = record()
    assert rec is not None and rec["status_code"] == 499 and rec["error"] == "client closed the stream"
    content = rec["content"]
    assert isinstance(content, dict) and str(content["answer"]).startswith("这是一个慢慢生成的回答")
    assert audit_log.verify(gateway.ctx.db).ok


def test_a_finished_stream_is_not_counted_as_abandoned(gateway: Running, slow_model: FakeUpstream) -> None:
    abandoned = slow_model.streams_abandoned
    with httpx.Client(base_url=gateway.url, timeout=30) as c:
        r = c.post("/v1/chat/completions", headers={"authorization": f"Bearer {gateway.user_key}"},
                   json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "短"}]})
    assert r.text.rstrip().endswith("data: [DONE]")
    assert slow_model.streams_abandoned == abandoned
