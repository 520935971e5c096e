"""The gateway's identity step: real-name state and service-agreement acceptance, checked per request.

Registered as a ``UsageCheck`` (runs after authentication, before moderation and the upstream).
Refusals are 403 ``permission_error`` in OpenAI's error shape and say exactly what to do.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from hegui.context import HeguiContext
from hegui.gateway.errors import ApiError
from hegui.gateway.pipeline import ExchangeState
from hegui.identity.agreements import current_version
from hegui.identity.changes import generation
from hegui.store.models.verification import Agreement, AgreementAcceptance, IdentityProfile

NO_RETRY = {"x-should-retry": "false"}  # the openai SDKs honour this: a refusal is not retried
ADMITTED_CACHE_SECONDS = 2.0
"""A user found admitted (verified, agreement accepted) is not looked up again for this long. Any
change to identity profiles or agreements made through this process drops the cache at once (see
``hegui.identity.changes``); a change made by another process takes effect within this time, as for
API keys. Refusals are never cached, so a user who just verified is admitted on the next request."""
ADMITTED_CACHE_MAX = 100_000


class IdentityGate:
    def __init__(self, ctx: HeguiContext) -> None:
        self.ctx = ctx
        self.policy = ctx.pack.identity
        self._gen = generation(IdentityProfile, Agreement, AgreementAcceptance)
        self._admitted: dict[str, tuple[float, int]] = {}  # user_id -> (expires, generation)
        self._lock = threading.Lock()

    def ready(self, st: ExchangeState) -> bool:
        """True when the step needs no database call (an admitted user still cached)."""
        p = st.principal
        if p is None:
            return True
        hit = self._admitted.get(p.user_id)
        return hit is not None and hit[1] == self._gen.value and hit[0] > time.monotonic()

    def __call__(self, st: ExchangeState) -> None:
        p = st.principal
        if p is None:
            return
        gen = self._gen.value
        hit = self._admitted.get(p.user_id)
        if hit is not None and hit[1] == gen and hit[0] > time.monotonic():
            return
        self._check(p.user_id)
        with self._lock:
            if len(self._admitted) >= ADMITTED_CACHE_MAX:
                self._admitted.clear()
            self._admitted[p.user_id] = (time.monotonic() + ADMITTED_CACHE_SECONDS, gen)

    def _check(self, user_id: str) -> None:
        """Look the user's state up in the database; raises the refusal, returns if admitted."""
        with self.ctx.db.session() as s:
            state = s.scalar(select(IdentityProfile.state).where(IdentityProfile.user_id == user_id)) or "unverified"
            pending = None
            if self.policy.agreement_required:
                cur = current_version(s)
                if cur is not None and s.scalar(select(AgreementAcceptance.id).where(
                        AgreementAcceptance.user_id == user_id, AgreementAcceptance.version == cur)) is None:
                    pending = cur
        if self.policy.real_name_required and state not in self.policy.allowed_states:
            raise ApiError(403, f"real-name verification required (实名认证): this account is {state}; the "
                           f"service is open to accounts that are {', '.join(self.policy.allowed_states)}. Register "
                           "and verify with POST /v1/identity/register, /v1/identity/code and /v1/identity/verify; "
                           "operators attest service accounts with "
                           "`hegui users create --name NAME --verified --reason WHY`",
                           "permission_error", None, "real_name_required", dict(NO_RETRY))
        if pending is not None:
            raise ApiError(403, f"accept the service agreement (服务协议) version {pending} before using the service: "
                           "read it at GET /v1/identity/agreement, then POST /v1/identity/agreement/accept with "
                           f'{{"version": "{pending}"}} (or `hegui identity agreement accept USER_ID {pending}`)',
                           "permission_error", None, "agreement_not_accepted", dict(NO_RETRY))
