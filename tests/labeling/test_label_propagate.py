"""The propagator role: a platform adds its fields; the producer's stay intact and still verify."""

from __future__ import annotations

import pytest
from labelfiles import MakeFile

from hegui.errors import InvalidInputError
from hegui.labeling import Labeler
from hegui.policy.pack import PolicyPack
from hegui.privacy.crypto import KeyRing, generate_key


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".gif", ".tiff", ".wav", ".mp3", ".flac", ".ogg", ".mp4",
                                 ".docx", ".pdf", ".md", ".txt"])
def test_propagation_keeps_producer_fields_and_integrity(labeler: Labeler, make_file: MakeFile, ext: str) -> None:
    made = labeler.add(make_file(ext), f"a{ext}", explicit=False)
    shared = labeler.propagate(made.data, "PLATFORM-7", f"a{ext}")
    got = labeler.read(shared.data, f"a{ext}")
    assert got is not None
    for field in ("Label", "ContentProducer", "ProduceID", "ReservedCode1"):
        assert getattr(got, field) == getattr(made.label, field)
    assert got.ContentPropagator == "PLATFORM-7" and len(got.PropagateID) == 32
    assert got.ReservedCode2.startswith("hg1:")
    result = labeler.verify(shared.data, f"a{ext}", check_explicit=False)
    assert (result.integrity, result.verdict) == ("valid", "compliant")


def test_platform_with_its_own_key_keeps_producer_integrity_checkable(pack: PolicyPack, labeler: Labeler,
                                                                      make_file: MakeFile) -> None:
    made = labeler.add(make_file(".png"), "a.png", explicit=False)
    platform = Labeler(pack, KeyRing(generate_key()))
    shared = platform.propagate(made.data, "PLATFORM-8", "a.png")
    assert labeler.verify(shared.data, "a.png", check_explicit=False).integrity == "valid"


def test_unlabelled_file_is_refused_unless_asked(labeler: Labeler, make_file: MakeFile) -> None:
    with pytest.raises(InvalidInputError, match="--unlabelled"):
        labeler.propagate(make_file(".png"), "PLATFORM-7", "a.png")


@pytest.mark.parametrize("mode,value", [("possibly", "2"), ("suspected", "3")])
def test_unlabelled_file_gets_possibly_or_suspected(labeler: Labeler, make_file: MakeFile, mode: str,
                                                    value: str) -> None:
    shared = labeler.propagate(make_file(".jpg"), "PLATFORM-7", "a.jpg", unlabelled=mode)  # type: ignore[arg-type]
    got = labeler.read(shared.data, "a.jpg")
    assert got is not None and got.Label == value and got.ContentProducer == "" and got.ContentPropagator
    result = labeler.verify(shared.data, "a.jpg")
    assert result.verdict == "compliant" and result.integrity == "absent"


def test_tampered_propagator_field_is_reported(labeler: Labeler, make_file: MakeFile) -> None:
    from hegui.labeling.formats.png import PngCodec

    made = labeler.add(make_file(".png"), "a.png", explicit=False)
    shared = labeler.propagate(made.data, "PLATFORM-7", "a.png")
    forged = PngCodec().write(shared.data, shared.label.with_(ContentPropagator="OTHER").to_json())
    result = labeler.verify(forged, "a.png", check_explicit=False)
    assert result.verdict == "noncompliant" and any("ReservedCode2" in p for p in result.problems)
