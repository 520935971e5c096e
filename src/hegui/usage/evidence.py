"""Evidence for O6 (prevent over-reliance and addiction; minors): configuration and live usage counters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from hegui.obligations import Evidence, evidence_for
from hegui.store.models.usage import GuardianControl, UsageDaily
from hegui.store.models.verification import IdentityProfile

if TYPE_CHECKING:
    from hegui.context import HeguiContext


@evidence_for("usage.anti_addiction")
def anti_addiction_evidence(ctx: HeguiContext) -> Evidence:
    m = ctx.pack.minors
    where = "Redis (shared by workers)" if ctx.settings.redis_url else "the database"
    try:
        with ctx.db.session() as s:
            days = s.scalar(select(func.count()).select_from(UsageDaily)) or 0
    except Exception as err:
        return Evidence("usage.anti_addiction", "failing", f"usage tables unreadable ({type(err).__name__})")
    rest = f"rest reminder after {m.adult_rest_reminder_minutes} min of continuous use" \
        if m.adult_rest_reminder_minutes else "no adult rest reminder"
    detail = (f"sessions from request activity (gap > {m.session_gap_minutes} min ends one; streams counted to their "
              f"end), daily totals in {where}, {m.timezone}; {rest} (x-hegui-notice header)")
    if ctx.settings.redis_url:
        return Evidence("usage.anti_addiction", "configured", detail)
    return Evidence("usage.anti_addiction", "working" if days else "configured",
                    detail + f"; {days} user-day total(s) recorded")


@evidence_for("usage.minors_mode")
def minors_mode_evidence(ctx: HeguiContext) -> Evidence:
    m = ctx.pack.minors
    try:
        with ctx.db.session() as s:
            with_age = s.scalar(select(func.count()).select_from(IdentityProfile)
                                .where(IdentityProfile.birth_date.is_not(None))) or 0
            guardians = s.scalar(select(func.count()).select_from(GuardianControl)) or 0
    except Exception as err:
        return Evidence("usage.minors_mode", "failing", f"identity/usage tables unreadable ({type(err).__name__})")
    if not m.age_bands and m.curfew is None:
        return Evidence("usage.minors_mode", "not_configured", f"pack {ctx.pack.name} sets no age bands and no curfew")
    bands = ", ".join(f"<{b.under_age}: {b.daily_minutes} min/day" for b in m.age_bands)
    curfew = f"curfew {m.curfew.start:%H:%M}–{m.curfew.end:%H:%M}" if m.curfew else "no curfew"
    overrides = ", ".join(sorted(m.content_overrides)) or "none"
    detail = (f"enforced at the gateway: {bands}; {curfew} ({m.timezone}); stricter content rules for minors: "
              f"{overrides}; {with_age} account(s) with a known age, {guardians} under guardian controls")
    return Evidence("usage.minors_mode", "working" if with_age else "configured", detail)
