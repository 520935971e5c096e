"""Accounts and API keys on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hegui.context import HeguiContext
from hegui.errors import InvalidInputError, NotFoundError
from hegui.identity import accounts
from hegui.store.models.identity import ApiKey


def test_created_key_authenticates_as_its_user(ctx: HeguiContext) -> None:
    issued = accounts.create_user(ctx.db, "Alice")
    p = accounts.authenticate(ctx.db, issued.api_key)
    assert p is not None and p.user_id == issued.user_id and p.name == "Alice" and p.role == "user"


def test_key_is_stored_only_as_hash(ctx: HeguiContext) -> None:
    issued = accounts.create_user(ctx.db, "Bob")
    with ctx.db.session() as s:
        row = s.scalars(select(ApiKey).where(ApiKey.user_id == issued.user_id)).one()
        stored = [str(v) for v in (row.key_id, row.key_hash, row.user_id)]
    assert issued.api_key not in stored
    assert all(issued.api_key.split("-", 2)[2] not in v for v in stored)
    assert row.key_hash == accounts.hash_key(issued.api_key)


@pytest.mark.parametrize("bad", ["", "sk-abc", "hg-", "hg-short-x", "hg-0123456789ab-wrongsecret"])
def test_malformed_or_wrong_key_is_rejected(ctx: HeguiContext, bad: str) -> None:
    accounts.create_user(ctx.db, "Carol")
    assert accounts.authenticate(ctx.db, bad) is None


def test_wrong_secret_with_real_key_id_is_rejected(ctx: HeguiContext) -> None:
    issued = accounts.create_user(ctx.db, "Dan")
    forged = f"hg-{issued.key_id}-{'x' * 32}"
    assert accounts.authenticate(ctx.db, forged) is None


def test_disabled_user_key_stops_working(ctx: HeguiContext) -> None:
    issued = accounts.create_user(ctx.db, "Eve")
    info = accounts.disable_user(ctx.db, issued.user_id)
    assert info.status == "disabled"
    assert accounts.authenticate(ctx.db, issued.api_key) is None


def test_rotation_revokes_old_key_and_new_one_works(ctx: HeguiContext) -> None:
    old = accounts.create_user(ctx.db, "Frank")
    new = accounts.rotate_key(ctx.db, old.user_id)
    assert accounts.authenticate(ctx.db, old.api_key) is None
    p = accounts.authenticate(ctx.db, new.api_key)
    assert p is not None and p.user_id == old.user_id
    assert accounts.get_user(ctx.db, old.user_id).key_ids == (new.key_id,)


def test_unknown_role_and_empty_name_are_refused(ctx: HeguiContext) -> None:
    with pytest.raises(InvalidInputError, match="unknown role"):
        accounts.create_user(ctx.db, "G", role="root")
    with pytest.raises(InvalidInputError, match="empty"):
        accounts.create_user(ctx.db, "   ")


def test_unknown_user_is_not_found(ctx: HeguiContext) -> None:
    with pytest.raises(NotFoundError):
        accounts.disable_user(ctx.db, "u_nobody")
    with pytest.raises(NotFoundError):
        accounts.rotate_key(ctx.db, "u_nobody")


def test_list_shows_roles_and_status(ctx: HeguiContext) -> None:
    a = accounts.create_user(ctx.db, "Admin", role="admin")
    b = accounts.create_user(ctx.db, "User")
    accounts.disable_user(ctx.db, b.user_id)
    by_id = {u.id: u for u in accounts.list_users(ctx.db)}
    assert by_id[a.user_id].role == "admin" and by_id[a.user_id].status == "active"
    assert by_id[b.user_id].status == "disabled"
