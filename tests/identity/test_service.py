"""Registration, one-time codes, identity match, attestation: storage sealed, bad input changes nothing."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from idkit import make_id
from sqlalchemy import func, select, text
from usage_kit import CapturingSender

from hegui.audit.log import export
from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.identity.service import ConflictError, IdentityService, RateLimitedError
from hegui.identity.verifiers import VerifierResult
from hegui.store.models.identity import User
from hegui.store.models.verification import IdentityProfile
from hegui.usage.clock import ManualClock

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PHONE = "13912345678"


class FixedVerifier:
    def __init__(self, outcome: str) -> None:
        self.outcome = outcome
        self.calls: list[tuple[str, str, str, str | None]] = []

    def verify(self, name: str, doc_type: str, number: str, mobile: str | None) -> VerifierResult:
        self.calls.append((name, doc_type, number, mobile))
        return VerifierResult(self.outcome, "test", "ref-1")  # type: ignore[arg-type]


def _svc(ctx: HeguiContext, outcome: str = "match") -> tuple[IdentityService, CapturingSender, ManualClock]:
    clock, sms = ManualClock(T0), CapturingSender()
    return IdentityService(ctx, sender=sms, verifier=FixedVerifier(outcome), clock=clock), sms, clock


def _users(ctx: HeguiContext) -> int:
    with ctx.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(User)) or 0)


def test_registration_seals_personal_data(ctx: HeguiContext) -> None:
    svc, _, _ = _svc(ctx)
    number = make_id("19900101")
    reg = svc.register("张三", "resident_id", number, PHONE)
    assert reg.status.state == "unverified" and reg.issued.api_key.startswith("hg-")
    with ctx.db.engine.connect() as c:
        row = c.execute(text("SELECT * FROM identity_profiles")).mappings().one()
        users = c.execute(text("SELECT name FROM users")).scalars().all()
    dump = " ".join(str(v) for v in row.values()) + " ".join(users)
    assert number not in dump and PHONE not in dump and "张三" not in dump
    assert row["doc_hash"] == svc.doc_hash("resident_id", number)
    assert row["birth_date"] is not None


def test_duplicate_document_is_refused_and_nothing_is_written(ctx: HeguiContext) -> None:
    svc, _, _ = _svc(ctx)
    svc.register("张三", "resident_id", make_id(), PHONE)
    with pytest.raises(ConflictError, match="already backs 1 account"):
        svc.register("张三", "resident_id", make_id(), "13912345679")
    assert _users(ctx) == 1


def test_accounts_per_document_from_the_pack(ctx: HeguiContext) -> None:
    pack = ctx.pack
    ctx.__dict__["pack"] = pack.model_copy(update={"identity": pack.identity.model_copy(
        update={"accounts_per_document": 2})})
    svc, _, _ = _svc(ctx)
    svc.register("张三", "resident_id", make_id(), PHONE)
    svc.register("张三", "resident_id", make_id(), PHONE)
    with pytest.raises(ConflictError, match="allows 2 per document"):
        svc.register("张三", "resident_id", make_id(), PHONE)


def test_invalid_id_changes_nothing(ctx: HeguiContext) -> None:
    svc, _, _ = _svc(ctx)
    with pytest.raises(InvalidInputError, match="impossible"):
        svc.register("张三", "resident_id", make_id("20100230"), PHONE)
    assert _users(ctx) == 0


def test_code_confirms_mobile_and_match_verifies(ctx: HeguiContext) -> None:
    svc, sms, _ = _svc(ctx)
    uid = svc.register("张三", "resident_id", make_id(), PHONE).issued.user_id
    svc.send_code(uid)
    assert sms.sent[-1][0] == PHONE
    st = svc.confirm_code(uid, sms.last_code)
    assert (st.state, st.mobile_verified, st.method) == ("verified", True, "test")
    assert svc.verifier.calls == [("张三", "resident_id", make_id(), PHONE)]  # type: ignore[attr-defined]


def test_mismatch_rejects_and_pending_waits_for_a_decision(ctx: HeguiContext) -> None:
    svc, sms, _ = _svc(ctx, "mismatch")
    uid = svc.register("张三", "resident_id", make_id(), PHONE).issued.user_id
    svc.send_code(uid)
    assert svc.confirm_code(uid, sms.last_code).state == "rejected"
    svc2, sms2, _ = _svc(ctx, "pending")
    uid2 = svc2.register("李四", "passport", "E12345678", PHONE).issued.user_id
    svc2.send_code(uid2)
    assert svc2.confirm_code(uid2, sms2.last_code).state == "pending"
    st = svc2.decide(uid2, True, "reviewer", "documents seen in person")
    assert st.state == "verified" and st.verified_by == "reviewer"
    assert [r["endpoint"] for r in export(ctx.db, ctx.keys)] == ["identity.decide"]


def test_expired_code_is_refused_and_state_unchanged(ctx: HeguiContext) -> None:
    svc, sms, clock = _svc(ctx)
    uid = svc.register("张三", "resident_id", make_id(), PHONE).issued.user_id
    svc.send_code(uid)
    clock.advance(seconds=ctx.pack.identity.code_ttl_seconds)
    with pytest.raises(InvalidInputError, match="expired"):
        svc.confirm_code(uid, sms.last_code)
    assert svc.status(uid).state == "unverified"


def test_wrong_code_is_refused_and_counted(ctx: HeguiContext) -> None:
    svc, sms, _ = _svc(ctx)
    uid = svc.register("张三", "resident_id", make_id(), PHONE).issued.user_id
    svc.send_code(uid)
    wrong = f"{(int(sms.last_code) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidInputError, match="4 attempt"):
        svc.confirm_code(uid, wrong)
    assert svc.status(uid).state == "unverified"
    assert svc.confirm_code(uid, sms.last_code).state == "verified"


def test_code_requests_are_rate_limited_per_hour(ctx: HeguiContext) -> None:
    svc, sms, clock = _svc(ctx)
    uid = svc.register("张三", "resident_id", make_id(), PHONE).issued.user_id
    for _ in range(ctx.pack.identity.code_requests_per_hour):
        svc.send_code(uid)
        clock.advance(minutes=1)
    with pytest.raises(RateLimitedError, match="at most 5 per hour") as exc:
        svc.send_code(uid)
    assert exc.value.retry_at == T0.replace(hour=3)
    assert len(sms.sent) == 5
    clock.now = T0.replace(hour=3, second=1)
    svc.send_code(uid)


def test_operator_attestation_records_who_when_why_and_is_audited(ctx: HeguiContext) -> None:
    svc, _, _ = _svc(ctx)
    from hegui.identity.accounts import create_user

    uid = create_user(ctx.db, "batch job").user_id
    st = svc.attest(uid, "ops-alice", "service account for nightly reports", date(2011, 1, 1))
    assert (st.state, st.method, st.verified_by, st.reason, st.decided_at) == (
        "verified", "operator-attested", "ops-alice", "service account for nightly reports", T0)
    assert st.age(date(2026, 3, 2)) == 15
    recs = list(export(ctx.db, ctx.keys, decrypt=True))
    assert [(r["endpoint"], r["user_id"]) for r in recs] == [("identity.attest", uid)]
    assert recs[0]["content"]["by"] == "ops-alice"
    with ctx.db.session() as s:
        assert s.get(IdentityProfile, uid) is not None


def test_attestation_needs_a_reason(ctx: HeguiContext) -> None:
    svc, _, _ = _svc(ctx)
    from hegui.identity.accounts import create_user

    uid = create_user(ctx.db, "batch job").user_id
    with pytest.raises(InvalidInputError, match="reason"):
        svc.attest(uid, "ops", " ")
    assert svc.status(uid).state == "unverified"


def test_full_flow_never_logs_the_id_or_phone(ctx: HeguiContext, caplog: pytest.LogCaptureFixture) -> None:
    from hegui.identity.sms import ConsoleSmsSender

    caplog.set_level(logging.DEBUG)
    clock = ManualClock(T0)
    svc = IdentityService(ctx, sender=ConsoleSmsSender(), clock=clock)
    number = make_id("19900101")
    uid = svc.register("王五", "resident_id", number, PHONE).issued.user_id
    svc.send_code(uid)
    code = caplog.records[-1].getMessage().split(": ")[1].split(" ")[0]
    with pytest.raises(ConflictError):
        svc.register("王五", "resident_id", number, PHONE)
    assert svc.confirm_code(uid, code).state == "verified"
    text_all = "\n".join(r.getMessage() for r in caplog.records)
    assert uid in text_all  # the console sender did log (the code, with the user id only)
    for secret in (number, PHONE, PHONE[-4:] + " ", "王五"):
        assert secret not in text_all


def test_passport_holder_declares_a_birth_date(ctx: HeguiContext) -> None:
    svc, _, _ = _svc(ctx)
    st = svc.register("李四", "passport", "E12345678", PHONE, birth_date="2012-05-01").status
    assert (st.birth_date, st.birth_source) == (date(2012, 5, 1), "declared")
    rid = svc.register("张三", "resident_id", make_id("19900101"), PHONE, birth_date="2012-05-01").status
    assert (rid.birth_date, rid.birth_source) == (date(1990, 1, 1), "document")  # the document wins
