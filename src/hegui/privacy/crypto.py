"""Encryption of personal data at rest (AES-GCM) and keyed hashes (HMAC-SHA256) for look-ups.

A ``KeyRing`` holds the current key and older ones: new data is sealed with the current key,
old records stay readable after rotation. Sealed values are ``v1.<key id>.<base64(nonce|ct)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hegui.errors import ConfigError, HeguiError

KEY_BYTES = 32


class DecryptionError(HeguiError):
    """A sealed value could not be opened (wrong key, tampered, or not a sealed value)."""


def generate_key() -> str:
    """A fresh base64 master key."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def _decode_key(b64: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where}: not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise ConfigError(f"{where}: expected a base64 key of {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def _key_id(raw: bytes) -> str:
    return hashlib.sha256(b"hegui-key-id" + raw).hexdigest()[:8]


class KeyRing:
    """The current data key plus previous ones (for reading only)."""

    def __init__(self, current_b64: str, previous_b64: list[str] | None = None) -> None:
        cur = _decode_key(current_b64, "secret_key")
        self._current_id = _key_id(cur)
        self._keys: dict[str, bytes] = {self._current_id: cur}
        for i, old in enumerate(previous_b64 or []):
            raw = _decode_key(old, f"old_secret_keys.{i}")
            self._keys.setdefault(_key_id(raw), raw)
        # Sub-keys: never use the master key for two purposes.
        self._enc = {kid: hmac.new(k, b"hegui/encrypt", hashlib.sha256).digest() for kid, k in self._keys.items()}
        self._mac = hmac.new(cur, b"hegui/lookup-hmac", hashlib.sha256).digest()
        self._sign = hmac.new(cur, b"hegui/sign", hashlib.sha256).digest()

    @property
    def current_key_id(self) -> str:
        return self._current_id

    def encrypt(self, plaintext: str | bytes, associated: bytes = b"") -> str:
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(12)
        ct = AESGCM(self._enc[self._current_id]).encrypt(nonce, data, associated)
        return f"v1.{self._current_id}.{base64.b64encode(nonce + ct).decode('ascii')}"

    def decrypt_bytes(self, sealed: str, associated: bytes = b"") -> bytes:
        try:
            version, kid, body = sealed.split(".", 2)
            blob = base64.b64decode(body, validate=True)
        except (ValueError, binascii.Error):
            raise DecryptionError("not a sealed value") from None
        if version != "v1":
            raise DecryptionError(f"unknown sealed-value version {version!r}")
        key = self._enc.get(kid)
        if key is None:
            raise DecryptionError(f"sealed with key {kid}, which this key ring does not hold")
        try:
            return AESGCM(key).decrypt(blob[:12], blob[12:], associated)
        except InvalidTag:
            raise DecryptionError("sealed value failed authentication (tampered or wrong key)") from None

    def decrypt(self, sealed: str, associated: bytes = b"") -> str:
        return self.decrypt_bytes(sealed, associated).decode("utf-8")

    def lookup_hash(self, value: str) -> str:
        """Keyed hash for uniqueness look-ups of personal data (ID numbers, phones)."""
        return hmac.new(self._mac, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def sign(self, data: bytes) -> str:
        """An integrity tag (HMAC-SHA256, hex) under the current key."""
        return hmac.new(self._sign, data, hashlib.sha256).hexdigest()

    def needs_rotation(self, sealed: str) -> bool:
        return not sealed.startswith(f"v1.{self._current_id}.")


def load_or_create_key_file(path: Path) -> str:
    """Read the embedded-default key file, creating it (mode 0600) on first use."""
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def reseal(keys: KeyRing, sealed: str, associated: bytes = b"") -> str | None:
    """``sealed`` re-encrypted under the current key, or None when it already is (key rotation)."""
    if not keys.needs_rotation(sealed):
        return None
    return keys.encrypt(keys.decrypt_bytes(sealed, associated), associated)
