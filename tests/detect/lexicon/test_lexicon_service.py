from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hegui.context import HeguiContext
from hegui.detect.lexicon import LexiconRegistry, LexiconService
from hegui.errors import InvalidInputError, NotFoundError


def test_add_bumps_the_version_and_lists_the_term(ctx: HeguiContext) -> None:
    svc = LexiconService(ctx)
    v0 = svc.version()
    e = svc.add("炸药", "A1.4", 3)
    assert svc.version() == v0 + 1 and e.version == str(v0 + 1)
    assert [(x.term, x.category, x.severity) for x in svc.list()] == [("炸药", "A1.4", 3)]


def test_add_again_updates_severity(ctx: HeguiContext) -> None:
    svc = LexiconService(ctx)
    svc.add("炸药", "A1.4", 1)
    svc.add("炸药", "A1.4", 3)
    assert [x.severity for x in svc.list()] == [3]


def test_list_filters_by_category_and_search(ctx: HeguiContext) -> None:
    svc = LexiconService(ctx)
    svc.add("炸药", "A1.4")
    svc.add("炸弹", "A1.4")
    svc.add("赌博", "A1.8")
    assert {e.term for e in svc.list(category="A1.4")} == {"炸药", "炸弹"}
    assert {e.term for e in svc.list(category="A1")} == {"炸药", "炸弹", "赌博"}
    assert [e.term for e in svc.list(search="药")] == ["炸药"]


def test_remove_and_remove_missing(ctx: HeguiContext) -> None:
    svc = LexiconService(ctx)
    svc.add("炸药", "A1.4")
    v = svc.version()
    assert svc.remove("炸药") == 1 and svc.version() == v + 1
    with pytest.raises(NotFoundError):
        svc.remove("炸药")


def test_import_is_all_or_nothing(ctx: HeguiContext, tmp_path: Path) -> None:
    svc = LexiconService(ctx)
    f = tmp_path / "list.txt"
    f.write_text("炸药\t3\n枪支\n坏行\t7\n", "utf-8")
    v = svc.version()
    with pytest.raises(InvalidInputError, match=r"list\.txt:3"):
        svc.import_file(f, category="A1.4")
    assert svc.list() == [] and svc.version() == v


def test_import_counts_new_and_updated(ctx: HeguiContext, tmp_path: Path) -> None:
    svc = LexiconService(ctx)
    svc.add("炸药", "A1.4", 1)
    f = tmp_path / "list.csv"
    f.write_text("term,severity\n炸药,3\n枪支,2\n枪支,2\n", "utf-8")
    r = svc.import_file(f, category="A1.4")
    assert (r.added, r.updated) == (1, 1)
    assert {(e.term, e.severity) for e in svc.list()} == {("炸药", 3), ("枪支", 2)}


def test_import_rejects_the_reserved_default_source(ctx: HeguiContext, tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("x\n", "utf-8")
    with pytest.raises(InvalidInputError, match="reserved"):
        LexiconService(ctx).import_file(f, category="A1.4", source="hegui-default")


def test_operator_loads_a_political_slot(ctx: HeguiContext, tmp_path: Path) -> None:
    svc = LexiconService(ctx)
    f = tmp_path / "a1_1.txt"
    f.write_text("测试政治词甲\n测试政治词乙\t3\n", "utf-8")
    svc.import_file(f, category="A1.1", source="my-list")
    st = {r.code: r for r in svc.stats().risks}
    assert st["A1.1"].terms == 2 and st["A1.1"].status == "below minimum"
    assert st["A1.2"].status == "operator slot, empty"
    det = LexiconRegistry(ctx).detector
    [f1] = det.detect("这是测试政治词甲")
    assert (f1.category, f1.rule) == ("A1.1", f"my-list@{svc.version()}")


def test_export_round_trip(ctx: HeguiContext, tmp_path: Path) -> None:
    svc = LexiconService(ctx)
    svc.add("炸", "A1.6", 1, allow=["炸鸡"])
    out = tmp_path / "out.jsonl"
    assert svc.export_file(out, "jsonl") == 1
    svc.remove("炸")
    svc.import_file(out)
    [e] = svc.list()
    assert (e.term, e.severity, e.allow) == ("炸", 1, ("炸鸡",))


def test_stats_against_tc260_minimums(ctx: HeguiContext) -> None:
    svc = LexiconService(ctx)
    svc.add("炸药", "A1.4")
    svc.add("炸药", "A4.1")
    svc.add("歧视词", "A2.5")
    st = svc.stats()
    by = {r.code: r for r in st.risks}
    assert (by["A1.4"].terms, by["A1.4"].minimum) == (1, ctx.pack.figures.keyword_library.min_per_a1_risk)
    assert by["A2.5"].minimum == ctx.pack.figures.keyword_library.min_per_a2_risk
    assert by["A4.1"].minimum is None and by["A4.1"].status == "no minimum"
    assert st.total == 2 and st.min_total == ctx.pack.figures.keyword_library.min_terms
    assert {r.code for r in st.risks if r.status == "operator slot, empty"} == {"A1.1", "A1.2", "A1.3", "A1.5"}


def _data(root: Path, term: str) -> Path:
    (root / "allow").mkdir(parents=True, exist_ok=True)
    (root / "A1.4.txt").write_text(f"# risk: A1.4\n# version: 1\n{term}\t3\n", "utf-8")
    (root / "A1.1.txt").write_text("# risk: A1.1\n", "utf-8")
    (root / "allow" / "_all.txt").write_text("杀毒软件\n", "utf-8")
    return root


def test_seed_defaults_is_idempotent_by_version(ctx: HeguiContext, tmp_path: Path) -> None:
    svc = LexiconService(ctx)
    root = _data(tmp_path / "data", "炸药")
    assert svc.seed_defaults(root).seeded
    v = svc.version()
    assert not svc.seed_defaults(root).seeded and svc.version() == v
    assert [(e.term, e.source) for e in svc.list()] == [("炸药", "hegui-default")]
    assert [a.phrase for a in svc.allow_phrases()] == ["杀毒软件"]


def test_new_default_version_replaces_default_terms_and_keeps_operator_terms(ctx: HeguiContext,
                                                                              tmp_path: Path) -> None:
    svc = LexiconService(ctx)
    svc.seed_defaults(_data(tmp_path / "d1", "炸药"))
    svc.add("我的词", "A1.4")
    assert svc.seed_defaults(_data(tmp_path / "d2", "雷管")).seeded
    assert {(e.term, e.source) for e in svc.list()} == {("雷管", "hegui-default"), ("我的词", "operator")}


def test_allow_phrase_added_in_the_database_cancels_hits(ctx: HeguiContext) -> None:
    svc = LexiconService(ctx)
    svc.add("杀", "A1.6")
    reg = LexiconRegistry(ctx, check_interval=0)
    assert reg.detect("杀毒软件")
    svc.add_allow("杀毒软件")
    assert reg.refresh_if_changed()
    assert reg.detect("杀毒软件") == []
    svc.remove_allow("杀毒软件")
    reg.refresh_if_changed()
    assert reg.detect("杀毒软件")


def test_registry_sees_console_edits_made_through_another_service(ctx: HeguiContext) -> None:
    reg = LexiconRegistry(ctx, check_interval=0)
    assert reg.detect("炸药") == []
    assert not reg.refresh_if_changed()
    LexiconService(ctx).add("炸药", "A1.4")
    assert reg.refresh_if_changed()
    assert [f.match for f in reg.detect("炸药")] == ["炸药"]


def test_registry_background_rebuild_publishes_a_new_snapshot(ctx: HeguiContext) -> None:
    reg = LexiconRegistry(ctx, check_interval=0)
    old = reg.detector
    LexiconService(ctx).add("炸药", "A1.4")
    assert reg.refresh_if_changed(background=True)
    reg.wait(30)
    assert reg.detector is not old and reg.detect("炸药")
    assert old.detect("炸药") == []  # a request holding the old snapshot keeps a consistent view


def test_hot_reload_under_concurrent_detect(ctx: HeguiContext) -> None:
    """Threads detect while the lexicon grows and is swapped; every result matches one whole snapshot."""
    svc = LexiconService(ctx)
    svc.add("词0", "A1.8")
    reg = LexiconRegistry(ctx, check_interval=0)
    text = "".join(f"词{i}，" for i in range(12))
    stop = threading.Event()
    errors: list[str] = []

    def worker() -> None:
        while not stop.is_set():
            det = reg.detector
            found = {f.match for f in det.detect(text)}
            expected = {e.term for e in det.entries}
            if found != expected:
                errors.append(f"snapshot v{det.version}: found {sorted(found)}, has {sorted(expected)}")

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(1, 12):
            svc.add(f"词{i}", "A1.8")
            reg.refresh_if_changed(background=i % 2 == 0)
            reg.wait(30)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    reg.refresh_if_changed()
    assert errors == []
    assert {f.match for f in reg.detect(text)} == {f"词{i}" for i in range(12)}


def test_background_refresh_survives_a_database_error(ctx: HeguiContext, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = LexiconRegistry(ctx, check_interval=0)
    old = reg.detector

    def down() -> int:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(reg.service, "version", down)
    assert reg.refresh_if_changed(background=True)
    reg.wait(30)
    assert reg.detector is old and isinstance(reg.last_error, RuntimeError)


def test_refresh_checks_at_most_once_per_interval(ctx: HeguiContext) -> None:
    reg = LexiconRegistry(ctx, check_interval=3600)
    reg.refresh_if_changed()  # first check goes through
    LexiconService(ctx).add("炸药", "A1.4")
    assert not reg.refresh_if_changed()  # within the interval: no database read
    assert reg.detect("炸药") == []
    reg.reload()
    assert reg.detect("炸药")


def test_snapshot_reads_what_the_orm_objects_hold(ctx: HeguiContext) -> None:
    """``snapshot`` reads plain columns through the session's connection: the same entries, in the same
    order, as the ORM objects of the table give (``_to_entry``)."""
    from sqlalchemy import select

    from hegui.detect.lexicon.entry import AllowPhrase
    from hegui.detect.lexicon.service import _to_entry
    from hegui.store.models.lexicon import LexiconAllow, LexiconTerm

    svc = LexiconService(ctx)
    svc.add("炸药", "A1.4", 3, allow=["炸药学", "化学课上的炸药"], note="a note")
    svc.add("kill", "A1.6", 1, lang="en", source="vendor")
    svc.add("枪支", "A1.8")
    svc.add_allow("枪支管理", "A1.8")
    svc.add_allow("杀毒软件")
    version, entries, allow = svc.snapshot()
    with ctx.db.session() as s:
        assert entries == [_to_entry(r) for r in s.scalars(select(LexiconTerm).order_by(LexiconTerm.id))]
        assert allow == [AllowPhrase(r.phrase, r.scope, r.source)
                         for r in s.scalars(select(LexiconAllow).order_by(LexiconAllow.id))]
    assert version == svc.version() and len(entries) == 3 and entries[0].allow == ("炸药学", "化学课上的炸药")
