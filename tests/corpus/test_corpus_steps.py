"""Single steps: licence and copyright markers, the safety scan's reading of the engine's decision."""

from __future__ import annotations

import gc
import pickle

import pytest
from corpus_helpers import UNSAFE_ZH, SyntheticEngine

from hegui.corpus.readers import Document
from hegui.corpus.steps import Item, LicenceMarkers, SafetyScan, in_classifier_share
from hegui.moderation import ModerationEngine
from hegui.policy.pack import load_pack


def _item(text: str) -> Item:
    return Item(Document("s", "f", 0, text))


@pytest.mark.parametrize(("text", "markers", "restricted"), [
    ("版权所有，未经许可不得转载。正文……", ("copyright_notice", "no_reprint"), True),
    ("Copyright 2021 Example Ltd. All rights reserved.", ("copyright_notice", "no_reprint"), True),
    ("转载请注明出处。", ("attribution_required",), False),
    ("SPDX-License-Identifier: Apache-2.0\nAll rights reserved.", ("no_reprint", "open_licence"), False),
    ("本文采用知识共享署名 4.0 协议", ("open_licence",), False),
    ("今天天气很好，适合散步。", (), False),
])
def test_licence_markers(text: str, markers: tuple[str, ...], restricted: bool) -> None:
    it = _item(text)
    LicenceMarkers().run([it])
    assert it.markers == markers and it.restricted is restricted


def test_safety_scan_marks_blocked_risks_unsafe_and_counts_pii_without_values() -> None:
    scan = SafetyScan(SyntheticEngine(), load_pack("cn-genai"))
    bad, pii, clean = _item(f"这里有{UNSAFE_ZH}。"), _item("电话 13812345678，邮箱 a.b@example.com"), _item("你好")
    scan.run([bad, pii, clean])
    assert bad.unsafe == ("A1.6",) and bad.categories == ("A1.6",)
    assert pii.unsafe == () and pii.pii == {"cn_mobile": 1, "email": 1} and pii.categories == ("A4.6",)
    assert [s[0] for s in pii.pii_spans] == ["cn_mobile", "email"]
    assert clean.unsafe == () and clean.pii == {}


def test_steps_pickle_without_their_engine() -> None:
    scan = SafetyScan(SyntheticEngine(), load_pack("cn-genai"))
    scan.run([_item("x")])
    copy = pickle.loads(pickle.dumps(scan))
    assert copy._engine is None
    it = _item(UNSAFE_ZH)
    copy.run([it])
    assert it.unsafe == ("A1.6",)


def test_classifier_share_is_a_fixed_function_of_the_key() -> None:
    keys = [f"src:part-{i % 7}.jsonl#{i}" for i in range(20000)]
    chosen = [k for k in keys if in_classifier_share(k, 0.1)]
    assert 0.09 < len(chosen) / len(keys) < 0.11
    assert chosen == [k for k in reversed(keys) if in_classifier_share(k, 0.1)][::-1]
    assert set(chosen) <= {k for k in keys if in_classifier_share(k, 0.3)}  # a larger share contains a smaller
    assert all(in_classifier_share(k, 1.0) for k in keys[:100])


class _GcWatchingEngine(SyntheticEngine):
    """Records whether the collector was on when the engine was built (the worker's first batch)."""

    def __init__(self) -> None:
        self.seen: list[bool] = []

    def __call__(self) -> ModerationEngine:
        self.seen.append(gc.isenabled())
        return super().__call__()


def test_safety_scan_builds_its_engine_without_collections_then_freezes_what_it_built(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    factory = _GcWatchingEngine()
    scan = SafetyScan(factory, load_pack("cn-genai"))
    assert gc.isenabled()
    scan.run([_item("你好")])
    assert factory.seen == [False]  # no collections while the first batch built it
    assert gc.isenabled()  # and the collector is back on
    assert calls == ["freeze"]  # then what it built leaves the collector's view
    scan.run([_item("再见")])
    assert calls == ["freeze"]  # once per worker
