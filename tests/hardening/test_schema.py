"""API schema testing: schemathesis generates requests from the gateway's own OpenAPI document.

Every operation is called on the real gateway (loopback, fake upstream) with generated bodies,
query strings and path parameters, with a staff key. Two properties must hold for every call:
no 5xx (a gateway bug) except the documented upstream/database errors, and every JSON error body
in the OpenAI shape ``{"error": {"message", "type", "param", "code"}}``. CI runs a few examples per
operation; ``HEGUI_HARDENING_LONG=1`` runs many.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from crashkit import LONG
from gw_fake_upstream import FakeUpstream
from gwkit import Running, make_settings, running_gateway, upstream_config
from hypothesis import HealthCheck, Phase, given, settings

# 5xx answers the gateway documents (upstream failures, fail-closed database): (status, error code)
DOCUMENTED_5XX = {(502, "upstream_error"), (502, "upstream_bad_response"), (503, "database_unavailable"),
                  (504, "upstream_timeout")}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with FakeUpstream(answer_text="好的，这是回答。", record=False) as up:
        tmp: Path = tmp_path_factory.mktemp("schema")
        with running_gateway(make_settings(tmp, upstreams=[upstream_config(up, models=["*"])])) as r:
            yield r


def check_answer(status: int, headers: dict[str, str], body: bytes) -> None:
    """The two properties, separate from schemathesis so they can be tested on their own."""
    import json

    error: Any = None
    if status >= 400 and headers.get("content-type", "").startswith("application/json"):
        doc = json.loads(body)
        assert isinstance(doc, dict) and isinstance(doc.get("error"), dict), f"error not in OpenAI shape: {doc}"
        error = doc["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"], error
    if status >= 500:
        code = error.get("code") if error else None
        assert (status, code) in DOCUMENTED_5XX, f"undocumented server error {status}: {body[:300]!r}"


def _operations(running: Running) -> list[Any]:
    loaded = schemathesis.openapi.from_url(running.url + "/openapi.json")
    ops = [r.ok() for r in loaded.get_all_operations()]
    return [op for op in ops if not op.path.startswith("/console")]  # HTML forms: tests/console


def test_every_operation_answers_without_5xx_and_in_the_error_shape(running: Running) -> None:
    ops = _operations(running)
    assert len(ops) >= 40, "the walk must cover the whole API"
    headers = {"authorization": f"Bearer {running.admin_key}"}
    failures: list[str] = []
    calls = [0]
    for op in ops:
        @given(case=op.as_strategy())
        @settings(max_examples=60 if LONG else 4, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call(base_url=running.url, headers=headers, timeout=30)
            calls[0] += 1
            check_answer(response.status_code, {k.lower(): v[0] if isinstance(v, list) else v
                                                for k, v in response.headers.items()}, response.content)

        try:
            run()
        except Exception as err:  # collect every operation's failure, report them together
            failures.append(f"{op.method.upper()} {op.path}: {str(err)[:400]}")
    assert failures == [], "\n".join(failures)
    assert calls[0] >= len(ops), "every operation was called at least once"


def test_check_rejects_an_undocumented_500_and_a_bare_error() -> None:
    with pytest.raises(AssertionError):
        check_answer(500, {"content-type": "application/json"},
                     b'{"error": {"message": "boom", "type": "server_error", "param": null, "code": "internal_error"}}')
    with pytest.raises(AssertionError):
        check_answer(400, {"content-type": "application/json"}, b'{"detail": "bad"}')
    check_answer(503, {"content-type": "application/json"},
                 b'{"error": {"message": "db", "type": "service_unavailable", "param": null, '
                 b'"code": "database_unavailable"}}')
