from __future__ import annotations

from hegui.context import HeguiContext
from hegui.obligations import _REGISTRY, Evidence, evidence_for, report


def test_unregistered_controls_say_not_implemented(ctx: HeguiContext) -> None:
    rows = {r.id: r for r in report(ctx)}
    assert set(rows) == {f"O{i}" for i in range(1, 16)}
    for row in rows.values():
        for ev in row.controls:
            if ev.control not in _REGISTRY:
                assert ev.status == "not_implemented"


def test_obligation_status_is_its_weakest_control(ctx: HeguiContext) -> None:
    saved = dict(_REGISTRY)
    try:
        evidence_for("gateway.health")(lambda c: Evidence("gateway.health", "working", "ok"))
        rows = {r.id: r for r in report(ctx)}
        assert rows["O9"].status == "working"

        def broken(c: HeguiContext) -> Evidence:
            raise RuntimeError("db gone")

        evidence_for("gateway.health")(broken)
        rows = {r.id: r for r in report(ctx)}
        assert rows["O9"].status == "failing" and "db gone" in rows["O9"].controls[0].detail
    finally:
        _REGISTRY.clear()
        _REGISTRY.update(saved)
