"""Health, readiness, metrics; faults: no upstream, slow/unreachable upstream, database down, labels."""

from __future__ import annotations

import socket
import time
from importlib import resources
from pathlib import Path

import httpx
import openai
import pytest
import yaml
from gw_fake_upstream import FakeUpstream
from gwkit import BANNED, Running, make_settings, running_gateway, upstream_config
from sqlalchemy import create_engine

from hegui.audit import log as audit_log


def test_healthz_and_readyz(gateway: Running) -> None:
    assert httpx.get(gateway.url + "/healthz").json()["status"] == "ok"
    ready = httpx.get(gateway.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def test_metrics_count_requests_decisions_and_latency(gateway: Running) -> None:
    gateway.client().chat.completions.create(model="fake-model", messages=[{"role": "user", "content": BANNED}])
    gateway.client().chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hi"}])
    text = httpx.get(gateway.url + "/metrics", headers={"authorization": f"Bearer {gateway.admin_key}"}).text
    assert 'hegui_decisions_total{action="refuse",category="A1.4",direction="input"}' in text
    assert 'hegui_requests_total{endpoint="chat.completions",status="200"}' in text
    assert "hegui_upstream_latency_seconds_bucket" in text and "hegui_gateway_overhead_seconds_bucket" in text


def test_no_upstream_chat_is_503_but_moderation_works(tmp_path: Path) -> None:
    with running_gateway(make_settings(tmp_path)) as r:
        with pytest.raises(openai.APIStatusError) as ei:
            r.client().chat.completions.create(model="any", messages=[{"role": "user", "content": "hi"}])
        assert ei.value.status_code == 503 and "no upstream model is configured" in str(ei.value)
        assert r.client().moderations.create(input=BANNED).results[0].flagged
        assert httpx.get(r.url + "/readyz").status_code == 200


def test_unknown_model_is_404(tmp_path: Path, upstream: FakeUpstream) -> None:
    settings = make_settings(tmp_path, upstreams=[upstream_config(upstream, models=["only-this"])])
    with running_gateway(settings) as r, pytest.raises(openai.NotFoundError, match="`other` does not exist"):
        r.client().chat.completions.create(model="other", messages=[{"role": "user", "content": "hi"}])


def test_slow_upstream_is_504_and_audited(tmp_path: Path, upstream: FakeUpstream) -> None:
    cfg = upstream_config(upstream, timeout_seconds=0.3)
    with running_gateway(make_settings(tmp_path, upstreams=[cfg])) as r:
        with pytest.raises(openai.APIStatusError) as ei:
            r.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "CUE:SLOW"}])
        assert ei.value.status_code == 504 and "timed out" in str(ei.value)
        rec = list(audit_log.export(r.ctx.db, None))[-1]
        assert rec["status_code"] == 504 and "upstream_timeout" in str(rec["error"])


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_upstream_is_502_after_retries(tmp_path: Path, upstream: FakeUpstream) -> None:
    cfg = upstream_config(upstream, base_url=f"http://127.0.0.1:{closed_port()}/v1", retries=2)
    with running_gateway(make_settings(tmp_path, upstreams=[cfg])) as r:
        with pytest.raises(openai.APIStatusError) as ei:
            r.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True)
        assert ei.value.status_code == 502 and "unreachable after 3 attempt(s)" in str(ei.value)


def test_database_down_fails_closed(tmp_path: Path, upstream: FakeUpstream, db_url: str) -> None:
    with running_gateway(make_settings(tmp_path, db_url=db_url, upstreams=[upstream_config(upstream)])) as r:
        seen = len(upstream.seen)
        bad = ("sqlite:////proc/no-such-dir/hegui.db" if db_url.startswith("sqlite")
               else f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/gone")
        good = r.ctx.db.engine
        r.ctx.db.engine = create_engine(bad)
        try:
            with pytest.raises(openai.APIStatusError) as ei:
                r.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            assert ei.value.status_code == 503 and "fails closed" in str(ei.value)
            assert httpx.get(r.url + "/readyz").status_code == 503
            assert len(upstream.seen) == seen  # nothing was served
        finally:
            r.ctx.db.engine = good


def test_answer_is_withheld_when_its_audit_record_cannot_be_written(tmp_path: Path, upstream: FakeUpstream,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from hegui.audit import writer as writer_mod

    monkeypatch.setattr(writer_mod, "RETRY_DELAYS", (0.0,))
    with running_gateway(make_settings(tmp_path, upstreams=[upstream_config(upstream)])) as r:
        def broken(exchanges: object) -> list[int]:
            raise OSError("disk full")

        monkeypatch.setattr(r.gw.writer, "_append", broken)
        raw = httpx.post(r.url + "/v1/chat/completions", headers={"authorization": f"Bearer {r.user_key}"},
                         json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        assert raw.status_code == 503 and upstream.answer_text not in raw.text


def test_client_leaving_a_stream_is_still_audited(gateway: Running) -> None:
    with httpx.Client(base_url=gateway.url) as c, c.stream(
            "POST", "/v1/chat/completions", headers={"authorization": f"Bearer {gateway.user_key}"},
            json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "CUE:SLOW"}]}) as resp:
        assert resp.status_code == 200
        rid = resp.headers["x-hegui-request-id"]
        next(resp.iter_lines())  # the role chunk; then hang up while the upstream is slow
    deadline = time.monotonic() + 60

    def find() -> dict[str, object] | None:
        return next((x for x in audit_log.export(gateway.ctx.db, None) if x["record_id"] == rid), None)

    while (rec := find()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rec is not None and rec["stream"] and rec["user_id"] == gateway.user_id


def pack_with_label(tmp_path: Path, position: str) -> Path:
    data = yaml.safe_load(resources.files("hegui.policy").joinpath("packs", "cn-genai.yaml").read_text("utf-8"))
    data["labels"]["text"]["position"] = position
    p = tmp_path / "pack.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def test_label_at_start_in_english(tmp_path: Path, upstream: FakeUpstream) -> None:
    s = make_settings(tmp_path, upstreams=[upstream_config(upstream)])
    s = s.model_copy(update={"policy_pack": str(pack_with_label(tmp_path, "start"))})
    with running_gateway(s) as r:
        out = r.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "CUE:ECHO hello"}])
        assert out.choices[0].message.content == "[This content is AI-generated.]\nCUE:ECHO hello"
        stream = r.client().chat.completions.create(
            model="m", stream=True, messages=[{"role": "user", "content": "CUE:ECHO hello"}])
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == "[This content is AI-generated.]\nCUE:ECHO hello"


def test_text_label_can_be_switched_off_but_header_stays(tmp_path: Path, upstream: FakeUpstream) -> None:
    with running_gateway(make_settings(tmp_path, upstreams=[upstream_config(upstream)], text_label=False)) as r:
        raw = r.client().chat.completions.with_raw_response.create(
            model="m", messages=[{"role": "user", "content": "hi"}])
        assert raw.parse().choices[0].message.content == upstream.answer_text
        assert raw.headers["x-hegui-aigc"] == "1"
