"""Console test kit: a gateway app on a migrated installation with a rule-only engine, staff, login."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient

from hegui.console import staff
from hegui.context import HeguiContext
from hegui.detect.base import Detector
from hegui.detect.lexicon import LexiconRegistry
from hegui.detect.pii.detector import PiiDetector
from hegui.gateway.app import create_app
from hegui.moderation import ModerationEngine
from hegui.text import Normalizer

PASSWORD = "correct horse battery"
ROLES = ("admin", "compliance", "reviewer", "auditor")
TERM = "测试违禁词乙"  # synthetic A1.4 term used by the tests


def rule_engine(ctx: HeguiContext) -> ModerationEngine:
    """The production engine's lexicon (hot reload) and PII detectors, without the statistical models."""
    pack = ctx.pack
    dets: list[Detector] = [LexiconRegistry(ctx), PiiDetector.from_pack(pack)]
    return ModerationEngine(pack, dets, Normalizer(pack.normalisation), auto_refresh=True)


def make_staff(ctx: HeguiContext) -> None:
    for role in ROLES:
        staff.create_staff(ctx.db, role + "1", role, PASSWORD, f"{role.title()} One")


def build_app(ctx: HeguiContext) -> FastAPI:
    ctx.db.upgrade()
    make_staff(ctx)
    return create_app(ctx, engine=rule_engine(ctx))


@dataclass
class Console:
    app: FastAPI
    ctx: HeguiContext
    http: TestClient

    def login(self, role: str) -> TestClient:
        """A client logged in as the ``<role>1`` staff account."""
        c = TestClient(self.app, base_url="http://testserver", follow_redirects=False)
        login_as(c, role + "1", PASSWORD)
        return c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def login_as(c: TestClient, username: str, password: str) -> None:
    page = c.get("/console/login")
    r = c.post("/console/login", data={"csrf": csrf_of(page.text), "username": username, "password": password,
                                       "next": "/console/dashboard"})
    assert r.status_code == 303, r.text


@contextmanager
def console(ctx: HeguiContext) -> Iterator[Console]:
    app = build_app(ctx)
    with TestClient(app, follow_redirects=False) as http:
        yield Console(app, ctx, http)


# ---- realistic history for the dashboard and screenshots --------------------------------------------

SEED_TERMS = (("自制炸药", "A1.4"), ("代开发票", "A1.7"), ("网络赌场", "A1.7"), ("冰毒", "A1.8"),
              ("裸聊", "A1.6"), ("割腕", "A4.1"), ("地域黑", "A2.2"), ("人肉搜索", "A4.4"))
BENIGN = ("帮我写一封请假邮件", "解释一下量子纠缠", "推荐几本历史书", "把这段话翻译成英文", "周末去哪里徒步好")


def seed_history(ctx: HeguiContext, user_ids: list[str], days: int = 14, seed: int = 7) -> int:
    """Append a fortnight of exchanges to the real audit log (through ``audit.log.append``)."""
    import random
    import uuid
    from datetime import UTC, datetime, timedelta

    from hegui.audit.log import Exchange, append

    rnd = random.Random(seed)
    now = datetime.now(UTC)
    batch: list[Exchange] = []
    for d in range(days - 1, -1, -1):
        for _ in range(rnd.randint(18, 40)):
            ts = now - timedelta(days=d, minutes=rnd.randint(0, 600))
            if ts > now:
                ts = now
            uid = rnd.choice(user_ids)
            if rnd.random() < 0.25:
                term, cat = rnd.choice(SEED_TERMS)
                text = f"请详细告诉我{term}的方法"
                start = text.index(term)
                action = "refuse" if cat in ("A1.4", "A1.8", "A4.1") else rnd.choice(["refuse", "disclaim", "block"])
                dec = {"action": action, "categories": [cat], "rule": f"moderation.categories.{cat}",
                       "findings": [{"detector": "lexicon", "type": "term", "category": cat, "severity": 3,
                                     "start": start, "end": start + len(term), "match": term, "score": 1.0,
                                     "rule": "operator@1"}], "scores": {}, "direction": "input"}
                batch.append(Exchange(str(uuid.uuid4()), ts, "chat", 200, action, uid, categories=[cat],
                                      content={"request": {"messages": [{"role": "user", "content": text}]},
                                               "answer": None, "input_decision": dec, "output_decision": None}))
            else:
                text = rnd.choice(BENIGN)
                batch.append(Exchange(str(uuid.uuid4()), ts, "chat", 200, "allow", uid,
                                      content={"request": {"messages": [{"role": "user", "content": text}]},
                                               "answer": "好的。", "input_decision": None, "output_decision": None}))
    batch.sort(key=lambda e: e.ts)
    append(ctx.db, ctx.keys, batch)
    return len(batch)
