"""The user-facing training opt-out: a user proves who they are with their API key and turns
training use of their conversations off (or back on). No row in ``privacy_consents`` means the
default, which is "off"; an explicit choice is stored with its time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.identity import accounts
from hegui.store.models.privacy import PrivacyConsent


def _user(ctx: HeguiContext, api_key: str) -> str:
    p = accounts.authenticate(ctx.db, api_key.strip())
    if p is None:
        raise InvalidInputError("this API key is not valid (unknown, revoked or the account is disabled)")
    return p.user_id


def training_use(ctx: HeguiContext, api_key: str) -> tuple[str, bool]:
    """(user id, whether training use is on) for the key's user."""
    uid = _user(ctx, api_key)
    with ctx.db.session() as s:
        row = s.get(PrivacyConsent, uid)
        return uid, bool(row and row.training_use)


def set_training_use(ctx: HeguiContext, api_key: str, on: bool) -> str:
    uid = _user(ctx, api_key)
    now = datetime.now(UTC)
    with ctx.db.session() as s:
        row = s.get(PrivacyConsent, uid)
        if row is None:
            s.add(PrivacyConsent(user_id=uid, training_use=1 if on else 0, updated_at=now))
        else:
            row.training_use, row.updated_at = (1 if on else 0), now
    return uid
