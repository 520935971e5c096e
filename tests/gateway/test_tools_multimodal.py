"""Tool calls, tool results and multi-part messages are moderated like text; images are recorded."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gw_fake_upstream import FakeUpstream
from gwkit import BANNED, Running, make_settings, running_gateway, upstream_config

from hegui.audit import log as audit_log

REFUSAL_ZH = "抱歉，我无法提供该内容。如有疑问，可通过投诉渠道反馈。"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(piece_chars=3) as up:
        yield up


@pytest.fixture(scope="module")
def gateway(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp: Path = tmp_path_factory.mktemp("gw-tools")
    with running_gateway(make_settings(tmp, upstreams=[upstream_config(upstream, models=["*"])])) as r:
        yield r


def _post(gw: Running, messages: list[dict[str, Any]], stream: bool = False) -> httpx.Response:
    return httpx.post(gw.url + "/v1/chat/completions", headers={"authorization": f"Bearer {gw.user_key}"},
                      json={"model": "m", "messages": messages, "stream": stream}, timeout=30)


def _events(resp: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(x[6:]) for x in resp.text.splitlines() if x.startswith("data: {")]


def _record(gw: Running, rid: str) -> dict[str, Any]:
    return next(x for x in audit_log.export(gw.ctx.db, gw.ctx.keys, decrypt=True) if x["record_id"] == rid)


TOOL_TURN = [{"role": "user", "content": "查一下天气"},
             {"role": "assistant", "content": None, "tool_calls": [
                 {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]}]


def test_tool_result_with_a_banned_term_is_refused_before_the_model(gateway: Running, upstream: FakeUpstream) -> None:
    seen = len(upstream.seen)
    r = _post(gateway, [*TOOL_TURN, {"role": "tool", "tool_call_id": "call_1", "content": f"结果：{BANNED}"}])
    body = r.json()
    assert body["choices"][0]["finish_reason"] == "content_filter"
    assert body["choices"][0]["message"]["content"] == REFUSAL_ZH
    assert r.headers["x-hegui-categories"] == "A1.4" and len(upstream.seen) == seen


def test_tool_result_in_parts_is_moderated(gateway: Running) -> None:
    parts = [{"type": "text", "text": "结果："}, {"type": "text", "text": BANNED}]
    r = _post(gateway, [*TOOL_TURN, {"role": "tool", "tool_call_id": "call_1", "content": parts}])
    assert r.json()["choices"][0]["finish_reason"] == "content_filter"


def test_tool_call_arguments_in_the_request_are_moderated(gateway: Running) -> None:
    forged = [{"role": "user", "content": "继续"}, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": json.dumps({"q": BANNED},
                                                                                      ensure_ascii=False)}}]}]
    assert _post(gateway, forged).json()["choices"][0]["finish_reason"] == "content_filter"


def test_harmless_tool_result_reaches_the_model(gateway: Running, upstream: FakeUpstream) -> None:
    r = _post(gateway, [*TOOL_TURN, {"role": "tool", "tool_call_id": "call_1", "content": "晴，25度"}])
    assert r.status_code == 200 and r.json()["choices"][0]["finish_reason"] == "stop"
    assert upstream.seen[-1].body["messages"][-1]["content"] == "晴，25度"


def test_text_part_of_a_multimodal_message_is_moderated(gateway: Running, upstream: FakeUpstream) -> None:
    seen = len(upstream.seen)
    content = [{"type": "text", "text": f"图里写的是{BANNED}吗"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]
    r = _post(gateway, [{"role": "user", "content": content}])
    assert r.json()["choices"][0]["finish_reason"] == "content_filter" and len(upstream.seen) == seen


def test_image_parts_pass_through_and_are_recorded_by_digest(gateway: Running, upstream: FakeUpstream) -> None:
    content = [{"type": "text", "text": "这张图是什么？"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
               {"type": "image_url", "image_url": {"url": "https://img.example.com/a.png"}}]
    r = _post(gateway, [{"role": "user", "content": content}])
    assert r.status_code == 200
    assert upstream.seen[-1].body["messages"][0]["content"][1]["image_url"]["url"].endswith(PNG)  # untouched
    parts = _record(gateway, r.headers["x-hegui-request-id"])["content"]["request"][0]["content"]
    assert parts[1]["image_url"] == {"inline": "image/png;base64", "chars": len(PNG),
                                     "sha256": hashlib.sha256(PNG.encode()).hexdigest()}
    assert parts[2]["image_url"]["url"] == "https://img.example.com/a.png"


@pytest.mark.parametrize("stream", [False, True])
def test_answer_tool_call_with_a_banned_term_is_withheld(gateway: Running, upstream: FakeUpstream,
                                                         stream: bool) -> None:
    upstream.tool_arguments = json.dumps({"q": "怎么买" + BANNED}, ensure_ascii=False)
    r = _post(gateway, [{"role": "user", "content": "CUE:TOOL 帮我查"}], stream=stream)
    if stream:
        evs = _events(r)
        assert not any("tool_calls" in (e["choices"] or [{}])[0].get("delta", {}) for e in evs if e.get("choices"))
        text = "".join((e["choices"][0]["delta"].get("content") or "") for e in evs if e.get("choices"))
        assert BANNED not in r.text and REFUSAL_ZH in text
        assert evs[-1]["choices"][0]["finish_reason"] == "content_filter"
    else:
        choice = r.json()["choices"][0]
        assert choice["finish_reason"] == "content_filter" and "tool_calls" not in choice["message"]
        assert choice["message"]["content"] == REFUSAL_ZH
    rec = _record(gateway, r.headers["x-hegui-request-id"])
    assert rec["decision"] == "block" and rec["categories"] == ["A1.4"]


@pytest.mark.parametrize("stream", [False, True])
def test_harmless_tool_call_goes_out_whole_with_pii_masked(gateway: Running, upstream: FakeUpstream,
                                                            stream: bool) -> None:
    upstream.tool_arguments = json.dumps({"city": "杭州", "phone": "13812345678"}, ensure_ascii=False)
    r = _post(gateway, [{"role": "user", "content": "CUE:TOOL 查天气"}], stream=stream)
    if stream:
        calls = [c for e in _events(r) if e.get("choices")
                 for c in e["choices"][0]["delta"].get("tool_calls") or []]
        assert len(calls) == 1  # fragments joined, sent once checked
        call = calls[0]
        assert _events(r)[-1]["choices"][0]["finish_reason"] == "tool_calls"
    else:
        choice = r.json()["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        call = choice["message"]["tool_calls"][0]
    assert call["id"] == "call_1" and call["function"]["name"] == "lookup"
    args = json.loads(call["function"]["arguments"])
    assert args["city"] == "杭州" and args["phone"] != "13812345678" and args["phone"].startswith("138")
    assert "13812345678" not in r.text


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_trace_is_withheld_and_named_in_the_audit(gateway: Running, upstream: FakeUpstream,
                                                           stream: bool) -> None:
    """A reasoning model's ``reasoning_content`` is generated text hegui does not check: it never goes out."""
    r = _post(gateway, [{"role": "user", "content": "CUE:REASON 想一想"}], stream=stream)
    assert r.status_code == 200
    assert "reasoning_content" not in r.text and upstream.unsafe_text[:4] not in r.text
    if stream:
        text = "".join((e["choices"][0]["delta"].get("content") or "") for e in _events(r) if e.get("choices"))
    else:
        text = r.json()["choices"][0]["message"]["content"]
    assert upstream.answer_text in text
    rec = _record(gateway, r.headers["x-hegui-request-id"])
    assert rec["content"]["withheld_fields"] == ["reasoning_content"]
