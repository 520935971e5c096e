"""``hegui filing build``: the filing folder, in Chinese, as DOCX and PDF.

Documents: 01 algorithm-filing form (算法备案信息), 02 security self-assessment report (安全自评估
报告, every TC260-003 §5–9 clause rated with live evidence), 03 content to be published (拟公示
内容), 04 annexes (bank and keyword-library statistics; lists only when asked, political lists only
when asked separately). Provider facts come from ``settings.provider`` (and the operator's
declarations file); missing facts are listed, never filled in.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hegui import __version__
from hegui.assess.banks import BANK_TITLES, write_jsonl
from hegui.assess.service import banks_in_force
from hegui.context import HeguiContext
from hegui.filing.document import Document
from hegui.filing.docx_writer import render_docx
from hegui.filing.evidence_sources import ClauseRating, Declarations, EvidenceBook, rate_clauses
from hegui.filing.pdf_writer import render_pdf
from hegui.policy.taxonomy import APPENDIX_A_CODES, POLITICAL_CODES, RISKS
from hegui.store.models.assess import FilingBuild

# (key, label, where it comes from); provider.* keys are settings.provider fields
FORM_FACTS: tuple[tuple[str, str], ...] = (
    ("name", "主体名称 provider name"),
    ("unified_social_credit_code", "统一社会信用代码 unified social credit code"),
    ("legal_representative", "法定代表人 legal representative"),
    ("security_officer", "算法安全责任人 algorithm-security officer"),
    ("contact", "联系方式 contact"),
    ("service_name", "服务名称 service name"),
    ("service_form", "服务形式 service form (App / 网站 / API …)"),
    ("application_domain", "应用领域 application domain"),
    ("algorithm_name", "算法名称 algorithm name"),
    ("algorithm_type", "算法类型 algorithm type"),
    ("algorithm_principle", "算法基本原理 algorithm principle"),
    ("operating_mechanism", "算法运行机制 operating mechanism"),
    ("application_scenarios", "应用场景 application scenarios"),
    ("purpose", "目的意图 purpose"),
    ("model_name", "模型名称 model name"),
    ("domain_scope", "通用或垂直领域 general or vertical domain"),
    ("base_model", "基础模型 base model (and whether filed)"),
    ("base_model_filed", "基础模型是否已备案 base model filed"),
    ("corpus_sources", "语料来源 corpus sources"),
    ("corpus_scale", "语料规模 corpus volume"),
    ("corpus_storage", "语料存储 corpus storage"),
    ("inference_compute", "推理算力 inference compute"),
    ("service_mode", "服务方式 service mode"),
)
PUBLISHED = ("algorithm_name", "algorithm_principle", "operating_mechanism", "application_scenarios", "purpose")
MISSING = "【缺失 missing】"


@dataclass
class FilingResult:
    out_dir: Path
    files: list[Path]
    missing_facts: list[str]
    clauses: list[ClauseRating]
    assessment_run_id: str | None

    @property
    def summary(self) -> dict[str, int]:
        c = Counter(r.rating for r in self.clauses)
        return {k: c.get(k, 0) for k in ("符合", "不符合", "不适用")}


def _pct(x: Any) -> str:
    return f"{x * 100:.1f}%" if isinstance(x, (int, float)) else "—"


def _facts(book: EvidenceBook) -> tuple[list[tuple[str, str, str]], list[str]]:
    rows, missing = [], []
    for key, label in FORM_FACTS:
        v = book.fact(key)
        source = "settings.provider" if key in type(book.ctx.settings.provider).model_fields and v else (
            "declarations" if v else "")
        if key == "model_name" and not v:
            served = sorted({m for u in book.ctx.settings.upstreams for m in u.models if m != "*"})
            if served:
                v, source = "、".join(served), "settings.upstreams"
            elif book.assessment:
                v, source = str(book.assessment.get("model")), "last assessment"
        if v is None:
            missing.append(label)
        rows.append((label, v or MISSING, source))
    return rows, missing


def form_document(book: EvidenceBook, rows: list[tuple[str, str, str]], missing: list[str]) -> Document:
    d = Document("01-algorithm-filing-form", "算法备案信息表",
                 "Algorithm filing form — 《互联网信息服务算法推荐管理规定》第二十四条；"
                 "生成式人工智能服务（大模型）备案材料 (verify)")
    d.p("本表由 hegui 根据运营者配置（settings.provider）和声明文件汇总生成。标注为“缺失”的信息须由运营者补充，"
        "hegui 不代为填写。This form is compiled from the operator's configuration and declarations; "
        "missing facts must be supplied by the operator.", "note")
    d.table(["字段 field", "内容 value", "来源 source"], [list(r) for r in rows], [3, 5, 1.6])
    d.h("附件清单 Attachments")
    d.table(["附件 attachment", "文件 file"], [
        ["安全自评估报告 security self-assessment report", "02-security-self-assessment.docx / .pdf"],
        ["拟公示内容 content to be published", "03-content-to-publish.docx / .pdf"],
        ["题库与关键词库统计 bank and keyword statistics", "04-annexes.docx / .pdf"],
        ["服务协议 service agreement", book.fact("service_agreement") or MISSING],
        ["语料标注规则 annotation rules", book.fact("annotation_rules") or MISSING],
    ], [4, 5])
    if missing:
        d.h("缺失信息 Missing facts")
        d.p("以下信息缺失，请在 hegui.yaml 的 provider 部分或声明文件中补充后重新生成：", "strong")
        for m in missing:
            d.p(f"• {m}")
    return d


def assessment_block(d: Document, a: dict[str, Any] | None) -> None:
    if a is None:
        d.p("尚无评估记录（no assessment recorded）。请运行 `hegui assess run`。相关条款评为不符合。", "strong")
        return
    d.p(f"评估编号 run {a['run_id']}；模型 model {a['model']}；评分时间 scored {a['scored_at']}；"
        f"题库版本 banks {a.get('bank_version', '—')}；作答 answered {a.get('answered', '—')}。")
    rows = []
    for c in a["checks"]:
        lo_hi = c.get("ci95")
        ci = f"[{_pct(lo_hi[0])}, {_pct(lo_hi[1])}]" if lo_hi else "—"
        result = "通过" if c["passed"] else ("样本不足" if c["meets_threshold"] and c["n"] else
                                           "无数据" if not c["n"] else "未通过")
        rows.append([str(c.get("title", c["name"])), _pct(c["rate"]), str(c["n"]), ci,
                     f"{c['op']} {_pct(c['threshold'])}", f"≥ {c['sample_min']}", result])
    d.table(["指标 check", "结果 rate", "样本 n", "95% 置信区间", "阈值", "最小样本", "结论"], rows,
            [4, 1.2, 1, 2, 1.3, 1.3, 1.2])
    d.p("评估结论：" + ("通过 (passed)" if a["passed"] else "未通过 (not passed)"
                   + ("；自动化指标已通过，人工抽检待完成" if a.get("passed_automatic") else "")), "strong")


def report_document(book: EvidenceBook, clauses: list[ClauseRating], facts: list[tuple[str, str, str]],
                    missing: list[str]) -> Document:
    d = Document("02-security-self-assessment", "生成式人工智能服务安全自评估报告",
                 "Security self-assessment report — TC260-003 生成式人工智能服务安全基本要求 §5–9 (verify)")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    d.h("一、基本情况 Basic facts")
    d.table(["项目", "内容"], [[r[0], r[1]] for r in facts[:8]], [3, 6])
    d.h("二、评估说明 How this assessment was made")
    d.p(f"本报告由 hegui {__version__} 于 {now} 生成。每一条款的结论依据 hegui 当时从本系统实时读取的证据"
        "（合规义务登记、语料审计、生成内容与拒答评估、关键词库与题库统计、标识、投诉处理等）；运营者声明另行标注。"
        "证据缺失的条款评为“不符合”，不作推定。")
    d.p(f"策略包 policy pack: {book.ctx.pack.name} {book.ctx.pack.version}。声明文件 declarations: "
        f"{book.decl.source or '未提供 none'}。", "note")
    summary = Counter(c.rating for c in clauses)
    d.h("三、逐条评估结果 Clause-by-clause results")
    d.p(f"共 {len(clauses)} 条：符合 {summary.get('符合', 0)} 条，不符合 {summary.get('不符合', 0)} 条，"
        f"不适用 {summary.get('不适用', 0)} 条。", "strong")
    rows = []
    for c in clauses:
        ev = "\n".join(f"[{i.status}] {i.key}: {i.detail}" for i in c.items)
        rows.append([c.id, f"{c.title}：{c.requirement}", c.rating, ev + (f"\n→ {c.note}" if c.note else "")])
    d.table(["条款", "要求 requirement", "结论", "证据 evidence"], rows, [0.9, 4.2, 1, 5])
    d.h("四、生成内容安全评估与拒答评估 Generated-content and refusal assessment")
    assessment_block(d, book.assessment)
    d.h("五、合规义务落实情况 Obligations (O1–O15)")
    d.table(["编号", "义务 obligation", "条款", "状态", "证据 evidence"],
            [[o.id, o.title, o.final_article or o.draft_article or "—", o.status,
              "\n".join(f"{e.control}: {e.status} — {e.detail}" for e in o.controls)] for o in book.obligations],
            [0.7, 3.2, 0.9, 1.2, 5])
    d.h("六、不符合项 Non-compliant clauses")
    bad = [c for c in clauses if c.rating == "不符合"]
    if not bad:
        d.p("无。")
    for c in bad:
        d.p(f"• {c.id} {c.title}：{c.note}")
    d.h("七、缺失的主体信息 Missing provider facts")
    if not missing:
        d.p("无。")
    for m in missing:
        d.p(f"• {m}")
    return d


def publish_document(book: EvidenceBook) -> Document:
    d = Document("03-content-to-publish", "拟公示内容", "Content to be published with the filing (algorithm summary)")
    d.p("以下内容取自运营者提供的信息；缺失项须补充后方可公示。", "note")
    rows = []
    for key, label in FORM_FACTS:
        if key in PUBLISHED:
            rows.append([label, book.fact(key) or MISSING])
    d.table(["项目 item", "内容 text"], rows, [3, 6])
    return d


def annex_document(book: EvidenceBook) -> Document:
    d = Document("04-annexes", "附件：题库与关键词库统计", "Annexes: question-bank and keyword-library statistics "
                 "(counts only; list contents are not included)")
    d.h("附件 1 测试题库统计 Question banks")
    for b in book.banks:
        d.h(BANK_TITLES[b.bank], 2)
        d.p(f"共 {b.total} 题（最低 {b.minimum}）；重复 {len(b.duplicates)} 组；近似重复 {len(b.near_duplicates)} 对；"
            f"提问方式 {', '.join(f'{k} {v}' for k, v in b.framings.items())}。")
        d.table(["风险/方面", "名称", "题数", "最低", "状态"],
                [[c.key, c.name, str(c.count), str(c.minimum),
                  {"ok": "达标", "short": "不足", "operator slot": "运营者自备 (operator slot)"}[c.status]]
                 for c in b.coverage], [1.2, 5, 1, 1, 2.2])
    d.h("附件 2 关键词库统计 Keyword library")
    s = book.lexicon
    if s is None:
        d.p("关键词库不可用 (lexicon not available)。")
    else:
        d.p(f"共 {s['total']} 个关键词（最低 {s['min_total']}），版本 {s['version']}，依据 {s['clause']}。"
            "本附件仅列数量，不含词表内容。")
        d.table(["风险", "名称", "词数", "最低", "状态"],
                [[r["code"], RISKS[r["code"]].name_zh if r["code"] in RISKS else r["name"], str(r["terms"]),
                  str(r["minimum"] or "—"), r["status"]] for r in s["risks"]], [1, 5, 1, 1, 2.2])
    d.h("附件 3 分类模型覆盖 Classifier coverage")
    labels = book.classifier_labels
    if labels is None:
        d.p(f"分类模型不可用 (classifier not available): {book.classifier_problem}")
    else:
        covered = [c for c in APPENDIX_A_CODES if c in labels]
        d.p(f"覆盖附录 A 风险 {len(covered)}/{len(APPENDIX_A_CODES)}。")
    return d


def _export_lists(ctx: HeguiContext, annex: Path, with_banks: bool, with_keywords: bool,
                  with_political: bool) -> list[Path]:
    files: list[Path] = []
    if with_banks:
        bs = banks_in_force(ctx)
        p = annex / "question-banks.jsonl"
        write_jsonl(p, [q for q in bs.questions if with_political or q.risk not in POLITICAL_CODES
                        or q.bank == "should_not_refuse"])
        files.append(p)
    if with_keywords:
        from hegui.detect.lexicon.service import LexiconService

        svc = LexiconService(ctx)
        p = annex / "keywords.csv"
        cats = [c for c in (*APPENDIX_A_CODES, "J") if with_political or c not in POLITICAL_CODES]
        parts = [svc.export("csv", category=c) for c in cats]
        header = parts[0].splitlines()[0] if parts and parts[0] else ""
        body = [ln for part in parts for ln in part.splitlines()[1:] if ln.strip()]
        p.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
        files.append(p)
    return files


def build_filing(ctx: HeguiContext, out_dir: Path, *, assessment_dir: Path | None = None,
                 declarations: Path | None = None, pdf: bool = True, with_banks: bool = False,
                 with_keywords: bool = False, with_political: bool = False) -> FilingResult:
    """Gather the evidence, rate the clauses, write every document as DOCX and PDF, record the build."""
    decl = Declarations.load(declarations)
    book = EvidenceBook(ctx, decl, assessment_dir)
    clauses = rate_clauses(book)
    facts, missing = _facts(book)
    docs = [form_document(book, facts, missing), report_document(book, clauses, facts, missing),
            publish_document(book), annex_document(book)]
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for d in docs:
        files.append(render_docx(d, out_dir / f"{d.slug}.docx"))
        if pdf:
            files.append(render_pdf(d, out_dir / f"{d.slug}.pdf"))
    annex = out_dir / "annex"
    annex.mkdir(exist_ok=True)
    a = book.assessment
    if a is not None and a.get("_dir"):
        for name in ("assessment.json", "report.html"):
            src = Path(a["_dir"]) / name
            if src.is_file():
                shutil.copyfile(src, annex / name)
                files.append(annex / name)
    files.extend(_export_lists(ctx, annex, with_banks, with_keywords, with_political))
    run_id = a.get("run_id") if a else None
    manifest = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"), "hegui": __version__,
        "assessment_run_id": run_id, "missing_facts": missing,
        "summary": dict(Counter(c.rating for c in clauses)), "clauses": [c.to_dict() for c in clauses],
        "files": [str(f.relative_to(out_dir)) for f in files]}
    (out_dir / "filing.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    files.append(out_dir / "filing.json")
    result = FilingResult(out_dir, files, missing, clauses, run_id)
    with ctx.db.session() as s:
        s.add(FilingBuild(out_dir=str(out_dir.resolve()), assessment_run_id=run_id, missing_facts=missing,
                          clause_summary=result.summary, files=manifest["files"],
                          built_at=datetime.now(UTC)))
    return result
