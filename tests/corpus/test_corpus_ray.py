"""The Ray backend runs the same steps via Ray Data and gives the same report as the local backend."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from corpus_helpers import SyntheticEngine, mixed_rows, new_ctx, random_doc, write_jsonl

from hegui.corpus.audit import AuditOptions, run_audit
from hegui.corpus.sources import add_source

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_output_equals_local_output(tmp_path: Path) -> None:
    ctx = new_ctx(tmp_path)
    add_source(ctx, "web", "open", "CC0-1.0", [])
    d = tmp_path / "d"
    for k in range(3):
        rows = [*mixed_rows(40, unsafe_every=6, offset=k * 25), {"text": random_doc(k % 2, "zh")}]
        write_jsonl(d / f"{k}.jsonl", rows)
    local = run_audit(ctx, [("web", str(d))], tmp_path / "local", AuditOptions(workers=1, clean="drop"),
                      factory=SyntheticEngine())
    # the test's own modules must be importable by Ray's worker processes
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(Path(__file__).parent),
                                                                       os.environ.get("PYTHONPATH", "")])}})
    try:
        distributed = run_audit(ctx, [("web", str(d))], tmp_path / "ray",
                                AuditOptions(backend="ray", workers=2, clean="drop"), factory=SyntheticEngine())
    finally:
        ray.shutdown()
    assert distributed["backend"] == "ray"
    for key in ("totals", "gates"):
        assert distributed[key] == local[key]
    assert [s["files"] for s in distributed["sources"]] == [s["files"] for s in local["sources"]]
    assert local["totals"]["exact_duplicates"] > 0 and local["totals"]["unsafe"] > 0

    def clean(root: Path) -> list[str]:
        return [line for f in sorted((root / "clean").iterdir()) for line in f.read_text(encoding="utf-8").splitlines()]

    assert clean(tmp_path / "ray") == clean(tmp_path / "local")
    rej = [sorted(json.loads(x)["key"] for x in (tmp_path / p / "rejects.jsonl").read_text().splitlines())
           for p in ("ray", "local")]
    assert rej[0] == rej[1]
    ctx.close()
