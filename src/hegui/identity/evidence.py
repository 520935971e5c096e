"""Evidence for O4 (real identity) and O5 (service agreement): live counts from the identity tables."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from hegui.obligations import Evidence, evidence_for
from hegui.store.models.identity import User
from hegui.store.models.verification import Agreement, AgreementAcceptance, IdentityProfile

if TYPE_CHECKING:
    from hegui.context import HeguiContext


@evidence_for("identity.real_name")
def real_name_evidence(ctx: HeguiContext) -> Evidence:
    pol = ctx.pack.identity
    try:
        with ctx.db.session() as s:
            users = s.scalar(select(func.count()).select_from(User).where(User.status == "active")) or 0
            by_state: dict[str, int] = {str(st): int(n) for st, n in s.execute(
                select(IdentityProfile.state, func.count()).group_by(IdentityProfile.state))}
            by_method: dict[str, int] = {str(m): int(n) for m, n in s.execute(
                select(IdentityProfile.method, func.count()).where(IdentityProfile.state == "verified")
                .group_by(IdentityProfile.method))}
    except Exception as err:
        return Evidence("identity.real_name", "failing", f"identity tables unreadable ({type(err).__name__})")
    if not pol.real_name_required:
        return Evidence("identity.real_name", "not_configured",
                        f"real_name_required is off in pack {ctx.pack.name} (final Measures dropped the general duty; "
                        "switch it on for deep-synthesis services)")
    matcher = "HTTP identity verification service" if os.environ.get("HEGUI_VERIFIER_URL") else \
        "offline format checks only (no authoritative identity match configured)"
    verified = by_state.get("verified", 0)
    detail = (f"enforced at the gateway for states {', '.join(pol.allowed_states)}; {users} active account(s), "
              f"{verified} verified ({', '.join(f'{m}: {n}' for m, n in sorted(by_method.items())) or '-'}), "
              f"{by_state.get('pending', 0)} pending, {by_state.get('rejected', 0)} rejected; identity match: "
              f"{matcher}; ID and mobile sealed (AES-GCM) with HMAC look-ups; {pol.accounts_per_document} "
              f"account(s) per document — {pol.clause}")
    return Evidence("identity.real_name", "working" if verified else "configured", detail)


@evidence_for("identity.agreement")
def agreement_evidence(ctx: HeguiContext) -> Evidence:
    pol = ctx.pack.identity
    try:
        with ctx.db.session() as s:
            cur = s.scalars(select(Agreement).order_by(Agreement.published_at.desc(), Agreement.id.desc())
                            .limit(1)).first()
            accepted = 0
            if cur is not None:
                accepted = s.scalar(select(func.count()).select_from(AgreementAcceptance)
                                    .where(AgreementAcceptance.version == cur.version)) or 0
            active = s.scalar(select(func.count()).select_from(User).where(User.status == "active")) or 0
    except Exception as err:
        return Evidence("identity.agreement", "failing", f"agreement tables unreadable ({type(err).__name__})")
    if not pol.agreement_required:
        return Evidence("identity.agreement", "not_configured", f"agreement_required is off in pack {ctx.pack.name}")
    if cur is None:
        return Evidence("identity.agreement", "not_configured",
                        "no service agreement published: `hegui identity agreement publish --version V --zh F --en F`")
    return Evidence("identity.agreement", "working" if accepted else "configured",
                    f"agreement {cur.version} (zh/en) published {cur.published_at:%Y-%m-%d}; accepted by {accepted} of "
                    f"{active} active account(s); the gateway refuses accounts that have not accepted it (Art 9)")
