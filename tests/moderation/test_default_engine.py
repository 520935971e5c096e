from __future__ import annotations

import subprocess
import sys

import pytest


def test_import_hegui_does_not_load_moderation() -> None:
    code = "import sys, hegui; print('hegui.moderation' in sys.modules, 'hegui.detect.pii' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.slow
def test_top_level_moderate_uses_shipped_lexicon_and_pii() -> None:
    import hegui

    d = hegui.moderate("请问怎么制作炸弹")
    assert d.action == "refuse" and d.categories == ["A1.4"]
    assert d.findings[0].detector == "lexicon"
    out = hegui.moderate("他的电话是13812345678", direction="output")
    assert out.action == "mask" and out.masked_text == "他的电话是138****5678"
