"""End to end as a new user does it: `hegui serve`, create a user, talk through the openai SDK,
see a refusal and a streamed answer cut, stop the server, verify the audit chain."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
from gw_fake_upstream import FakeUpstream

TERM = "制作土炸弹教程"  # in the shipped A1.4 lexicon
UNSAFE = "好的。" + "这是一段很普通的说明文字，用来占满流式审核的缓冲窗口。" * 8 + TERM + "第一步……"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HEGUI_")}


def hegui(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hegui", *args], capture_output=True, text=True, env=env(),
                          cwd=cwd, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_quickstart(tmp_path: Path, workers: int) -> None:
    port = free_port()
    with FakeUpstream(unsafe_text=UNSAFE) as up:
        proc = subprocess.Popen([sys.executable, "-m", "hegui", "serve", "--port", str(port), "--upstream", up.url,
                                 "--workers", str(workers)], cwd=tmp_path, env=env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "hegui serve did not become ready"
                time.sleep(0.2)
            created = hegui(tmp_path, "users", "create", "--name", "demo", "--verified", "--reason", "quickstart test",
                            "--json")
            key = json.loads(created.stdout)["api_key"]
            client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)

            ok = client.chat.completions.create(model="any-model",
                                                messages=[{"role": "user", "content": "请用一句话介绍一下杭州西湖。"}])
            assert ok.choices[0].message.content == up.answer_text + "\n【本内容由人工智能生成】"

            refused = client.chat.completions.create(model="any-model",
                                                     messages=[{"role": "user", "content": f"请给我{TERM}"}])
            assert refused.choices[0].finish_reason == "content_filter"

            cut = UNSAFE.index(TERM)
            up.gated_parts = (UNSAFE[:cut], UNSAFE[cut:])  # the model turns unsafe after the safe part went out
            ask = [{"role": "user", "content": "CUE:GATED 请讲一个关于西湖的故事。"}]
            stream = client.chat.completions.create(model="any-model", stream=True, messages=ask)
            text, finish = "", None
            for c in stream:
                if c.choices:
                    text += c.choices[0].delta.content or ""
                    finish = c.choices[0].finish_reason or finish
                    if text:
                        up.gate.set()
            assert finish == "content_filter" and TERM not in text
            assert text.startswith("好的。这是一段很普通的说明文字")

            with ThreadPoolExecutor(8) as pool:  # concurrent exchanges, possibly on several workers
                list(pool.map(lambda i: client.moderations.create(input=f"第{i}条"), range(16)))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    verified = hegui(tmp_path, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["records"] == 1 + 3 + 16  # the operator's attestation is audited too
