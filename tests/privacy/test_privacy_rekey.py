"""Key rotation: old records stay readable; ``rekey`` re-seals case data under the new key."""

from __future__ import annotations

from casekit import clock, new_user, record

from hegui.audit import log as audit_log
from hegui.cases.complaints import ComplaintService
from hegui.cases.notify import LogNotifier
from hegui.config import Settings
from hegui.context import HeguiContext
from hegui.privacy.crypto import generate_key
from hegui.privacy.rekey import rekey


def rotated(ctx: HeguiContext, keep_old: bool = True) -> HeguiContext:
    old = ctx.settings.secret_key
    assert old is not None
    s: Settings = ctx.settings.model_copy(update={"secret_key": generate_key(),
                                                  "old_secret_keys": [old] if keep_old else []})
    return HeguiContext(s)


def test_old_records_stay_readable_after_rotation_and_rekey_moves_cases(ctx: HeguiContext) -> None:
    u = new_user(ctx)
    rid = record(ctx, u, text="旧密钥下的对话")
    cid = ComplaintService(ctx, clock(), LogNotifier()).file("pi_rights", "旧密钥下的投诉", "a@example.com")["id"]
    new = rotated(ctx)
    try:
        [rec] = [r for r in audit_log.export(new.db, new.keys, decrypt=True) if r["record_id"] == rid]
        assert rec["content"]["request"][0]["content"] == "旧密钥下的对话"
        res = rekey(new)
        assert res["resealed"]["complaints"] == 2 and res["audit_records_under_old_keys"] == 1
        assert rekey(new)["resealed"]["complaints"] == 0  # idempotent
        only_new = HeguiContext(new.settings.model_copy(update={"old_secret_keys": []}))
        try:
            assert ComplaintService(only_new, clock(), LogNotifier()).get(cid)["description"] == "旧密钥下的投诉"
        finally:
            only_new.close()
        assert audit_log.verify(new.db).ok  # audit content is never re-sealed: its hash is chained
    finally:
        new.close()
