from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest
from assess_helpers import ChatServer, Script, small_bank

from hegui.assess.banks import load_banks
from hegui.assess.runner import (
    RunOptions,
    chat_url,
    collect,
    load_or_create_plan,
    read_answers,
    sample_sizes,
    stratified_sample,
)
from hegui.assess.scoring import wilson
from hegui.errors import InvalidInputError
from hegui.policy.pack import load_pack

PACK = load_pack("cn-genai")


def test_sample_sizes_follow_the_pack_minimums() -> None:
    assert sample_sizes(load_banks(), PACK, None) == {"generated": 1000, "should_refuse": 300,
                                                      "should_not_refuse": 300}


def test_sample_size_is_capped_by_the_bank(tmp_path: Path) -> None:
    bs, sizes = small_bank(tmp_path, Script())
    assert sample_sizes(bs, PACK, None) == sizes
    assert sample_sizes(bs, PACK, 3) == {"generated": 3, "should_refuse": 3, "should_not_refuse": 3}


def test_stratified_sample_spreads_over_every_risk() -> None:
    gen = load_banks().by_bank("generated")
    picked = stratified_sample(gen, 1000, seed=0)
    per = Counter(q.risk for q in picked)
    assert len(picked) == 1000 and len(set(q.id for q in picked)) == 1000
    assert len(per) == 27 and max(per.values()) - min(per.values()) <= 1


def test_stratified_sample_is_deterministic_per_seed() -> None:
    gen = load_banks().by_bank("generated")
    assert stratified_sample(gen, 50, 1) == stratified_sample(gen, 50, 1) != stratified_sample(gen, 50, 2)


def test_chat_url_accepts_base_or_full_url() -> None:
    assert chat_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert chat_url("http://h:1/v1/chat/completions") == "http://h:1/v1/chat/completions"
    with pytest.raises(InvalidInputError, match="must start with http"):
        chat_url("h:1/v1")


def test_plan_is_reused_on_resume_and_guarded_against_another_model(tmp_path: Path) -> None:
    bs, _ = small_bank(tmp_path, Script())
    p1, created = load_or_create_plan(tmp_path / "r", bs, PACK, endpoint="http://x/v1", model="m",
                                      via_gateway=False, sample=None, seed=0)
    p2, created2 = load_or_create_plan(tmp_path / "r", bs, PACK, endpoint="http://x/v1", model="m",
                                       via_gateway=False, sample=None, seed=0)
    assert created and not created2 and p1.ids == p2.ids and p1.run_id == p2.run_id
    with pytest.raises(InvalidInputError, match="use a new --out folder"):
        load_or_create_plan(tmp_path / "r", bs, PACK, endpoint="http://x/v1", model="other", via_gateway=False,
                            sample=None, seed=0)
    with pytest.raises(InvalidInputError, match="resume without --sample"):
        load_or_create_plan(tmp_path / "r", bs, PACK, endpoint="http://x/v1", model="m", via_gateway=False,
                            sample=2, seed=0)


def test_torn_last_line_is_dropped_and_repaired(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text(json.dumps({"id": "a", "answer": "x"}) + "\n" + '{"id": "b", "ans', encoding="utf-8")
    assert list(read_answers(tmp_path)) == ["a"]
    assert path.read_text(encoding="utf-8").endswith("}\n")


def test_gives_up_after_retries_and_records_the_error(tmp_path: Path, chat_server: ChatServer,
                                                      script: Script) -> None:
    bs, _ = small_bank(tmp_path, script)
    out = tmp_path / "r"
    plan, _ = load_or_create_plan(out, bs, PACK, endpoint=chat_server.url, model="m", via_gateway=False,
                                  sample=None, seed=0)
    opts = RunOptions(endpoint=chat_server.url, model="m", retries=2, backoff_seconds=0.001)
    new, failed = asyncio.run(collect(out, plan, bs, opts))
    assert (new, failed) == (23, 1)
    err = json.loads((out / "errors.jsonl").read_text(encoding="utf-8"))
    assert err["id"] == "n5" and "HTTP 503" in err["error"]
    assert script.calls["非拒答题5：长江流经哪些省份？"] == 3


def test_client_errors_are_not_retried(tmp_path: Path, chat_server: ChatServer, script: Script) -> None:
    bs, _ = small_bank(tmp_path, script)
    script.always["生成题0：请介绍一下长江的情况。"] = 400
    out = tmp_path / "r"
    plan, _ = load_or_create_plan(out, bs, PACK, endpoint=chat_server.url, model="m", via_gateway=False,
                                  sample=None, seed=0)
    asyncio.run(collect(out, plan, bs, RunOptions(endpoint=chat_server.url, model="m", backoff_seconds=0.001)))
    assert script.calls["生成题0：请介绍一下长江的情况。"] == 1


def test_rate_limited_run_still_answers_everything(tmp_path: Path, chat_server: ChatServer, script: Script) -> None:
    bs, _ = small_bank(tmp_path, script)
    out = tmp_path / "r"
    plan, _ = load_or_create_plan(out, bs, PACK, endpoint=chat_server.url, model="m", via_gateway=False,
                                  sample=None, seed=0)
    opts = RunOptions(endpoint=chat_server.url, model="m", rate=500.0, concurrency=8, backoff_seconds=0.001)
    new, _ = asyncio.run(collect(out, plan, bs, opts))
    assert new == 23


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [(0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0),
                                                  (95, 100, 0.8883, 0.9785), (0, 0, 0.0, 1.0)])
def test_wilson_interval_matches_reference_values(k: int, n: int, lo: float, hi: float) -> None:
    """Reference values computed with z = 1.96 (textbook tables)."""
    a, b = wilson(k, n)
    assert a == pytest.approx(lo, abs=2e-4) and b == pytest.approx(hi, abs=2e-4)
