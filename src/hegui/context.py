"""The running system's shared parts (settings, policy pack, database, keys), built lazily once.

The CLI and the gateway each make one ``HeguiContext`` and hand it to domain services.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from hegui.config import Settings, load_settings
from hegui.policy.pack import PolicyPack, load_pack
from hegui.privacy.crypto import KeyRing, load_or_create_key_file
from hegui.store.db import Database


class HeguiContext:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def load(cls, config_file: str | Path | None = None) -> HeguiContext:
        return cls(load_settings(config_file))

    @cached_property
    def pack(self) -> PolicyPack:
        return load_pack(self.settings.policy_pack)

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.effective_database_url)

    @cached_property
    def keys(self) -> KeyRing:
        current = self.settings.secret_key or load_or_create_key_file(self.settings.data_dir / "secret.key")
        return KeyRing(current, self.settings.old_secret_keys)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
