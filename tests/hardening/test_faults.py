"""Fault injection: a misbehaving upstream gets the right status, and nothing unchecked escapes.

Statuses: timeouts 504, transport/format failures 502, upstream 4xx passed on (429 keeps its
``Retry-After``), upstream 5xx 502 (keeping ``Retry-After``). A stream that already started ends
with an error event and no ``[DONE]``; the text before the fault is never released unchecked.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bad_upstream import LEAK, BadUpstream
from crashkit import LONG
from gwkit import Running, make_settings, running_gateway, upstream_config

# fault -> status of a plain request; for streams the same, except faults after the first byte (None:
# a 200 stream that ends with an error event instead of [DONE]).
EXPECTED: dict[str, tuple[int, int | None]] = {
    "slow_first_byte": (504, 504), "stall_mid_stream": (504, None), "reset": (502, 502),
    "reset_mid_stream": (502, None), "invalid_json": (502, None), "invalid_sse": (504, None),
    "wrong_content_type": (502, None), "429": (429, 429), "503": (502, 502), "500_html": (502, 502),
    "non_utf8_sse": (504, None), "json_array": (502, None), "empty_200": (502, None),
}


@pytest.fixture(scope="module")
def bad() -> Iterator[BadUpstream]:
    with BadUpstream(stall_seconds=3.0, huge_bytes=2 * 1024 * 1024) as up:
        yield up


@pytest.fixture(scope="module")
def gw(bad: BadUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("faults")
    cfg = upstream_config(bad, models=["*"], timeout_seconds=0.5, retries=0)  # type: ignore[arg-type]
    with running_gateway(make_settings(tmp, upstreams=[cfg])) as r:
        yield r


def _ask(gw: Running, client: httpx.Client, fault: str, stream: bool) -> tuple[httpx.Response, str]:
    body = {"model": "m", "stream": stream, "messages": [{"role": "user", "content": f"FAULT:{fault}"}]}
    with client.stream("POST", gw.url + "/v1/chat/completions", json=body,
                       headers={"authorization": f"Bearer {gw.user_key}"}) as r:
        return r, r.read().decode("utf-8", "replace")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_fault_gets_its_status_and_releases_nothing_unchecked(gw: Running, fault: str, stream: bool) -> None:
    with httpx.Client(timeout=30) as client:
        r, text = _ask(gw, client, fault, stream)
    want = EXPECTED[fault][1 if stream else 0]
    assert LEAK not in text
    if want is None:
        assert r.status_code == 200
        assert "data: [DONE]" not in text
        assert '"error"' in text.strip().splitlines()[-1], text[-400:]
    else:
        assert r.status_code == want, text
        err = r.json()["error"]
        assert set(err) == {"message", "type", "param", "code"} and err["message"]


@pytest.mark.parametrize("fault,status", [("429", 429), ("503", 502)])
def test_upstream_retry_after_reaches_the_client(gw: Running, fault: str, status: int) -> None:
    """Regression: the upstream's Retry-After used to be dropped, so SDK retries hammered the model."""
    with httpx.Client(timeout=30) as client:
        r, _ = _ask(gw, client, fault, False)
    assert r.status_code == status and r.headers.get("retry-after") == "7"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_huge_answer_is_moderated_whole_and_audited(gw: Running, stream: bool) -> None:
    """A 2 MB answer is not truncated silently: it is moderated in full and carries its decision."""
    with httpx.Client(timeout=60) as client:
        r, text = _ask(gw, client, "huge", stream)
    assert r.status_code == 200 and r.headers.get("x-hegui-decision") in ("allow", "warn")
    assert text.count(LEAK) > 1000
    if stream:
        assert "data: [DONE]" in text


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_thousands_of_faults_leak_no_connections_or_fds(gw: Running, bad: BadUpstream) -> None:
    """Many fast faults (300; 3,000 with HEGUI_HARDENING_LONG=1; bounded loop): open fds and live
    upstream connections stay at the warmed-up baseline, and every fault is audited."""
    faults = ["reset", "invalid_json", "500_html", "429", "json_array", "wrong_content_type", "empty_200",
              "reset_mid_stream", "invalid_json", "503"]
    with httpx.Client(timeout=30) as client:
        for i in range(50):  # warm-up: pools and caches reach their steady size
            _ask(gw, client, faults[i % len(faults)], i % 2 == 1)
        gc.collect()
        fds, records = _open_fds(), gw.gw.writer.records
        statuses: set[int] = set()
        n = 3000 if LONG else 300
        for i in range(n):
            r, text = _ask(gw, client, faults[i % len(faults)], i % 2 == 1)
            statuses.add(r.status_code)
            assert LEAK not in text
    gc.collect()
    assert statuses <= {200, 429, 502}
    assert _open_fds() - fds <= 16, f"fds grew from {fds} to {_open_fds()}"
    pool_conns = sum(len(u.client._transport._pool.connections) for u in gw.gw.pool.upstreams)  # type: ignore[attr-defined]
    assert pool_conns <= 16, f"{pool_conns} upstream connections still open"
    assert gw.gw.writer.records - records >= n  # every fault was audited


def test_fault_exchanges_are_audited_with_their_status(gw: Running, tmp_path: Path) -> None:
    with httpx.Client(timeout=30) as client:
        r, _ = _ask(gw, client, "reset", False)
    rid = r.headers.get("x-hegui-request-id")
    assert rid, "error answers carry the audit record id"
    from hegui.audit.log import export

    rows = [row for row in export(gw.ctx.db, None) if row["record_id"] == rid]
    assert len(rows) == 1 and rows[0]["status_code"] == 502
