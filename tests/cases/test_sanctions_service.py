"""The sanctions ladder: automatic steps from violating inputs, staff steps, lifting, expiry."""

from __future__ import annotations

import pytest
from casekit import T0, clock, new_user, record

from hegui.cases.sanctions import SanctionService
from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.usage.clock import ManualClock


def violate(ctx: HeguiContext, s: SanctionService, user: str, c: ManualClock) -> dict[str, object] | None:
    rid = record(ctx, user, "refuse", c())
    return s.record_violation(user, rid, ["A1.4"])


def test_first_violation_of_the_day_is_a_warning(ctx: HeguiContext) -> None:
    c, u = clock(), new_user(ctx)
    s = SanctionService(ctx, c)
    first = violate(ctx, s, u, c)
    assert first is not None and first["step"] == "warn"
    assert s.block_for(u) is None  # a warning limits nothing


def test_three_consecutive_violations_suspend_for_the_pack_days(ctx: HeguiContext) -> None:
    c, u = clock(), new_user(ctx)
    s = SanctionService(ctx, c)
    violate(ctx, s, u, c)
    assert violate(ctx, s, u, c) is None
    third = violate(ctx, s, u, c)
    assert third is not None and third["step"] == "suspend" and "3 consecutive" in str(third["reason"])
    assert len(third["evidence"]) >= 3  # type: ignore[arg-type]
    block = s.block_for(u)
    assert block is not None and block.step == "suspend" and block.until == T0.replace(day=9)  # suspend_days: 7


def test_an_accepted_input_breaks_the_streak(ctx: HeguiContext) -> None:
    c, u = clock(), new_user(ctx)
    s = SanctionService(ctx, c)
    violate(ctx, s, u, c)
    violate(ctx, s, u, c)
    record(ctx, u, "allow", c())
    assert violate(ctx, s, u, c) is None
    assert s.block_for(u) is None


def test_five_violations_in_one_day_suspend(ctx: HeguiContext) -> None:
    c, u = clock(), new_user(ctx)
    s = SanctionService(ctx, c)
    out = []
    for _ in range(5):
        out.append(violate(ctx, s, u, c))
        record(ctx, u, "allow", c())  # never three in a row
        c.advance(minutes=30)
    assert out[-1] is not None and out[-1]["step"] == "suspend" and "5 violating inputs today" in str(out[-1]["reason"])


def test_violations_on_different_days_do_not_add_up(ctx: HeguiContext) -> None:
    c, u = clock(), new_user(ctx)
    s = SanctionService(ctx, c)
    for _ in range(4):
        violate(ctx, s, u, c)
        record(ctx, u, "allow", c())
    c.advance(days=1)
    assert violate(ctx, s, u, c) is not None  # a new day's first: a warning, not a suspension
    assert s.block_for(u) is None


def test_suspension_expires_and_a_repeat_terminates(ctx: HeguiContext) -> None:
    c, u = clock(), new_user(ctx)
    s = SanctionService(ctx, c)
    for _ in range(3):
        violate(ctx, s, u, c)
    c.advance(days=8)
    assert s.block_for(u) is None
    for _ in range(3):
        last = violate(ctx, s, u, c)
    assert last is not None and last["step"] == "terminate"
    c.advance(days=3650)
    block = s.block_for(u)
    assert block is not None and block.step == "terminate" and block.until is None


def test_the_same_record_is_counted_once(ctx: HeguiContext) -> None:
    c, u = clock(), new_user(ctx)
    s = SanctionService(ctx, c)
    rid = record(ctx, u, "refuse", c())
    assert s.record_violation(u, rid, ["A1.4"]) is not None
    assert s.record_violation(u, rid, ["A1.4"]) is None


def test_staff_restrict_blocks_only_the_restricted_functions(ctx: HeguiContext) -> None:
    c, u = clock(), new_user(ctx)
    s = SanctionService(ctx, c)
    s.apply(u, "restrict", "abuse of the embeddings API", "staff", days=2)
    b = s.block_for(u)
    assert b is not None and b.step == "restrict"
    restricted = list(ctx.pack.sanctions.restricted_functions)
    assert b.stops("embeddings", False, restricted) and b.stops("chat.completions", True, restricted)
    assert not b.stops("chat.completions", False, restricted)


def test_lifting_keeps_the_record_with_its_reason(ctx: HeguiContext) -> None:
    c, u = clock(), new_user(ctx)
    s = SanctionService(ctx, c)
    sid = int(s.apply(u, "suspend", "manual", "staff")["id"])
    lifted = s.lift(sid, "appeal HG1 upheld", "compliance")
    assert lifted["lifted_at"] is not None and "appeal HG1 upheld" in str(lifted["lift_reason"])
    assert s.block_for(u) is None and len(s.history(u)) == 1
    with pytest.raises(InvalidInputError, match="already lifted"):
        s.lift(sid, "again", "compliance")


@pytest.mark.parametrize(("step", "reason", "msg"), [("ban", "x", "step"), ("warn", " ", "reason")])
def test_bad_staff_steps_are_refused(ctx: HeguiContext, step: str, reason: str, msg: str) -> None:
    with pytest.raises(InvalidInputError, match=msg):
        SanctionService(ctx).apply(new_user(ctx), step, reason, "staff")
