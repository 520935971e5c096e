"""ReservedCode1 binds the label to the content: copies, edits and tampering are caught."""

from __future__ import annotations

import io

import numpy as np
import pytest
from labelfiles import MakeFile, docx_bytes, image_bytes, pdf_bytes, picture, wav_bytes
from PIL import Image

from hegui.labeling import Labeler
from hegui.labeling.formats import codec_for
from hegui.labeling.formats.png import PngCodec
from hegui.privacy.crypto import KeyRing, generate_key


def test_label_copied_onto_another_file_is_invalid(labeler: Labeler) -> None:
    a = labeler.add(image_bytes("PNG", picture(seed=1)), "a.png", explicit=False)
    other = image_bytes("PNG", picture(seed=2))
    forged = PngCodec().write(other, a.label.to_json())
    result = labeler.verify(forged, "forged.png", check_explicit=False)
    assert result.integrity == "invalid" and result.verdict == "noncompliant"
    assert any("ReservedCode1 does not match" in p for p in result.problems)


@pytest.mark.parametrize("field,value", [("ContentProducer", "SOMEONE-ELSE"), ("Label", "2"), ("ProduceID", "0" * 32)])
def test_tampered_field_is_invalid(labeler: Labeler, field: str, value: str) -> None:
    done = labeler.add(image_bytes("PNG"), "a.png", explicit=False)
    tampered = PngCodec().write(done.data, done.label.with_(**{field: value}).to_json())
    assert labeler.verify(tampered, "t.png", check_explicit=False).integrity == "invalid"


def test_edited_pixels_under_an_intact_label_are_invalid(labeler: Labeler) -> None:
    done = labeler.add(image_bytes("PNG"), "a.png", explicit=False)
    im = Image.open(io.BytesIO(done.data)).convert("RGB")
    arr = np.array(im)
    arr[0, 0] = 255 - arr[0, 0]
    edited = PngCodec().write(image_bytes("PNG", Image.fromarray(arr)), done.label.to_json())
    assert labeler.verify(edited, "e.png", check_explicit=False).integrity == "invalid"


OTHER_CONTENT = {
    ".jpg": lambda: image_bytes("JPEG", picture(seed=7)),
    ".wav": lambda: wav_bytes(seconds=0.5),
    ".docx": lambda: docx_bytes(("另一份文件。",)),
    ".pdf": lambda: pdf_bytes(pages=1),
    ".txt": lambda: "另一段文字。\n".encode(),
    ".md": lambda: "# 另一篇\n".encode(),
}


@pytest.mark.parametrize("ext", sorted(OTHER_CONTENT))
def test_label_moved_to_another_file_of_the_same_format_is_invalid(labeler: Labeler, make_file: MakeFile,
                                                                    ext: str) -> None:
    done = labeler.add(make_file(ext), f"a{ext}", explicit=False)
    codec = codec_for(done.data, f"a{ext}")
    forged = codec.write(OTHER_CONTENT[ext](), done.label.to_json(), labeler.keys)
    assert labeler.read(forged, f"f{ext}") == done.label
    assert labeler.verify(forged, f"f{ext}", check_explicit=False).integrity == "invalid"


def test_edited_text_under_an_intact_label_is_invalid(labeler: Labeler) -> None:
    done = labeler.add("原文。\n".encode(), "a.txt", explicit=False)
    edited = done.data.replace("原文".encode(), "改文".encode())
    result = labeler.verify(edited, "a.txt", check_explicit=False)
    assert result.integrity == "invalid"


def test_label_made_with_another_key_is_invalid_and_says_so(labeler: Labeler, make_file: MakeFile) -> None:
    done = labeler.add(make_file(".png"), "a.png", explicit=False)
    stranger = Labeler(labeler.pack, KeyRing(generate_key()))
    result = stranger.verify(done.data, "a.png", check_explicit=False)
    assert result.integrity == "invalid"
    assert any("made with key" in p for p in result.problems)


def test_foreign_reserved_code_is_reported_absent_not_invalid(labeler: Labeler, make_file: MakeFile) -> None:
    foreign = labeler.add(make_file(".png"), "a.png", explicit=False).label.with_(ReservedCode1="vendor-xyz-123")
    data = PngCodec().write(make_file(".png"), foreign.to_json())
    assert labeler.verify(data, "a.png", check_explicit=False).integrity == "absent"


def test_unsigned_labeler_writes_no_reserved_code(pack: object, make_file: MakeFile) -> None:
    from hegui.policy.pack import PolicyPack

    assert isinstance(pack, PolicyPack)
    done = Labeler(pack, None, producer="P").add(make_file(".png"), "a.png", explicit=False)
    assert done.label.ReservedCode1 == ""


def test_non_ascii_reserved_code_is_invalid_not_a_crash(labeler: Labeler, make_file: MakeFile) -> None:
    done = labeler.add(make_file(".png"), "a.png", explicit=False)
    broken = done.label.with_(ReservedCode1=done.label.ReservedCode1[:-1] + "é")
    data = PngCodec().write(make_file(".png"), broken.to_json())
    result = labeler.verify(data, "a.png", check_explicit=False)
    assert result.integrity == "invalid" and result.verdict == "noncompliant"
