"""The user-facing training opt-out: a user proves who they are with their API key and turns
training use of their conversations off (or back on). The choice itself is kept by
``hegui.privacy.consent`` (default: off); this module only ties it to the key.
"""

from __future__ import annotations

from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.identity import accounts
from hegui.privacy import consent


def _user(ctx: HeguiContext, api_key: str) -> str:
    p = accounts.authenticate(ctx.db, api_key.strip())
    if p is None:
        raise InvalidInputError("this API key is not valid (unknown, revoked or the account is disabled)")
    return p.user_id


def set_training_use(ctx: HeguiContext, api_key: str, on: bool) -> str:
    uid = _user(ctx, api_key)
    consent.set_consent(ctx, uid, on)
    return uid
