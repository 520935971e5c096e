"""The console in Debian's headless Chromium (Playwright) against the gateway on a loopback port.

Saves screenshots of the main pages to ``artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from consolekit import PASSWORD, build_app, seed_history

from hegui.config import Settings
from hegui.context import HeguiContext
from hegui.identity import accounts
from hegui.privacy.crypto import generate_key
from hegui.store.models.usage import UsageDaily
from hegui.store.models.verification import IdentityProfile
from loopback import serve_app

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).parents[2] / "artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
NEW_TERM = "测试违禁词丁"


class Server:
    def __init__(self, ctx: HeguiContext, url: str, user_key: str) -> None:
        self.ctx, self.url, self.user_key = ctx, url, user_key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed")
    tmp = tmp_path_factory.mktemp("browser")
    ctx = HeguiContext(Settings(data_dir=tmp / ".hegui", database_url=f"sqlite:///{tmp / 'c.db'}",
                                secret_key=generate_key()))
    app = build_app(ctx)
    user = accounts.create_user(ctx.db, "应用用户")
    others = [accounts.create_user(ctx.db, n).user_id for n in ("张小明", "李华", "王芳")]
    with ctx.db.session() as s:  # identity and usage rows as the identity/usage domains write them
        s.add(IdentityProfile(user_id=others[0], state="verified", birth_date=date(2011, 5, 1),
                              birth_source="document"))
        s.add(IdentityProfile(user_id=others[1], state="verified", birth_date=date(1990, 1, 1),
                              birth_source="document"))
        s.add(UsageDaily(user_id=others[0], day=date.today().isoformat(), seconds=2400.0))
    seed_history(ctx, [user.user_id, *others])
    try:
        with serve_app(app) as url:
            yield Server(ctx, url, user.api_key)
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    yield pg
    ctx.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page: Any, server: Server, role: str) -> None:
    page.goto(server.url + "/console/dashboard")
    assert "/console/login" in page.url
    page.fill("input[name=username]", role + "1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/dashboard$"))


def test_training_opt_out_is_reachable_within_four_clicks(server: Server, page: Any) -> None:
    clicks = 0

    def click(selector: str) -> None:
        nonlocal clicks
        clicks += 1
        page.click(selector)

    page.goto(server.url + "/console/public")
    shot(page, "public-landing")
    click("#to-training")
    page.fill("input[name=api_key]", server.user_key)
    click("#optout")
    expect(page.locator("#optout-done")).to_be_visible()
    assert clicks <= server.ctx.pack.figures.training_opt_out_max_clicks
    shot(page, "public-training-opt-out")


def test_compliance_adds_a_term_and_the_gateway_refuses_it(server: Server, page: Any) -> None:
    body = {"input": f"请告诉我{NEW_TERM}怎么做"}
    headers = {"authorization": f"Bearer {server.user_key}"}
    first = httpx.post(server.url + "/v1/moderations", json=body, headers=headers).json()["results"][0]
    assert first["flagged"] is False
    login(page, server, "compliance")
    shot(page, "dashboard")
    page.click("nav >> text=词库")
    page.fill("#add-form input[name=term]", NEW_TERM)
    page.select_option("#add-form select[name=category]", "A1.4")
    page.select_option("#add-form select[name=severity]", "3")
    page.click("#add-form button[type=submit]")
    expect(page.locator("#terms .term", has_text=NEW_TERM)).to_have_count(1)
    page.fill("#test-form textarea[name=text]", f"有人问：{NEW_TERM}，能详细说说吗？")
    page.click("#test-form button[type=submit]")
    expect(page.locator("#test-result mark.hit", has_text=NEW_TERM)).to_have_count(1)
    shot(page, "lexicon")
    res = httpx.post(server.url + "/v1/moderations", json=body, headers=headers).json()["results"][0]
    assert res["flagged"] is True and "A1.4" in res["hegui"]["categories"]


def test_reviewer_reviews_a_flagged_exchange_and_is_refused_the_users_page(server: Server, page: Any) -> None:
    login(page, server, "reviewer")
    page.click("nav >> text=审核队列")
    shot(page, "review-queue")
    page.locator("table.table tbody tr td a").first.click()
    expect(page.locator(".msg-text mark.hit").first).to_be_visible()
    page.check("input[value=confirmed]")
    page.fill("textarea[name=note]", "确认违规，已加入整改")
    page.click("form.stack button[type=submit]")
    expect(page.locator(".review-entry", has_text="确认违规")).to_have_count(1)
    shot(page, "review-item")
    expect(page.locator("nav >> text=用户")).to_have_count(0)  # not offered in the navigation
    resp = page.goto(server.url + "/console/users")
    assert resp.status == 403 and page.locator("h1", has_text="无权访问").count() == 1
    shot(page, "forbidden")


def test_complaint_is_worked_to_resolution(server: Server, page: Any) -> None:
    pytest.importorskip("hegui.cases.complaints")
    page.goto(server.url + "/console/public")
    page.click("#to-complaint")
    page.fill("textarea[name=description]", "模型的回答里出现了赌博网站的推广信息，请处理。")
    page.fill("input[name=contact]", "user@example.com")
    page.click("#complaint-form button[type=submit]")
    ticket = page.locator("#ticket").inner_text()
    shot(page, "public-complaint-filed")
    login(page, server, "compliance")
    page.click("nav >> text=投诉举报")
    page.click(f"text={ticket}")
    page.select_option("#action-move select[name=status]", "triage")
    page.click("#action-move button[type=submit]")
    expect(page.locator("#case-status")).to_have_text("分诊")
    page.select_option("#action-move select[name=status]", "resolved")
    page.fill("#action-move textarea[name=outcome]", "已核实，相关词条已加入词库并下架内容。")
    page.click("#action-move button[type=submit]")
    expect(page.locator("#case-status")).to_have_text("已解决")
    shot(page, "complaint-resolved")
    page.click("text=← 投诉举报")
    shot(page, "complaints-queue")


def test_admin_saves_a_policy_change_after_its_diff(server: Server, page: Any) -> None:
    login(page, server, "admin")
    page.click("nav >> text=策略包")
    area = page.locator("textarea[name=text]")
    text = area.input_value()
    area.fill(text.replace("complaint_resolve_days: 15", "complaint_resolve_days: 10", 1))
    page.click("form.stack button[type=submit] >> text=预览变更")
    expect(page.locator("pre.diff .d-add").first).to_be_visible()
    shot(page, "policy-diff")
    page.fill("input[name=comment]", "缩短投诉办结时限")
    page.click("text=保存策略包")
    expect(page.locator(".alert-good")).to_have_count(1)
    saved = (server.ctx.settings.data_dir / "packs" / "operator.yaml").read_text(encoding="utf-8")
    assert saved == text.replace("complaint_resolve_days: 15", "complaint_resolve_days: 10", 1).replace("\r\n", "\n")
    page.click("nav >> text=合规义务")
    shot(page, "obligations")
    page.click("nav >> text=用户")
    shot(page, "users")
    page.click("nav >> text=操作日志")
    expect(page.locator("td.mono", has_text="policy_save")).to_have_count(1)
    shot(page, "activity")


def test_auditor_dashboard_in_english(server: Server, page: Any) -> None:
    login(page, server, "auditor")
    page.click("text=EN")
    expect(page.locator("h1", has_text="Dashboard")).to_have_count(1)
    assert page.locator("svg.chart rect").count() > 10
    shot(page, "dashboard-en")
