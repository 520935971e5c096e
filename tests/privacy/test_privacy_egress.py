"""Egress: user content reaches only configured upstreams (no request field can redirect it), the
allow-list refuses and audits anything else, and PII can go upstream as reversible tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from gw_fake_upstream import FakeUpstream
from gwkit import make_settings, running_gateway, upstream_config

from hegui.audit import log as audit_log
from hegui.config import PrivacyConfig, Settings
from hegui.detect.pii.masking import PiiTokenizer
from hegui.privacy.egress import EgressDenied, allowed_hosts, check_destination, mask_upstream_body

PHONE = "13800138000"


@pytest.fixture(scope="module")
def good() -> Iterator[FakeUpstream]:
    with FakeUpstream() as u:
        yield u


@pytest.fixture(scope="module")
def evil() -> Iterator[FakeUpstream]:
    with FakeUpstream(answer_text="exfiltrated") as u:
        yield u


def settings(tmp: Path, up: FakeUpstream, **privacy: object) -> Settings:
    s = make_settings(tmp, upstreams=[upstream_config(up)])
    return s.model_copy(update={"privacy": PrivacyConfig(**privacy)})  # type: ignore[arg-type]


def test_allow_list_defaults_to_the_configured_upstreams(tmp_path: Path, good: FakeUpstream) -> None:
    s = settings(tmp_path, good)
    assert allowed_hosts(s) == {f"127.0.0.1:{good.port}"}
    check_destination(s, good.url)
    with pytest.raises(EgressDenied, match="not allowed"):
        check_destination(s, "http://169.254.169.254/latest/meta-data")


def test_no_request_field_can_redirect_the_upstream(tmp_path: Path, good: FakeUpstream, evil: FakeUpstream) -> None:
    evil.seen.clear()
    with running_gateway(settings(tmp_path, good)) as gw:
        h = {"authorization": f"Bearer {gw.user_key}", "x-forwarded-host": f"127.0.0.1:{evil.port}",
             "x-upstream-url": evil.url, "forwarded": f"host=127.0.0.1:{evil.port}"}
        for body in (
            {"model": evil.url, "messages": [{"role": "user", "content": "hi"}]},
            {"model": "fake-model", "base_url": evil.url, "api_base": evil.url, "url": evil.url + "/chat/completions",
             "messages": [{"role": "user", "content": "hi"}]},
            {"model": f"http://127.0.0.1:{evil.port}/v1/chat/completions#",
             "messages": [{"role": "user", "content": "hi"}]},
        ):
            r = httpx.post(gw.url + "/v1/chat/completions", json=body, headers=h, timeout=30)
            assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] != "exfiltrated"
    assert evil.seen == []


def test_upstream_outside_the_allow_list_is_refused_and_audited(tmp_path: Path, good: FakeUpstream) -> None:
    before = len(good.seen)
    with running_gateway(settings(tmp_path, good, egress_allow_hosts=["llm.internal.example"])) as gw:
        with pytest.raises(openai.PermissionDeniedError) as err:
            gw.client().chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "我的秘密"}])
        assert isinstance(err.value.body, dict) and err.value.body["code"] == "egress_denied"
        [rec] = list(audit_log.export(gw.ctx.db, gw.ctx.keys))
        assert rec["status_code"] == 403 and "egress_denied" in rec["error"]
    assert [s for s in good.seen[before:] if s.path.endswith("/chat/completions")] == []


def test_pii_goes_upstream_as_tokens_and_comes_back_as_the_value(tmp_path: Path, good: FakeUpstream) -> None:
    before = len(good.seen)
    with running_gateway(settings(tmp_path, good, mask_pii_upstream=True)) as gw:
        answer = gw.client().chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": f"CUE:ECHO 我的手机号是{PHONE}"}])
    sent = [s for s in good.seen[before:] if s.path.endswith("/chat/completions")]
    upstream_text = sent[0].body["messages"][0]["content"]
    assert PHONE not in upstream_text and "CUE:ECHO" in upstream_text
    text = answer.choices[0].message.content or ""
    # the token was restored to the real number, which the pack's output rule then shows partially masked
    assert "138****8000" in text and upstream_text.split("我的手机号是")[1] not in text


def test_mask_upstream_body_covers_text_parts_and_round_trips() -> None:
    tok = PiiTokenizer()
    body = {"model": "m", "messages": [
        {"role": "system", "content": f"call {PHONE}"},
        {"role": "user", "content": [{"type": "text", "text": f"我的号码{PHONE}"},
                                     {"type": "image_url", "image_url": {}}]},
    ]}
    masked = mask_upstream_body(body, tok)
    flat = str(masked)
    assert PHONE not in flat and body["messages"][0]["content"] == f"call {PHONE}"  # the original is untouched
    assert tok.restore(masked["messages"][0]["content"]) == f"call {PHONE}"
