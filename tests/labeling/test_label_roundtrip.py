"""Write → read → same fields, for every format, with and without the explicit label; outputs re-open."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import mutagen
import pytest
from labelfiles import HAS_FFMPEG, MakeFile
from PIL import Image

from hegui.labeling import AigcLabel, Labeler
from hegui.labeling.formats import codec_for

ALL = [".png", ".jpg", ".webp", ".gif", ".tiff", ".wav", ".mp3", ".flac", ".ogg", ".opus", ".mp4", ".mov",
       ".docx", ".pdf", ".md", ".txt"]
NO_FFMPEG_NEEDED = [".png", ".jpg", ".webp", ".gif", ".tiff", ".wav", ".docx", ".pdf", ".md", ".txt"]


def reopen(ext: str, data: bytes, tmp: Path) -> None:
    """The format's own library (and ffprobe/pdfinfo when installed) opens the output."""
    if ext in (".png", ".jpg", ".webp", ".gif", ".tiff"):
        with Image.open(io.BytesIO(data)) as im:
            im.load()
    elif ext in (".wav", ".mp3", ".flac", ".ogg", ".opus", ".mp4", ".mov"):
        assert mutagen.File(io.BytesIO(data)) is not None  # type: ignore[no-untyped-call]
    elif ext == ".docx":
        import docx

        docx.Document(io.BytesIO(data))
    elif ext == ".pdf":
        import pikepdf

        with pikepdf.open(io.BytesIO(data)) as pdf:
            assert len(pdf.pages) == 2
        if shutil.which("pdfinfo"):
            (tmp / "o.pdf").write_bytes(data)
            subprocess.run(["pdfinfo", str(tmp / "o.pdf")], check=True, capture_output=True)
    if HAS_FFMPEG and ext in (".mp3", ".flac", ".ogg", ".opus", ".mp4", ".mov", ".wav"):
        (tmp / f"o{ext}").write_bytes(data)
        subprocess.run(["ffprobe", "-v", "error", str(tmp / f"o{ext}")], check=True, capture_output=True)


@pytest.mark.parametrize("ext", NO_FFMPEG_NEEDED + [e for e in ALL if e not in NO_FFMPEG_NEEDED])
def test_implicit_label_round_trips(ext: str, labeler: Labeler, make_file: MakeFile, tmp_path: Path) -> None:
    src = make_file(ext)
    done = labeler.add(src, f"in{ext}", explicit=False)
    read = labeler.read(done.data, f"out{ext}")
    assert read == done.label
    assert read is not None and read.Label == "1" and read.ContentProducer == "HEGUI-TEST-001"
    assert read.ReservedCode1.startswith("hg1:")
    reopen(ext, done.data, tmp_path)
    result = labeler.verify(done.data, f"out{ext}", check_explicit=False)
    assert (result.integrity, result.verdict, result.problems) == ("valid", "compliant", [])


@pytest.mark.parametrize("ext", [e for e in ALL if e not in (".md", ".txt")])  # text formats go by extension
def test_label_survives_reading_without_a_file_name(ext: str, labeler: Labeler, make_file: MakeFile) -> None:
    src = make_file(ext)
    done = labeler.add(src, f"in{ext}", explicit=False)
    assert codec_for(done.data).name == done.format
    assert labeler.read(done.data) == done.label


@pytest.mark.parametrize("ext", ALL)
def test_explicit_and_implicit_labels_verify_compliant(ext: str, labeler: Labeler, make_file: MakeFile,
                                                       tmp_path: Path) -> None:
    src = make_file(ext)
    if ext in (".mp4", ".mov") and not HAS_FFMPEG:
        pytest.skip("ffmpeg is not installed")
    done = labeler.add(src, f"in{ext}", explicit=True)
    reopen(ext, done.data, tmp_path)
    result = labeler.verify(done.data, f"out{ext}")
    assert result.verdict == "compliant", result.problems
    assert isinstance(result.explicit, dict) and result.explicit["found"] is True


def test_every_produce_id_is_unique(labeler: Labeler, make_file: MakeFile) -> None:
    src = make_file(".png")
    ids = {labeler.add(src, "a.png", explicit=False).label.ProduceID for _ in range(5)}
    assert len(ids) == 5


def test_label_json_is_printable_ascii_with_all_seven_fields(labeler: Labeler, make_file: MakeFile) -> None:
    done = labeler.add(make_file(".png"), "a.png", explicit=False)
    text = done.label.to_json()
    assert all(0x20 <= ord(ch) <= 0x7E for ch in text)
    assert list(json.loads(text)) == ["Label", "ContentProducer", "ProduceID", "ReservedCode1",
                                      "ContentPropagator", "PropagateID", "ReservedCode2"]
    assert AigcLabel.from_json(text) == done.label
