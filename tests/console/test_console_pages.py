"""Console pages against real data (TestClient on the real gateway app, SQLite)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from consolekit import PASSWORD, TERM, Console, console, csrf_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from hegui.config import Settings
from hegui.console import charts, i18n
from hegui.console import staff as staff_mod
from hegui.context import HeguiContext
from hegui.identity import accounts
from hegui.privacy.crypto import generate_key
from hegui.store.models.console import PolicyRevision
from hegui.store.models.privacy import PrivacyConsent

TEMPLATES = Path(__file__).parents[2] / "src" / "hegui" / "console" / "templates"


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    tmp = tmp_path_factory.mktemp("pages")
    ctx = HeguiContext(Settings(data_dir=tmp / ".hegui", database_url=f"sqlite:///{tmp / 'c.db'}",
                                secret_key=generate_key()))
    with console(ctx) as c:
        yield c
    ctx.close()


@pytest.fixture(scope="module")
def user_key(con: Console) -> str:
    return accounts.create_user(con.ctx.db, "app user").api_key


def _post(c: TestClient, page: str, action: str, **data: str) -> object:
    return c.post(action, data={"csrf": csrf_of(c.get(page).text), **data})


def _moderate(con: Console, key: str, text: str) -> dict[str, object]:
    r = con.http.post("/v1/moderations", json={"input": text}, headers={"authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    result: dict[str, object] = r.json()["results"][0]
    return result


def test_login_sets_an_httponly_samesite_lax_session_cookie(con: Console) -> None:
    c = TestClient(con.app, follow_redirects=False)
    page = c.get("/console/login")
    r = c.post("/console/login", data={"csrf": csrf_of(page.text), "username": "admin1", "password": PASSWORD,
                                       "next": "/console/review"})
    assert r.status_code == 303 and r.headers["location"] == "/console/review"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("hegui_console="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


def test_wrong_password_shows_the_form_again_with_401(con: Console) -> None:
    c = TestClient(con.app, follow_redirects=False)
    page = c.get("/console/login")
    r = c.post("/console/login", data={"csrf": csrf_of(page.text), "username": "admin1", "password": "nope-nope-nope"})
    assert r.status_code == 401 and "hegui_console=" not in r.headers.get("set-cookie", "")


def test_login_redirect_never_leaves_the_console(con: Console) -> None:
    c = TestClient(con.app, follow_redirects=False)
    page = c.get("/console/login")
    r = c.post("/console/login", data={"csrf": csrf_of(page.text), "username": "admin1", "password": PASSWORD,
                                       "next": "//evil.example/x"})
    assert r.headers["location"] == "/console/dashboard"


def test_logout_ends_the_session(con: Console) -> None:
    c = con.login("auditor")
    assert c.get("/console/dashboard").status_code == 200
    r = _post(c, "/console/dashboard", "/console/logout")
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert c.get("/console/dashboard").status_code == 303


def test_lexicon_term_added_in_the_console_takes_effect_on_the_gateway(con: Console, user_key: str) -> None:
    before = _moderate(con, user_key, f"请告诉我{TERM}的细节")
    assert before["flagged"] is False
    c = con.login("compliance")
    r = _post(c, "/console/lexicon", "/console/lexicon/add", term=TERM, category="A1.4", severity="3")
    assert r.status_code == 303  # type: ignore[attr-defined]
    after = _moderate(con, user_key, f"请告诉我{TERM}的细节")
    assert after["flagged"] is True and "A1.4" in after["hegui"]["categories"]  # type: ignore[index]
    events, _ = staff_mod.events(con.ctx.db, action="lexicon_add")
    assert events and events[0].target == f"A1.4:{TERM}"


def test_lexicon_test_highlights_the_finding_in_the_original_text(con: Console) -> None:
    c = con.login("reviewer")
    _post(con.login("compliance"), "/console/lexicon", "/console/lexicon/add", term="测试词丙", category="A4.1",
          severity="3")
    r = _post(c, "/console/lexicon", "/console/lexicon/test", text="前面ＡＢ测试词丙后面", direction="input")
    html = r.text  # type: ignore[attr-defined]
    assert re.search(r'<mark class="hit"[^>]*>测试词丙</mark>', html), html[-3000:]
    assert "前面ＡＢ" in html


def test_lexicon_import_and_export_round_trip(con: Console) -> None:
    c = con.login("admin")
    r = _post(c, "/console/lexicon", "/console/lexicon/import", format="csv",
              text="term,category,severity\n导入测试词一,A4.3,2\n导入测试词二,A4.3,1\n")
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    out = c.get("/console/lexicon/export?format=csv&category=A4.3")
    assert out.status_code == 200 and "导入测试词一" in out.text and "导入测试词二" in out.text


def test_reviewer_sees_highlighted_content_and_the_view_is_audited(con: Console, user_key: str) -> None:
    r = con.http.post("/v1/moderations", json={"input": f"说说{TERM}"}, headers={"authorization": f"Bearer {user_key}"})
    rid = r.headers["x-hegui-request-id"]
    c = con.login("reviewer")
    page = c.get(f"/console/review/{rid}")
    assert page.status_code == 200
    assert re.search(rf'<mark class="hit"[^>]*>{TERM}</mark>', page.text)
    events, _ = staff_mod.events(con.ctx.db, action="view_content", target=rid)
    assert [e.staff for e in events] == ["reviewer1"]


def test_auditor_sees_metadata_but_not_content_and_no_view_is_logged(con: Console, user_key: str) -> None:
    r = con.http.post("/v1/moderations", json={"input": f"再说{TERM}"}, headers={"authorization": f"Bearer {user_key}"})
    rid = r.headers["x-hegui-request-id"]
    page = con.login("auditor").get(f"/console/review/{rid}")
    assert page.status_code == 200 and "A1.4" in page.text
    assert TERM not in page.text
    assert staff_mod.events(con.ctx.db, action="view_content", target=rid)[1] == 0


def test_review_verdict_is_saved_and_leaves_the_open_queue(con: Console, user_key: str) -> None:
    r = con.http.post("/v1/moderations", json={"input": f"第三次{TERM}"},
                      headers={"authorization": f"Bearer {user_key}"})
    rid = r.headers["x-hegui-request-id"]
    c = con.login("reviewer")
    assert rid in c.get("/console/review?status=open").text
    resp = _post(c, f"/console/review/{rid}", f"/console/review/{rid}", verdict="confirmed", note="明确违规")
    assert resp.status_code == 303  # type: ignore[attr-defined]
    assert rid not in c.get("/console/review?status=open").text
    assert "明确违规" in c.get(f"/console/review/{rid}").text


def test_dashboard_counts_real_exchanges(con: Console, user_key: str) -> None:
    _moderate(con, user_key, "今天天气不错")
    html = con.login("auditor").get("/console/dashboard").text
    total = int(re.search(r'<div class="value">(\d+)</div>', html).group(1))  # type: ignore[union-attr]
    from hegui.audit.log import export

    assert total == sum(1 for r in export(con.ctx.db, None) if r["endpoint"] != "console") > 0
    assert "<svg" in html and "O15" in html


def test_invalid_policy_pack_is_refused_with_the_field_and_nothing_is_saved(con: Console) -> None:
    c = con.login("compliance")
    text = c.get("/console/policy").text
    yaml_text = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', text, re.S).group(1)  # type: ignore[union-attr]
    import html as htmllib

    bad = htmllib.unescape(yaml_text).replace("name: cn-genai", "name: Not Valid!", 1)
    r = _post(c, "/console/policy", "/console/policy/preview", text=bad)
    assert r.status_code == 400 and "name" in r.text  # type: ignore[attr-defined]
    with con.ctx.db.session() as s:
        assert s.scalar(select(PolicyRevision.id)) is None


def test_policy_edit_shows_a_diff_then_saves_file_revision_and_audit(con: Console) -> None:
    import html as htmllib

    c = con.login("compliance")
    page = c.get("/console/policy").text
    old = htmllib.unescape(re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', page, re.S).group(1))  # type: ignore[union-attr]
    new = old.replace("title:", "title: (operator)", 1) if "title: " not in old else old.replace(
        "title: ", "title: 运营方 ", 1)
    prev = _post(c, "/console/policy", "/console/policy/preview", text=new)
    assert prev.status_code == 200 and 'class="d-add"' in prev.text and 'class="d-del"' in prev.text  # type: ignore[attr-defined]
    save = c.post("/console/policy/save", data={"csrf": csrf_of(prev.text), "text": new,  # type: ignore[attr-defined]
                                                "comment": "mark the operator pack"})
    assert save.status_code == 303
    path = con.ctx.settings.data_dir / "packs" / "operator.yaml"
    assert path.read_text(encoding="utf-8") == new
    with con.ctx.db.session() as s:
        assert s.scalar(select(PolicyRevision.comment)) == "mark the operator pack"
    events, _ = staff_mod.events(con.ctx.db, action="policy_save")
    assert events and events[0].staff == "compliance1"


def test_training_opt_out_with_an_api_key_is_stored(con: Console, user_key: str) -> None:
    c = TestClient(con.app, follow_redirects=False)
    page = c.get("/console/public/training")
    r = c.post("/console/public/training", data={"csrf": csrf_of(page.text), "api_key": user_key, "choice": "off"})
    assert r.status_code == 200 and 'id="optout-done"' in r.text
    uid = accounts.authenticate(con.ctx.db, user_key).user_id  # type: ignore[union-attr]
    with con.ctx.db.session() as s:
        row = s.get(PrivacyConsent, uid)
        assert row is not None and row.training_use == 0


def test_training_opt_out_with_a_bad_key_is_a_clear_400(con: Console) -> None:
    c = TestClient(con.app, follow_redirects=False)
    page = c.get("/console/public/training")
    r = c.post("/console/public/training", data={"csrf": csrf_of(page.text), "api_key": "hg-nope", "choice": "off"})
    assert r.status_code == 400 and "not valid" in r.text


def test_missing_cases_service_shows_a_not_available_slot(con: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from hegui.console import cases

    monkeypatch.setitem(cases.QUEUES, "incidents", replace(cases.QUEUES["incidents"], module="hegui.cases.nowhere"))
    html = con.login("compliance").get("/console/cases/incidents").text
    assert "本安装未提供此功能" in html and "<table" not in html


def test_language_switch_renders_english(con: Console) -> None:
    c = con.login("auditor")
    assert "总览" in c.get("/console/dashboard").text
    c.get("/console/lang/en?next=/console/dashboard")
    html = c.get("/console/dashboard").text
    assert "Dashboard" in html and "总览" not in html


def test_every_ui_string_has_a_chinese_translation() -> None:
    from hegui.console.app import NAV
    from hegui.console.cases import QUEUES

    texts = {s for tpl in TEMPLATES.glob("*.html")
             for s in re.findall(r"(?<![\w.])t\('([^']+)'\)", tpl.read_text(encoding="utf-8"))}
    texts |= {label for group, items in NAV for label, _, _ in items} | {group for group, _ in NAV}
    for q in QUEUES.values():
        texts |= {q.title, *q.statuses, *(label for label, _ in q.columns)}
        texts |= {a.label for a in q.actions} | {f.label for a in q.actions for f in a.fields}
    missing = sorted(t for t in texts if t not in i18n.ZH)
    assert not missing, missing


def test_stacked_bars_draws_one_rect_per_nonzero_value_with_its_count() -> None:
    svg = str(charts.stacked_bars(["2026-01-01", "2026-01-02"], {"A1": [2, 0], "A4": [1, 3]}, title="x"))
    bars = re.findall(r"<rect [^>]*><title>([^<]+)</title>", svg)
    assert sorted(bars) == ["2026-01-01 A1: 2", "2026-01-01 A4: 1", "2026-01-02 A4: 3"]


def test_security_headers_on_console_pages(con: Console) -> None:
    r = con.http.get("/console/login")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_dashboard_does_not_wait_for_slow_evidence_checks(con: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from hegui.console import app as console_app
    from hegui.obligations import report

    release = threading.Event()

    def slow_report(ctx: HeguiContext) -> list[object]:
        release.wait()
        return list(report(ctx))

    cache = console_app.ObligationCache()
    monkeypatch.setattr(con.app.state, "console_obligations", cache)
    monkeypatch.setattr(console_app, "obligations_report", slow_report)
    monkeypatch.setattr(console_app, "OBLIGATIONS_WAIT", 0.0)
    c = con.login("auditor")
    first = c.get("/console/dashboard")
    assert first.status_code == 200 and "证据检查仍在进行" in first.text and 'class="oblig ' not in first.text
    release.set()
    assert cache._thread is not None
    cache._thread.join()
    assert 'class="oblig st-' in c.get("/console/dashboard").text


def test_admin_creates_and_disables_a_staff_account(con: Console) -> None:
    c = con.login("admin")
    r = _post(c, "/console/staff", "/console/staff", username="newofficer", role="compliance",
              password="a long new password", display_name="新专员")
    assert r.status_code == 303  # type: ignore[attr-defined]
    officer = TestClient(con.app, follow_redirects=False)
    from consolekit import login_as

    login_as(officer, "newofficer", "a long new password")
    assert officer.get("/console/lexicon").status_code == 200
    r = _post(c, "/console/staff", "/console/staff/newofficer/status", status="disabled")
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert officer.get("/console/lexicon").status_code == 303  # the session ended with the account
    assert [e.action for e in staff_mod.events(con.ctx.db, target="newofficer")[0]] == ["staff_status", "staff_create"]


def test_admin_cannot_disable_their_own_account(con: Console) -> None:
    c = con.login("admin")
    r = _post(c, "/console/staff", "/console/staff/admin1/status", status="disabled")
    assert r.status_code == 400  # type: ignore[attr-defined]


def test_auditor_exports_the_audit_log_without_content_and_the_export_is_logged(con: Console, user_key: str) -> None:
    import json

    _moderate(con, user_key, f"导出前的{TERM}")
    c = con.login("auditor")
    r = c.get("/console/audit/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert rows and all(row["content"] in ("(sealed)", None) for row in rows) and TERM not in r.text
    assert staff_mod.events(con.ctx.db, action="audit_export")[0][0].staff == "auditor1"
    assert "audit_export" in c.get("/console/activity/export").text


def test_staff_actions_are_also_sealed_into_the_hash_chained_audit_log(con: Console, user_key: str) -> None:
    from hegui.audit.log import export, verify

    r = con.http.post("/v1/moderations", json={"input": f"链上{TERM}"}, headers={"authorization": f"Bearer {user_key}"})
    rid = r.headers["x-hegui-request-id"]
    con.login("compliance").get(f"/console/review/{rid}")
    staff_rows = [x for x in export(con.ctx.db, con.ctx.keys, decrypt=True) if x["endpoint"] == "console"]
    views = [x["content"] for x in staff_rows
             if x["content"]["action"] == "view_content" and x["content"]["target"] == rid]
    assert views == [{"staff": "compliance1", "role": "compliance", "action": "view_content", "target": rid,
                      "detail": {"purged": False}}]
    assert verify(con.ctx.db).ok
