"""Other tools see the label where the placement rules put it (Pillow, mutagen, pikepdf, ffprobe)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import mutagen
import pikepdf
import pytest
from labelfiles import MakeFile, ffmpeg_make, needs_ffmpeg
from PIL import Image

from hegui.labeling import Labeler


def _text(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".tiff"])
def test_pillow_sees_the_xmp_label(labeler: Labeler, make_file: MakeFile, ext: str) -> None:
    done = labeler.add(make_file(ext), f"a{ext}", explicit=False)
    with Image.open(io.BytesIO(done.data)) as im:
        xmp = _text(im.info.get("xmp") or (im.getxmp() and im.info.get("xmp")))
    assert "http://www.tc260.org.cn/ns/AIGC/1.0/" in xmp and done.label.ProduceID in xmp


def test_pillow_sees_png_text_chunk_and_gif_comment(labeler: Labeler, make_file: MakeFile) -> None:
    png = labeler.add(make_file(".png"), "a.png", explicit=False)
    with Image.open(io.BytesIO(png.data)) as im:
        assert json.loads(_text(im.info["AIGC"])) == png.label.to_dict()
    gif = labeler.add(make_file(".gif"), "a.gif", explicit=False)
    with Image.open(io.BytesIO(gif.data)) as im:
        assert json.loads(_text(im.info["comment"]))["AIGC"] == gif.label.to_dict()


@pytest.mark.parametrize("ext,key", [(".mp3", "TXXX:AIGC"), (".flac", "AIGC"), (".ogg", "AIGC")])
def test_mutagen_sees_the_tag(labeler: Labeler, make_file: MakeFile, ext: str, key: str) -> None:
    done = labeler.add(make_file(ext), f"a{ext}", explicit=False)
    tags = mutagen.File(io.BytesIO(done.data)).tags  # type: ignore[no-untyped-call]
    value = tags[key]
    text = value.text[0] if hasattr(value, "text") else value[0]
    assert json.loads(text) == done.label.to_dict()


def test_pikepdf_sees_info_key_and_xmp(labeler: Labeler, make_file: MakeFile) -> None:
    done = labeler.add(make_file(".pdf"), "a.pdf", explicit=False)
    with pikepdf.open(io.BytesIO(done.data)) as pdf:
        assert json.loads(str(pdf.docinfo["/AIGC"])) == done.label.to_dict()
        assert b"TC260:AIGC" in pdf.Root.Metadata.read_bytes()


def test_docx_custom_property_is_well_formed(labeler: Labeler, make_file: MakeFile) -> None:
    import zipfile
    from xml.etree import ElementTree as ET

    done = labeler.add(make_file(".docx"), "a.docx", explicit=False)
    z = zipfile.ZipFile(io.BytesIO(done.data))
    root = ET.fromstring(z.read("docProps/custom.xml"))
    prop = root[0]
    assert prop.get("name") == "AIGC" and json.loads(prop[0].text or "") == done.label.to_dict()
    assert b"/docProps/custom.xml" in z.read("[Content_Types].xml")
    assert b"custom-properties" in z.read("_rels/.rels")


@needs_ffmpeg
@pytest.mark.parametrize("ext", [".mp4", ".mov", ".mp3", ".flac"])
def test_ffprobe_sees_the_tag(labeler: Labeler, make_file: MakeFile, ext: str, tmp_path: Path) -> None:
    done = labeler.add(make_file(ext), f"a{ext}", explicit=False)
    p = tmp_path / f"o{ext}"
    p.write_bytes(done.data)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=AIGC", "-of", "json", str(p)],
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(json.loads(out)["format"]["tags"]["AIGC"]) == done.label.to_dict()


@needs_ffmpeg
def test_mp4_with_existing_mdta_keys_keeps_them(labeler: Labeler, tmp_path: Path) -> None:
    src = ffmpeg_make(tmp_path, "k.mp4", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1",
                                          "-c:v", "libx264", "-movflags", "use_metadata_tags",
                                          "-metadata", "camera=unit-7"])
    done = labeler.add(src, "k.mp4", explicit=False)
    p = tmp_path / "o.mp4"
    p.write_bytes(done.data)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", str(p)],
                         capture_output=True, text=True, check=True).stdout
    tags = json.loads(out)["format"]["tags"]
    assert tags["camera"] == "unit-7" and json.loads(tags["AIGC"]) == done.label.to_dict()
