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
