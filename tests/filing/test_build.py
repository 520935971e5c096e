from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from assess_helpers import ChatServer, Script, real_panel, small_bank  # (tests/assess, put on the path by conftest)
from docx import Document as open_docx

from hegui.config import ProviderConfig
from hegui.context import HeguiContext
from hegui.detect.lexicon.service import LexiconService
from hegui.errors import InvalidInputError
from hegui.filing.build import build_filing
from hegui.filing.evidence import filing_documents
from hegui.obligations import report


def _docx_text(path: Path) -> str:
    d = open_docx(str(path))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def _with_provider(ctx: HeguiContext, **facts: str) -> HeguiContext:
    return HeguiContext(ctx.settings.model_copy(update={"provider": ProviderConfig(**facts)}))


def test_without_evidence_every_clause_is_non_compliant_and_facts_are_listed(ctx: HeguiContext,
                                                                             tmp_path: Path) -> None:
    r = build_filing(ctx, tmp_path / "f")
    assert r.summary == {"符合": 0, "不符合": 29, "不适用": 0}
    assert "主体名称 provider name" in r.missing_facts
    assert all(c.note for c in r.clauses)
    names = sorted(p.name for p in (tmp_path / "f").iterdir())
    for slug in ("01-algorithm-filing-form", "02-security-self-assessment", "03-content-to-publish", "04-annexes"):
        assert f"{slug}.docx" in names and f"{slug}.pdf" in names
    assert "filing.json" in names
    text = _docx_text(tmp_path / "f" / "01-algorithm-filing-form.docx")
    assert "【缺失 missing】" in text


def test_provider_facts_come_from_settings(ctx: HeguiContext, tmp_path: Path) -> None:
    c2 = _with_provider(ctx, name="测试科技有限公司", unified_social_credit_code="91110000TEST00000X",
                        security_officer="张测试")
    r = build_filing(c2, tmp_path / "f", pdf=False)
    c2.close()
    assert "主体名称 provider name" not in r.missing_facts
    text = _docx_text(tmp_path / "f" / "01-algorithm-filing-form.docx")
    assert "测试科技有限公司" in text and "91110000TEST00000X" in text and "张测试" in text


def test_declarations_mark_clauses_not_applicable_or_declared(ctx: HeguiContext, tmp_path: Path) -> None:
    decl = tmp_path / "decl.yaml"
    decl.write_text("facts:\n  algorithm_name: 测试算法\nclauses:\n"
                    "  7d: {status: 不适用, reason: 仅提供文本服务，不生成图片和视频}\n"
                    "  7c: {status: 符合, statement: 设置页两次点击可关闭训练使用}\n", encoding="utf-8")
    r = build_filing(ctx, tmp_path / "f", declarations=decl, pdf=False)
    by_id = {c.id: c for c in r.clauses}
    assert by_id["7d"].rating == "不适用" and "仅提供文本服务" in by_id["7d"].note
    assert by_id["7c"].rating == "符合"
    assert by_id["7c"].items[0].status == "declared"
    assert "算法名称 algorithm name" not in r.missing_facts


@pytest.mark.parametrize("body", ["clauses:\n  7d: {status: 也许}\n", "clauses:\n  7d: {status: 不适用}\n",
                                  "other: 1\n"])
def test_bad_declarations_are_rejected(ctx: HeguiContext, tmp_path: Path, body: str) -> None:
    decl = tmp_path / "decl.yaml"
    decl.write_text(body, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"decl\.yaml"):
        build_filing(ctx, tmp_path / "f", declarations=decl, pdf=False)
    assert not (tmp_path / "f").exists()


def test_assessment_results_are_cited_live(ctx: HeguiContext, tmp_path: Path, chat_server: ChatServer,
                                           script: Script) -> None:
    from hegui.assess.runner import RunOptions
    from hegui.assess.service import run_assessment

    bankset, _ = small_bank(tmp_path, script)
    run = run_assessment(ctx, RunOptions(endpoint=chat_server.url, model="scripted", backoff_seconds=0.001),
                         tmp_path / "run", panel=real_panel(ctx), bankset=bankset)
    r = build_filing(ctx, tmp_path / "f")
    assert r.assessment_run_id == run.assessment["run_id"]
    c94 = next(c for c in r.clauses if c.id == "9.4")
    assert c94.rating == "不符合" and "75.0% of 8" in c94.items[0].detail
    assert (tmp_path / "f" / "annex" / "report.html").is_file()
    pdf_text = subprocess.run(["pdftotext", str(tmp_path / "f" / "02-security-self-assessment.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
    assert run.assessment["run_id"] in pdf_text.replace("\n", "")


def test_political_lists_are_not_attached_unless_asked(ctx: HeguiContext, tmp_path: Path) -> None:
    svc = LexiconService(ctx)
    svc.add("测试政治词甲", "A1.1", severity=3)
    svc.add("测试恐怖词乙", "A1.4", severity=3)
    build_filing(ctx, tmp_path / "f", pdf=False, with_keywords=True)
    kw = (tmp_path / "f" / "annex" / "keywords.csv").read_text(encoding="utf-8")
    assert "测试恐怖词乙" in kw and "测试政治词甲" not in kw
    build_filing(ctx, tmp_path / "g", pdf=False, with_keywords=True, with_political=True)
    assert "测试政治词甲" in (tmp_path / "g" / "annex" / "keywords.csv").read_text(encoding="utf-8")
    annex = _docx_text(tmp_path / "f" / "04-annexes.docx")
    assert "测试政治词甲" not in annex and "测试恐怖词乙" not in annex  # statistics only


def test_filing_evidence_and_obligations_o13_o14(ctx: HeguiContext, tmp_path: Path) -> None:
    assert filing_documents(ctx).status == "not_configured"
    build_filing(ctx, tmp_path / "f", pdf=False)
    ev = filing_documents(ctx)
    assert ev.status == "configured" and "missing facts" in ev.detail
    rows = {o.id: o for o in report(ctx)}
    assert [e.status for e in rows["O14"].controls] == ["configured"]
    assert {e.control for e in rows["O13"].controls} == {"assess.run", "filing.documents"}


def test_manifest_lists_every_clause_with_evidence(ctx: HeguiContext, tmp_path: Path) -> None:
    build_filing(ctx, tmp_path / "f", pdf=False)
    m = json.loads((tmp_path / "f" / "filing.json").read_text(encoding="utf-8"))
    assert len(m["clauses"]) == 29 and all(c["evidence"] for c in m["clauses"])
    assert {c["rating"] for c in m["clauses"]} <= {"符合", "不符合", "不适用"}


@pytest.mark.slow
def test_cli_build_in_a_fresh_folder_lists_missing_facts(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("HEGUI_")}
    r = subprocess.run([sys.executable, "-m", "hegui", "filing", "build", "--out", "f", "--no-pdf"],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "no assessment recorded" in r.stdout and "主体名称 provider name" in r.stdout
    assert (tmp_path / "f" / "02-security-self-assessment.docx").is_file()
