"""The HTML report renders in a real browser (headless Chromium): charts drawn, failing gates in red."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from corpus_helpers import SyntheticEngine, mixed_rows, new_ctx, write_jsonl
from PIL import Image

from hegui.corpus.audit import AuditOptions, run_audit
from hegui.corpus.report import bar_chart
from hegui.corpus.sources import add_source

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_bar_chart_marks_values_over_the_limit() -> None:
    svg = bar_chart("t", [("ok", 0.01), ("bad", 0.2)], "{:.0%}", threshold=0.05)
    assert svg.count("<rect") == 2 and 'fill="#dc2626"' in svg and "stroke-dasharray" in svg
    assert "no data" in bar_chart("empty", [])


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed")
    ctx = new_ctx(tmp_path)
    add_source(ctx, "clean-src", "open", "MIT", [])
    add_source(ctx, "dirty-src", "self", None, [])
    write_jsonl(tmp_path / "a" / "a.jsonl", mixed_rows(60))
    write_jsonl(tmp_path / "b" / "b.jsonl", mixed_rows(40, unsafe_every=4))
    run_audit(ctx, [("clean-src", str(tmp_path / "a")), ("dirty-src", str(tmp_path / "b"))], tmp_path / "out",
              AuditOptions(workers=1), factory=SyntheticEngine())
    ctx.close()
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600",
                    f"--screenshot={shot}", (tmp_path / "out" / "report.html").as_uri()],
                   capture_output=True, timeout=120, check=False)
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 1600)
    colours = img.getcolors(maxcolors=1 << 20) or []
    red = sum(n for n, (r, g, b) in colours if r > 180 and g < 80 and b < 80)
    green = sum(n for n, (r, g, b) in colours if g > 140 and r < 60 and b < 100)
    dark = sum(n for n, (r, g, b) in colours if r + g + b < 150)
    assert red > 500, "failing source bar / FAIL marks not drawn"
    assert green > 200, "length chart bars not drawn"
    assert dark > 2000, "no text rendered"
