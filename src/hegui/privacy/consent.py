"""Training-use consent per user (TC260-003 §7: opt-out within a few clicks). Default: off."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hegui.cases.common import Clock, iso, utc_now
from hegui.store.models.privacy import PrivacyConsent

if TYPE_CHECKING:
    from hegui.context import HeguiContext


def get_consent(ctx: HeguiContext, user_id: str) -> dict[str, Any]:
    with ctx.db.session() as s:
        row = s.get(PrivacyConsent, user_id)
        if row is None:
            return {"user_id": user_id, "training_use": False, "updated_at": None, "default": True}
        return {"user_id": user_id, "training_use": bool(row.training_use), "updated_at": iso(row.updated_at),
                "default": False}


def set_consent(ctx: HeguiContext, user_id: str, training_use: bool, clock: Clock = utc_now) -> dict[str, Any]:
    with ctx.db.session() as s:
        row = s.get(PrivacyConsent, user_id)
        if row is None:
            row = PrivacyConsent(user_id=user_id, training_use=int(training_use), updated_at=clock())
            s.add(row)
        else:
            row.training_use, row.updated_at = int(training_use), clock()
    return get_consent(ctx, user_id)


def training_allowed(ctx: HeguiContext, user_id: str) -> bool:
    """What a training-data export must ask before using a user's conversations."""
    return bool(get_consent(ctx, user_id)["training_use"])
