"""The HTTP SMS sender and identity verifier against local servers speaking the documented JSON protocols."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from idkit import make_id

from hegui.context import HeguiContext
from hegui.identity.service import IdentityService
from hegui.identity.sms import HttpSmsSender, SmsError
from hegui.identity.verifiers import HttpVerifier, VerifierError
from hegui.store.models.verification import VerificationCode
from hegui.usage.clock import ManualClock


class Server:
    """Records each JSON request; answers with ``reply(body) -> (status, json)``."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.seen: list[tuple[dict[str, str], dict[str, Any]]] = []


@contextmanager
def local_server(reply: Any) -> Iterator[tuple[str, Server]]:
    state = Server(reply)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            state.seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status, out = state.reply(body)
            data = json.dumps(out).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/send", state
    finally:
        srv.shutdown()
        srv.server_close()


def test_http_sms_sender_speaks_the_protocol() -> None:
    with local_server(lambda b: (200, {"ok": True, "message_id": "m1"})) as (url, srv):
        HttpSmsSender(url, token="tok").send("13800138000", "123456", 300, "u_1")
    headers, body = srv.seen[0]
    assert headers["authorization"] == "Bearer tok"
    assert body["to"] == "+8613800138000" and body["template"] == "hegui-verification"
    assert body["params"] == {"code": "123456", "ttl_minutes": 5} and body["request_id"]


def test_http_sms_failure_is_an_error_without_the_phone() -> None:
    with local_server(lambda b: (500, {"ok": False})) as (url, _), pytest.raises(SmsError, match="HTTP 500") as exc:
        HttpSmsSender(url).send("13800138000", "123456", 300, "u_1")
    assert "13800138000" not in str(exc.value)


def test_failed_send_records_no_code(ctx: HeguiContext) -> None:
    with local_server(lambda b: (200, {"ok": False})) as (url, _):
        svc = IdentityService(ctx, sender=HttpSmsSender(url), clock=ManualClock(datetime(2026, 3, 2, tzinfo=UTC)))
        uid = svc.register("张三", "resident_id", make_id(), "13800138000").issued.user_id
        with pytest.raises(SmsError):
            svc.send_code(uid)
    with ctx.db.session() as s:
        assert s.query(VerificationCode).count() == 0


@pytest.mark.parametrize("result", ["match", "mismatch", "pending"])
def test_http_verifier_three_elements(result: str) -> None:
    with local_server(lambda b: (200, {"result": result, "reference": "r-9"})) as (url, srv):
        res = HttpVerifier(url, token="t", elements=3).verify("张三", "resident_id", "110101", "13800138000")
    assert (res.outcome, res.method, res.reference) == (result, "http-3", "r-9")
    body = srv.seen[0][1]
    assert body["elements"] == 3 and body["mobile"] == "13800138000" and body["id_type"] == "resident_id"


def test_http_verifier_two_elements_sends_no_mobile() -> None:
    with local_server(lambda b: (200, {"result": "match"})) as (url, srv):
        HttpVerifier(url, elements=2).verify("张三", "resident_id", "110101", "13800138000")
    assert "mobile" not in srv.seen[0][1] and srv.seen[0][1]["elements"] == 2


def test_http_verifier_garbage_answer_is_an_error() -> None:
    with local_server(lambda b: (200, {"result": "maybe"})) as (url, _), \
            pytest.raises(VerifierError, match="no usable answer"):
        HttpVerifier(url).verify("张三", "resident_id", "110101", None)


def test_verifier_outage_leaves_the_code_usable(ctx: HeguiContext) -> None:
    from usage_kit import CapturingSender

    sms = CapturingSender()
    with local_server(lambda b: (503, {})) as (url, _):
        svc = IdentityService(ctx, sender=sms, verifier=HttpVerifier(url),
                              clock=ManualClock(datetime(2026, 3, 2, tzinfo=UTC)))
        uid = svc.register("张三", "resident_id", make_id(), "13800138000").issued.user_id
        svc.send_code(uid)
        with pytest.raises(VerifierError):
            svc.confirm_code(uid, sms.last_code)
        assert svc.status(uid).state == "unverified" and not svc.status(uid).mobile_verified
