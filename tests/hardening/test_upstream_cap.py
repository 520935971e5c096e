"""``gateway.max_upstream_bytes``: an answer or stream past it is refused (502 ``upstream_too_large``).

The misbehaving upstream sends 2 MiB; the gateway here allows 1 MiB. Nothing of the oversized
answer reaches the client (every byte of it carries ``LEAK``), and the exchange is audited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from bad_upstream import LEAK, BadUpstream
from gwkit import Running, make_settings, running_gateway, upstream_config

from hegui.audit.log import export
from hegui.config import load_settings

CAP = 1024 * 1024


@pytest.fixture(scope="module")
def bad() -> Iterator[BadUpstream]:
    with BadUpstream(stall_seconds=3.0, huge_bytes=2 * CAP) as up:
        yield up


@pytest.fixture(scope="module")
def gw(bad: BadUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    cfg = upstream_config(bad, models=["*"], timeout_seconds=5, retries=0)  # type: ignore[arg-type]
    with running_gateway(make_settings(tmp_path_factory.mktemp("cap"), upstreams=[cfg], max_upstream_bytes=CAP)) as r:
        yield r


def _ask(gw: Running, fault: str, stream: bool) -> tuple[httpx.Response, str]:
    body = {"model": "m", "stream": stream, "messages": [{"role": "user", "content": f"FAULT:{fault}"}]}
    with httpx.Client(timeout=60) as client, client.stream(
            "POST", gw.url + "/v1/chat/completions", json=body,
            headers={"authorization": f"Bearer {gw.user_key}"}) as r:
        return r, r.read().decode("utf-8", "replace")


def _audited_status(gw: Running, record_id: str) -> int:
    rows = [row for row in export(gw.ctx.db, None) if row["record_id"] == record_id]
    assert len(rows) == 1
    return int(rows[0]["status_code"])


@pytest.mark.parametrize("fault", ["huge", "huge_chunked"], ids=["content-length", "chunked"])
def test_a_plain_answer_over_the_cap_is_502_upstream_too_large_and_audited(gw: Running, fault: str) -> None:
    r, text = _ask(gw, fault, stream=False)
    assert r.status_code == 502 and LEAK not in text
    err = r.json()["error"]
    assert err["code"] == "upstream_too_large" and "gateway.max_upstream_bytes" in err["message"]
    assert _audited_status(gw, r.headers["x-hegui-request-id"]) == 502


def test_a_stream_over_the_cap_ends_with_an_error_event_and_is_audited_as_sent(gw: Running) -> None:
    """The moderator's checked text may have gone out before the cap was reached; what it still held back
    is dropped, the stream ends with the error (no ``[DONE]``) and the record holds exactly what was sent."""
    r, text = _ask(gw, "huge", stream=True)
    assert r.status_code == 200  # the stream had started: the failure is its last event
    assert "data: [DONE]" not in text
    events = [json.loads(line.removeprefix("data: ")) for line in text.splitlines() if line.startswith("data: {")]
    assert events[-1]["error"]["code"] == "upstream_too_large"
    sent = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1] if e.get("choices"))
    assert len(sent.encode()) < CAP
    rows = [row for row in export(gw.ctx.db, gw.ctx.keys, decrypt=True)
            if row["record_id"] == r.headers["x-hegui-request-id"]]
    assert len(rows) == 1 and rows[0]["status_code"] == 502
    assert rows[0]["content"]["answer"] == sent


def test_an_answer_under_the_cap_is_served(gw: Running) -> None:
    r, text = _ask(gw, "none", stream=False)  # not a fault: an ordinary answer
    assert r.status_code == 200 and LEAK in text


def test_the_default_cap_is_16_mib() -> None:
    assert load_settings().gateway.max_upstream_bytes == 16 * 1024 * 1024
