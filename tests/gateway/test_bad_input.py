"""Bad requests get a precise OpenAI-shaped 4xx, never a traceback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gwkit import Running


def post(r: Running, content: bytes | None = None, json: Any = None, key: str | None = None,
         path: str = "/v1/chat/completions", headers: dict[str, str] | None = None) -> httpx.Response:
    h = {"authorization": f"Bearer {key or r.user_key}", "content-type": "application/json", **(headers or {})}
    return httpx.post(r.url + path, content=content, json=json, headers=h, timeout=30)


def error_of(resp: httpx.Response) -> dict[str, Any]:
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    err: dict[str, Any] = body["error"]
    return err


def test_malformed_json_names_the_position(gateway: Running) -> None:
    resp = post(gateway, content=b'{"model": "fake-model", "messages": [}')
    assert resp.status_code == 400
    err = error_of(resp)
    assert err["code"] == "invalid_json" and "line 1 column" in err["message"]


def test_invalid_utf8_is_refused(gateway: Running) -> None:
    resp = post(gateway, content=b'{"model": "m", "messages": [{"role": "user", "content": "\xff\xfe"}]}')
    assert resp.status_code == 400 and error_of(resp)["code"] == "invalid_encoding"


def test_wrong_type_names_the_field(gateway: Running) -> None:
    resp = post(gateway, json={"model": "fake-model", "messages": [{"role": "user", "content": 42}]})
    err = error_of(resp)
    assert resp.status_code == 400 and err["param"].startswith("messages.0.content")


def test_missing_field_is_named(gateway: Running) -> None:
    resp = post(gateway, json={"model": "fake-model"})
    err = error_of(resp)
    assert resp.status_code == 400 and err["param"] == "messages" and "required" in err["message"]


def test_unknown_role_is_refused(gateway: Running) -> None:
    resp = post(gateway, json={"model": "fake-model", "messages": [{"role": "wizard", "content": "x"}]})
    assert resp.status_code == 400 and error_of(resp)["param"] == "messages.0.role"


def test_body_that_is_not_an_object_is_refused(gateway: Running) -> None:
    resp = post(gateway, json=[1, 2])
    assert resp.status_code == 400 and "JSON object" in error_of(resp)["message"]


def test_empty_body_is_refused(gateway: Running) -> None:
    resp = post(gateway, content=b"")
    assert resp.status_code == 400 and "empty" in error_of(resp)["message"]


def test_body_over_the_limit_is_413(gateway: Running) -> None:
    limit = gateway.ctx.settings.gateway.max_body_bytes
    big = b'{"model": "fake-model", "messages": [{"role": "user", "content": "' + b"a" * limit + b'"}]}'
    resp = post(gateway, content=big)
    assert resp.status_code == 413 and error_of(resp)["code"] == "request_too_large"


def test_chunked_body_over_the_limit_is_413(gateway: Running) -> None:
    limit = gateway.ctx.settings.gateway.max_body_bytes

    def gen() -> Any:
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536

    resp = post(gateway, content=gen())
    assert resp.status_code == 413


def test_several_choices_are_refused(gateway: Running) -> None:
    resp = post(gateway, json={"model": "fake-model", "n": 2, "messages": [{"role": "user", "content": "x"}]})
    assert resp.status_code == 400 and error_of(resp)["param"] == "n"


def test_unknown_route_is_openai_shaped_404(gateway: Running) -> None:
    resp = httpx.get(gateway.url + "/v1/nothing-here")
    assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"


@pytest.mark.parametrize("path", ["/v1/embeddings", "/v1/moderations"])
def test_other_endpoints_validate_too(gateway: Running, path: str) -> None:
    resp = post(gateway, json={"input": {"not": "text"}, "model": "fake-model"}, path=path)
    assert resp.status_code == 400 and error_of(resp)["param"].startswith("input")


def test_token_array_embeddings_cannot_be_moderated(gateway: Running) -> None:
    resp = post(gateway, json={"input": [1, 2, 3], "model": "fake-model"}, path="/v1/embeddings")
    assert resp.status_code == 400 and error_of(resp)["code"] == "unmoderatable_input"
