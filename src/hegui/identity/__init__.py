"""Identity: accounts, API keys and roles (real-name verification and minors build on these)."""

from hegui.identity.accounts import (
    ROLES,
    IssuedKey,
    Principal,
    UserInfo,
    authenticate,
    create_user,
    disable_user,
    list_users,
    rotate_key,
)

__all__ = ["ROLES", "IssuedKey", "Principal", "UserInfo", "authenticate", "create_user", "disable_user",
           "list_users", "rotate_key"]
