"""The library API the gateway calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from labelfiles import image_bytes, picture, wav_bytes

from hegui.errors import InvalidInputError
from hegui.labeling import Labeler, label_image_bytes, read_label, verify
from hegui.policy.pack import PolicyPack
from hegui.privacy.crypto import KeyRing


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_label_image_bytes_gives_both_labels(pack: PolicyPack, keys: KeyRing, fmt: str) -> None:
    out = label_image_bytes(image_bytes(fmt, picture(512, 512)), pack, keys, "GW-1")
    result = verify(out, pack, keys)
    assert result.verdict == "compliant" and result.integrity == "valid"
    assert isinstance(result.explicit, dict) and result.explicit["found"] is True


def test_label_image_bytes_refuses_non_images(pack: PolicyPack, keys: KeyRing) -> None:
    with pytest.raises(InvalidInputError, match="expected an image"):
        label_image_bytes(wav_bytes(), pack, keys, "GW-1")


def test_read_label_from_a_path_and_from_bytes(pack: PolicyPack, keys: KeyRing, tmp_path: Path) -> None:
    done = Labeler(pack, keys, "P").add(image_bytes("PNG"), "a.png", explicit=False)
    path = tmp_path / "a.png"
    path.write_bytes(done.data)
    assert read_label(path) == done.label == read_label(done.data)
    assert read_label(image_bytes("PNG")) is None


def test_missing_file_is_a_clear_error(pack: PolicyPack, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        read_label(tmp_path / "absent.png", pack)
