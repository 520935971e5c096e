"""Fixtures for the labelling tests (file makers live in labelfiles.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from labelfiles import MakeFile, make_file_bytes

from hegui.labeling import Labeler
from hegui.policy.pack import PolicyPack, load_pack
from hegui.privacy.crypto import KeyRing, generate_key


@pytest.fixture(scope="session")
def pack() -> PolicyPack:
    return load_pack("cn-genai")


@pytest.fixture(scope="session")
def keys() -> KeyRing:
    return KeyRing(generate_key())


@pytest.fixture
def labeler(pack: PolicyPack, keys: KeyRing) -> Labeler:
    return Labeler(pack, keys, producer="HEGUI-TEST-001")


@pytest.fixture
def make_file(tmp_path: Path) -> MakeFile:
    """Bytes of a fresh, unlabelled file for a format (the extension decides)."""
    return lambda ext: make_file_bytes(ext, tmp_path)
