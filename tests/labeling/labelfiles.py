"""Test files made on the fly: Pillow images, numpy WAVs, python-docx and pikepdf documents, and
ffmpeg-made MP3/FLAC/Ogg/MP4 when ffmpeg is installed."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

HAS_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_ffmpeg = pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")


def picture(w: int = 96, h: int = 64, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def image_bytes(fmt: str, im: Image.Image | None = None, **kw: object) -> bytes:
    im = im or picture()
    buf = io.BytesIO()
    if fmt == "GIF" and kw.pop("animated", False):
        frames = [picture(seed=i).quantize(64) for i in range(3)]
        frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
        return buf.getvalue()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def wav_bytes(seconds: float = 1.0, rate: int = 16000, channels: int = 1, sampwidth: int = 2) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.random.default_rng(1).standard_normal(len(t))
    scale = (1 << (8 * sampwidth - 1)) - 1
    pcm = np.round(np.clip(x, -1, 1) * scale).astype({2: "<i2", 4: "<i4"}[sampwidth])
    pcm = np.repeat(pcm[:, None], channels, axis=1)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(sampwidth)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def docx_bytes(paragraphs: tuple[str, ...] = ("第一段。", "Second paragraph.", "第三段。")) -> bytes:
    import docx

    doc = docx.Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def pdf_bytes(pages: int = 2) -> bytes:
    pdf = pikepdf.new()
    for i in range(pages):
        page = pdf.add_blank_page(page_size=(595, 842))
        font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pikepdf.Stream(pdf, f"BT /F1 24 Tf 72 700 Td (Page {i + 1}) Tj ET".encode())
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def ffmpeg_make(tmp: Path, name: str, args: list[str]) -> bytes:
    out = tmp / name
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(out)], check=True, capture_output=True)
    return out.read_bytes()


def audio_bytes(tmp: Path, ext: str) -> bytes:
    return ffmpeg_make(tmp, f"a{ext}", ["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-ac", "1"])


def video_bytes(tmp: Path, ext: str = ".mp4", faststart: bool = False) -> bytes:
    args = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=3", "-f", "lavfi", "-i", "sine=duration=3",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"]
    if faststart:
        args += ["-movflags", "+faststart"]
    return ffmpeg_make(tmp, f"v{ext}", args)


MakeFile = Callable[[str], bytes]


def make_file_bytes(ext: str, tmp_path: Path) -> bytes:
    """Bytes of a fresh, unlabelled file for a format (the extension decides)."""
    ext = ext.lower()
    if ext == ".png":
        return image_bytes("PNG")
    if ext in (".jpg", ".jpeg"):
        return image_bytes("JPEG", quality=90)
    if ext == ".webp":
        return image_bytes("WEBP", lossless=True)
    if ext == ".gif":
        return image_bytes("GIF")
    if ext in (".tif", ".tiff"):
        return image_bytes("TIFF", compression="tiff_lzw")
    if ext == ".wav":
        return wav_bytes()
    if ext in (".mp3", ".flac", ".ogg", ".opus"):
        if not HAS_FFMPEG:
            pytest.skip("ffmpeg is not installed")
        return audio_bytes(tmp_path, ext)
    if ext in (".mp4", ".mov"):
        if not HAS_FFMPEG:
            pytest.skip("ffmpeg is not installed")
        return video_bytes(tmp_path, ext)
    if ext == ".docx":
        return docx_bytes()
    if ext == ".pdf":
        return pdf_bytes()
    if ext == ".md":
        return "---\ntitle: 示例\ntags: [a, b]\n---\n# 标题\n\n正文第一段。\n".encode()
    if ext == ".txt":
        return "这是一段由模型写的文字。\nSecond line.\n".encode()
    raise AssertionError(f"no fixture for {ext}")
