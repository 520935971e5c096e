"""Guard models and classifier weights configured in ``Settings`` reach ``ModerationEngine.from_context``."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runner import hegui
from hegui.config import Settings
from hegui.context import HeguiContext
from hegui.detect.classifier import EmbeddedClassifier
from hegui.detect.classifier.model import LinearModel
from hegui.moderation import ModerationEngine
from hegui.privacy.crypto import generate_key

TRIGGER = "guardtrigger"  # the fake guard calls a text unsafe when it contains this word
TEXT = f"今天天气很好 {TRIGGER}"


class _Qwen3Guard(BaseHTTPRequestHandler):
    """Speaks Qwen3Guard-Gen's reply format behind an OpenAI-compatible chat endpoint."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        last = body["messages"][-1]["content"]
        content = "Safety: Unsafe\nCategories: Violent" if TRIGGER in last else "Safety: Safe\nCategories: None"
        data = json.dumps({"id": "x", "object": "chat.completion", "model": body.get("model"),
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def guard_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Qwen3Guard)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more: connection refused


def _ctx(tmp_path: Path, db_url: str, **extra: Any) -> HeguiContext:
    c = HeguiContext(Settings(data_dir=tmp_path / ".hegui", database_url=db_url, secret_key=generate_key(), **extra))
    c.db.upgrade()
    return c


def _guard(url: str) -> dict[str, Any]:
    return {"kind": "qwen3guard", "base_url": url, "model": "Qwen/Qwen3Guard-Gen-0.6B", "retries": 0,
            "timeout_seconds": 2, "connect_timeout_seconds": 1}


def test_configured_guard_turns_an_allowed_text_into_a_refusal(tmp_path: Path, db_url: str, guard_url: str) -> None:
    plain = _ctx(tmp_path / "a", db_url)
    guarded = _ctx(tmp_path / "b", db_url, guards=[_guard(guard_url)])
    try:
        assert ModerationEngine.from_context(plain).moderate(TEXT).action == "allow"
        engine = ModerationEngine.from_context(guarded)
        assert "guard:qwen3guard" in [d.name for d in engine.detectors]
        d = engine.moderate(TEXT)
        assert d.action == "refuse" and "A1.6" in d.categories
        assert any(f.detector == "guard:qwen3guard" and f.category == "A1.6" for f in d.findings)
        assert engine.moderate("今天天气很好").action == "allow"
    finally:
        plain.close()
        guarded.close()


def test_guard_down_fails_closed(tmp_path: Path, db_url: str) -> None:
    ctx = _ctx(tmp_path, db_url, guards=[_guard(_closed_port_url())])
    try:
        d = ModerationEngine.from_context(ctx).moderate("今天天气很好")
        assert d.action == "refuse"
        assert any(f.type == "guard_unavailable" for f in d.findings)
    finally:
        ctx.close()


def test_guard_down_fail_open_allows(tmp_path: Path, db_url: str) -> None:
    ctx = _ctx(tmp_path, db_url, guards=[{**_guard(_closed_port_url()), "fail": "open"}])
    try:
        assert ModerationEngine.from_context(ctx).moderate("今天天气很好").action == "allow"
    finally:
        ctx.close()


def test_guards_are_not_built_without_models(tmp_path: Path, db_url: str) -> None:
    ctx = _ctx(tmp_path, db_url, guards=[_guard(_closed_port_url())])
    try:
        names = [d.name for d in ModerationEngine.from_context(ctx, models=False).detectors]
        assert names == ["lexicon", "combo", "pii"]
    finally:
        ctx.close()


def _tiny_weights(path: Path) -> None:
    shipped = EmbeddedClassifier.load_default().model
    LinearModel(shipped.labels, np.zeros((1 << 4, len(shipped.labels)), dtype=np.float32),
                np.full(len(shipped.labels), -5.0, dtype=np.float32), 4, "ngram1-operator-test", {}).save(path)


def test_classifier_weights_setting_loads_that_file(tmp_path: Path, db_url: str) -> None:
    weights = tmp_path / "mine.npz"
    _tiny_weights(weights)
    ctx = _ctx(tmp_path, db_url, classifier_weights=weights)
    try:
        clf = [d for d in ModerationEngine.from_context(ctx).detectors if d.name == "classifier"]
        assert isinstance(clf[0], EmbeddedClassifier) and clf[0].model.version == "ngram1-operator-test"
    finally:
        ctx.close()


def test_classifier_weights_env_var_still_works(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEGUI_CLASSIFIER_WEIGHTS", str(tmp_path / "mine.npz"))
    assert Settings().classifier_weights == tmp_path / "mine.npz"


@pytest.mark.slow  # two `hegui moderate` runs (the real entry point, in this process), each building the engine
def test_guard_from_config_file_changes_hegui_moderate(tmp_path: Path, guard_url: str) -> None:
    (tmp_path / "hegui.yaml").write_text(json.dumps({"guards": [_guard(guard_url)]}), encoding="utf-8")

    def moderate(cwd: Path) -> dict[str, Any]:
        r = hegui("moderate", TEXT, "--json", cwd=cwd)
        assert r.returncode in (0, 1), r.stderr
        out: dict[str, Any] = json.loads(r.stdout)
        return out

    plain = tmp_path / "plain"
    plain.mkdir()
    assert moderate(plain)["action"] == "allow"
    d = moderate(tmp_path)
    assert d["action"] == "refuse" and "A1.6" in d["categories"]
