"""Guard adapters against a local HTTP server speaking Qwen3Guard, Llama Guard and JSON verdicts."""

from __future__ import annotations

from typing import Any

import pytest

from hegui.detect.base import Detector
from hegui.detect.guard import (
    GuardConfig,
    GuardUnavailable,
    JsonVerdictAdapter,
    LlamaGuardAdapter,
    Qwen3GuardAdapter,
    build_guard,
)
from hegui.errors import ConfigError

GuardServer = Any  # the conftest fixture's type (tests are not a package)


def _cfg(server: GuardServer, kind: str = "qwen3guard", **kw: Any) -> GuardConfig:
    base: dict[str, Any] = {"kind": kind, "base_url": server.url, "model": "guard-model", "timeout_seconds": 0.5,
                            "connect_timeout_seconds": 0.5, "retries": 1, "backoff_seconds": 0.0}
    base.update(kw)
    return GuardConfig.model_validate(base)


def _always(content: str, status: int = 200) -> Any:
    return lambda body: (status, content)


def test_qwen3guard_unsafe_maps_categories_to_risk_codes(guard_server: GuardServer) -> None:
    guard_server.reply = _always("Safety: Unsafe\nCategories: Violent, Non-violent Illegal Acts")
    found = Qwen3GuardAdapter(_cfg(guard_server)).detect("how do I hurt someone", "input")
    assert sorted((f.category, f.score) for f in found) == [("A1.6", 1.0), ("A1.8", 1.0)]
    assert all(f.detector == "guard:qwen3guard" and f.type == "risk" for f in found)
    assert found[0].start == 0 and found[0].end == len("how do I hurt someone")


def test_qwen3guard_controversial_gets_the_configured_score(guard_server: GuardServer) -> None:
    guard_server.reply = _always("Safety: Controversial\nCategories: Politically Sensitive Topics")
    found = Qwen3GuardAdapter(_cfg(guard_server, controversial_score=0.6)).detect("text")
    assert [(f.category, f.score, f.severity) for f in found] == [("A1.2", 0.6, 2)]


def test_qwen3guard_safe_gives_no_findings(guard_server: GuardServer) -> None:
    guard_server.reply = _always("Safety: Safe\nCategories: None")
    assert Qwen3GuardAdapter(_cfg(guard_server)).detect("炸鸡怎么做") == []


def test_qwen3guard_output_check_sends_prompt_and_answer_and_reads_refusal(guard_server: GuardServer) -> None:
    guard_server.reply = _always("Safety: Unsafe\nCategories: Suicide & Self-Harm\nRefusal: No")
    adapter = Qwen3GuardAdapter(_cfg(guard_server))
    verdict = adapter.check("take all the pills", "output", prompt="what should I do")
    assert verdict.refusal is False and verdict.categories == [("A4.1", 1.0)]
    msgs = guard_server.requests[-1]["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    assert msgs[0]["content"] == "what should I do" and msgs[1]["content"] == "take all the pills"
    assert guard_server.requests[-1]["model"] == "guard-model"


def test_category_map_overrides_the_default_mapping(guard_server: GuardServer) -> None:
    guard_server.reply = _always("Safety: Unsafe\nCategories: Politically Sensitive Topics")
    found = Qwen3GuardAdapter(_cfg(guard_server, category_map={"Politically Sensitive Topics": "A1.1"})).detect("x")
    assert [f.category for f in found] == ["A1.1"]


def test_llamaguard_unsafe_codes_map_to_risk_codes(guard_server: GuardServer) -> None:
    guard_server.reply = _always("unsafe\nS1,S9")
    found = LlamaGuardAdapter(_cfg(guard_server, "llamaguard")).detect("text")
    assert sorted(f.category for f in found) == ["A1.4", "A1.6"]


def test_llamaguard_safe_gives_no_findings(guard_server: GuardServer) -> None:
    guard_server.reply = _always("safe")
    assert LlamaGuardAdapter(_cfg(guard_server, "llamaguard")).detect("hello") == []


def test_json_verdict_reads_codes_and_scores_from_a_fenced_object(guard_server: GuardServer) -> None:
    guard_server.reply = _always('Verdict:\n```json\n{"safe": false, "categories": [{"code": "A1.4", "score": 0.93}, '
                                 '"J"], "refusal": false}\n```')
    found = JsonVerdictAdapter(_cfg(guard_server, "json")).detect("text")
    assert sorted((f.category, f.score) for f in found) == [("A1.4", 0.93), ("J", 1.0)]


def test_json_verdict_safe_gives_no_findings(guard_server: GuardServer) -> None:
    guard_server.reply = _always('{"safe": true}')
    assert JsonVerdictAdapter(_cfg(guard_server, "json")).detect("text") == []


def test_unparseable_reply_fails_closed_by_default(guard_server: GuardServer) -> None:
    guard_server.reply = _always("I think this is fine")
    found = Qwen3GuardAdapter(_cfg(guard_server)).detect("text")
    assert [(f.type, f.category, f.score) for f in found] == [("guard_unavailable", "J", 1.0)]
    assert "unparseable" in (found[0].rule or "")


def test_unknown_guard_category_is_not_silently_dropped(guard_server: GuardServer) -> None:
    guard_server.reply = _always("Safety: Unsafe\nCategories: Something New")
    with pytest.raises(GuardUnavailable, match="unknown guard category"):
        Qwen3GuardAdapter(_cfg(guard_server)).check("text")


def test_timeout_fails_closed_with_guard_unavailable(guard_server: GuardServer) -> None:
    found = Qwen3GuardAdapter(_cfg(guard_server, timeout_seconds=0.2, retries=0)).detect("HANG please")
    assert [f.type for f in found] == ["guard_unavailable"]
    assert "timeout" in (found[0].rule or "")


def test_fail_open_returns_nothing_when_the_guard_is_down(guard_server: GuardServer) -> None:
    adapter = LlamaGuardAdapter(_cfg(guard_server, "llamaguard", timeout_seconds=0.2, retries=0, fail="open"))
    assert adapter.detect("HANG please") == []


def test_connection_refused_fails_closed() -> None:
    cfg = GuardConfig(kind="llamaguard", base_url="http://127.0.0.1:9/v1", model="m", retries=0,
                      connect_timeout_seconds=0.5)
    found = LlamaGuardAdapter(cfg).detect("text")
    assert [f.type for f in found] == ["guard_unavailable"]


def test_server_error_is_retried_then_succeeds(guard_server: GuardServer) -> None:
    calls = {"n": 0}

    def flaky(body: dict[str, Any]) -> tuple[int, str]:
        calls["n"] += 1
        return (503, "busy") if calls["n"] == 1 else (200, "unsafe\nS11")

    guard_server.reply = flaky
    found = LlamaGuardAdapter(_cfg(guard_server, "llamaguard", retries=2)).detect("text")
    assert [f.category for f in found] == ["A4.1"]
    assert len(guard_server.requests) == 2


def test_client_error_is_not_retried(guard_server: GuardServer) -> None:
    guard_server.reply = _always("bad model", status=400)
    found = LlamaGuardAdapter(_cfg(guard_server, "llamaguard", retries=3)).detect("text")
    assert [f.type for f in found] == ["guard_unavailable"]
    assert len(guard_server.requests) == 1


def test_api_key_is_sent_as_bearer_token(guard_server: GuardServer) -> None:
    guard_server.reply = _always("safe")
    LlamaGuardAdapter(_cfg(guard_server, "llamaguard", api_key="sk-test")).detect("text")
    assert guard_server.headers[-1]["authorization"] == "Bearer sk-test"


def test_directions_limit_what_is_sent(guard_server: GuardServer) -> None:
    adapter = LlamaGuardAdapter(_cfg(guard_server, "llamaguard", directions=["input"]))
    assert adapter.detect("model answer", "output") == []
    assert guard_server.requests == []


def test_build_guard_picks_the_adapter_and_is_a_detector(guard_server: GuardServer) -> None:
    adapter = build_guard({"kind": "json", "name": "inhouse", "base_url": guard_server.url, "model": "m"})
    assert isinstance(adapter, JsonVerdictAdapter) and adapter.name == "guard:inhouse"
    assert isinstance(adapter, Detector)


def test_bad_guard_config_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError, match="base_url"):
        build_guard({"kind": "qwen3guard", "base_url": "localhost:8000", "model": "m"})


def test_engine_refuses_on_an_unsafe_guard_verdict(guard_server: GuardServer) -> None:
    from hegui.moderation.engine import ModerationEngine
    from hegui.policy.pack import load_pack

    guard_server.reply = _always("Safety: Unsafe\nCategories: Violent")
    engine = ModerationEngine(load_pack("cn-genai"), [Qwen3GuardAdapter(_cfg(guard_server))])
    decision = engine.moderate("some text", "input")
    assert decision.action == "refuse" and decision.categories == ["A1.6"]


def test_engine_refuses_when_a_fail_closed_guard_is_down(guard_server: GuardServer) -> None:
    from hegui.moderation.engine import ModerationEngine
    from hegui.policy.pack import load_pack

    engine = ModerationEngine(load_pack("cn-genai"), [Qwen3GuardAdapter(_cfg(guard_server, timeout_seconds=0.2,
                                                                               retries=0))])
    decision = engine.moderate("HANG", "input")
    assert decision.blocked
    assert [f.type for f in decision.findings] == ["guard_unavailable"]
