"""The implicit label never changes the picture or the sound: decoded pixels/samples are bit-identical."""

from __future__ import annotations

import io
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from labelfiles import HAS_FFMPEG, MakeFile, image_bytes, needs_ffmpeg, wav_bytes
from PIL import Image, ImageSequence

from hegui.labeling import Labeler


def frames(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as im:
        return [np.array(f.convert("RGBA")) for f in ImageSequence.Iterator(im)]


@pytest.mark.parametrize("fmt,ext,kw", [
    ("PNG", ".png", {}), ("JPEG", ".jpg", {"quality": 85}), ("WEBP", ".webp", {"lossless": True}),
    ("WEBP", ".webp", {"quality": 70}), ("GIF", ".gif", {}), ("GIF", ".gif", {"animated": True}),
    ("TIFF", ".tiff", {"compression": "tiff_lzw"}), ("TIFF", ".tiff", {}),
])
def test_image_pixels_are_identical(labeler: Labeler, fmt: str, ext: str, kw: dict[str, object]) -> None:
    src = image_bytes(fmt, **kw)
    out = labeler.add(src, f"a{ext}", explicit=False).data
    a, b = frames(src), frames(out)
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_jpeg_with_existing_exif_keeps_its_other_tags(labeler: Labeler) -> None:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    src = image_bytes("JPEG", exif=exif.tobytes())
    out = labeler.add(src, "a.jpg", explicit=False).data
    with Image.open(io.BytesIO(out)) as im:
        assert im.getexif()[0x010F] == "CameraMaker"
        assert "AIGC" in im.info["xmp"].decode() if isinstance(im.info["xmp"], bytes) else im.info["xmp"]


def test_png_existing_xmp_is_kept_and_extended(labeler: Labeler) -> None:
    from hegui.labeling.formats.png import XMP_KEYWORD, chunks, itxt, make_chunk

    base = image_bytes("PNG")
    parts = chunks(base)
    foreign = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
               '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:format>image/png'
               "</dc:format></rdf:Description></rdf:RDF></x:xmpmeta>")
    src = b"\x89PNG\r\n\x1a\n" + make_chunk(*parts[0]) + itxt(XMP_KEYWORD, foreign) + b"".join(
        make_chunk(t, p) for t, p in parts[1:])
    out = labeler.add(src, "a.png", explicit=False).data
    with Image.open(io.BytesIO(out)) as im:
        xmp = im.info["xmp"] if isinstance(im.info["xmp"], str) else im.info["xmp"].decode()
    assert "<dc:format>image/png</dc:format>" in xmp and "TC260:AIGC" in xmp


def test_wav_samples_are_identical(labeler: Labeler) -> None:
    src = wav_bytes(channels=2)
    out = labeler.add(src, "a.wav", explicit=False).data
    with wave.open(io.BytesIO(src)) as a, wave.open(io.BytesIO(out)) as b:
        assert a.getparams() == b.getparams()
        assert a.readframes(a.getnframes()) == b.readframes(b.getnframes())


def _decoded(data: bytes, ext: str, tmp: Path) -> str:
    p = tmp / f"x{ext}"
    p.write_bytes(data)
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(p), "-f", "framemd5", "-"], capture_output=True,
                          text=True, check=True).stdout


@needs_ffmpeg
@pytest.mark.parametrize("ext", [".mp3", ".flac", ".ogg", ".opus", ".mp4", ".mov"])
def test_decoded_media_frames_are_identical(labeler: Labeler, make_file: MakeFile, ext: str, tmp_path: Path) -> None:
    src = make_file(ext)
    out = labeler.add(src, f"a{ext}", explicit=False).data
    assert HAS_FFMPEG
    before, after = _decoded(src, ext, tmp_path), _decoded(out, ext, tmp_path)
    assert before.count("\n") > 10 and before == after


@needs_ffmpeg
def test_faststart_mp4_chunk_offsets_are_shifted(labeler: Labeler, tmp_path: Path) -> None:
    from labelfiles import video_bytes

    src = video_bytes(tmp_path, ".mp4", faststart=True)
    out = labeler.add(src, "a.mp4", explicit=False).data
    assert src.index(b"moov") < src.index(b"mdat")
    assert _decoded(src, ".mp4", tmp_path) == _decoded(out, ".mp4", tmp_path)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=AIGC", "-of", "default=nw=1",
                            str(tmp_path / "x.mp4")], capture_output=True, text=True, check=True).stdout
    assert '"ContentProducer":"HEGUI-TEST-001"' in probe


def test_docx_text_is_unchanged_by_the_implicit_label(labeler: Labeler, make_file: MakeFile) -> None:
    import docx

    src = make_file(".docx")
    out = labeler.add(src, "a.docx", explicit=False).data
    texts = [[p.text for p in docx.Document(io.BytesIO(d)).paragraphs] for d in (src, out)]
    assert texts[0] == texts[1]


def test_text_file_content_is_restored_exactly_without_the_label_line(labeler: Labeler) -> None:
    from hegui.labeling.formats.text import split

    for original in ("一行\n", "no newline", "two\n\nlines\n"):
        out = labeler.add(original.encode(), "a.txt", explicit=False).data.decode()
        assert split(out, "AIGC")[0] == original
