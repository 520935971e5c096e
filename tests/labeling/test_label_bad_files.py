"""Truncated, mislabelled-format and already-labelled files give one clear error and no output file."""

from __future__ import annotations

import pytest
from labelfiles import MakeFile

from hegui.errors import HeguiError, InvalidInputError
from hegui.labeling import AlreadyLabelledError, Labeler
from hegui.labeling.formats import BadFileError

TRUNCATABLE = [".png", ".jpg", ".webp", ".gif", ".tiff", ".wav", ".mp3", ".flac", ".ogg", ".opus", ".mp4", ".mov",
               ".docx", ".pdf"]


@pytest.mark.parametrize("ext", TRUNCATABLE)
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_file_is_refused(labeler: Labeler, make_file: MakeFile, ext: str, keep: float) -> None:
    data = make_file(ext)
    with pytest.raises(BadFileError) as err:
        labeler.add(data[: int(len(data) * keep)], f"a{ext}", explicit=False)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("ext", TRUNCATABLE)
def test_file_cut_by_a_few_bytes_is_refused(labeler: Labeler, make_file: MakeFile, ext: str) -> None:
    data = make_file(ext)
    with pytest.raises(BadFileError):
        labeler.add(data[:-3], f"a{ext}", explicit=False)


@pytest.mark.parametrize("claimed,actual", [(".jpg", ".png"), (".png", ".pdf"), (".mp3", ".wav"), (".txt", ".png"),
                                            (".docx", ".pdf"), (".pdf", ".txt")])
def test_file_that_is_not_the_claimed_format_is_refused(labeler: Labeler, make_file: MakeFile, claimed: str,
                                                        actual: str) -> None:
    with pytest.raises(BadFileError, match="not a"):
        labeler.add(make_file(actual), f"a{claimed}", explicit=False)


def test_unknown_bytes_are_refused(labeler: Labeler) -> None:
    with pytest.raises(BadFileError, match="unsupported or unrecognised"):
        labeler.add(bytes(range(256)) * 4)


def test_empty_file_is_refused(labeler: Labeler) -> None:
    with pytest.raises(BadFileError, match="empty"):
        labeler.add(b"", "a.png")


@pytest.mark.parametrize("ext", [".png", ".jpg", ".wav", ".pdf", ".docx", ".md", ".txt", ".gif", ".tiff", ".webp"])
def test_already_labelled_file_is_refused(labeler: Labeler, make_file: MakeFile, ext: str) -> None:
    done = labeler.add(make_file(ext), f"a{ext}", explicit=False)
    with pytest.raises(AlreadyLabelledError, match="already carries an AIGC label"):
        labeler.add(done.data, f"a{ext}", explicit=False)


def test_garbled_label_counts_as_labelled_and_is_reported(labeler: Labeler, make_file: MakeFile) -> None:
    from hegui.labeling.formats.png import PngCodec

    data = PngCodec().write(make_file(".png"), '{"Label":"1","Bogus":"x"}')
    with pytest.raises(AlreadyLabelledError):
        labeler.add(data, "a.png")
    result = labeler.verify(data, "a.png", check_explicit=False)
    assert result.verdict == "not_found" and any("unknown fields" in p for p in result.problems)


def test_two_different_labels_in_one_file_are_a_problem(labeler: Labeler, make_file: MakeFile) -> None:
    from hegui.labeling.formats.png import SIGNATURE, chunks, make_chunk

    done = labeler.add(make_file(".png"), "a.png", explicit=False)
    parts = chunks(done.data)
    other = make_chunk(b"tEXt", b"AIGC\0" + done.label.with_(ProduceID="x" * 32).to_json().encode())
    data = SIGNATURE + make_chunk(*parts[0]) + other + b"".join(make_chunk(t, p) for t, p in parts[1:])
    result = labeler.verify(data, "a.png", check_explicit=False)
    assert result.verdict == "noncompliant"
    assert any("different AIGC labels" in p for p in result.problems)


def test_no_producer_code_is_a_clear_error(pack: object, make_file: MakeFile) -> None:
    from hegui.policy.pack import PolicyPack

    assert isinstance(pack, PolicyPack)
    with pytest.raises(HeguiError, match="producer"):
        Labeler(pack, None).add(make_file(".png"), "a.png")


def test_non_utf8_text_is_refused(labeler: Labeler) -> None:
    with pytest.raises(InvalidInputError, match="UTF-8"):
        labeler.add("中文".encode("gb18030"), "a.txt")
