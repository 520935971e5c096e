"""Format codecs and how a file's format is chosen (by extension when known, else by its magic bytes)."""

from __future__ import annotations

from pathlib import PurePath

from hegui.labeling.formats.base import DEFAULT_KEYS, BadFileError, Codec, Keys
from hegui.labeling.formats.docx import DocxCodec
from hegui.labeling.formats.flac import FlacCodec
from hegui.labeling.formats.gif import GifCodec
from hegui.labeling.formats.jpeg import JpegCodec
from hegui.labeling.formats.markdown import MarkdownCodec
from hegui.labeling.formats.mp3 import Mp3Codec
from hegui.labeling.formats.mp4 import Mp4Codec
from hegui.labeling.formats.ogg import OggCodec
from hegui.labeling.formats.pdf import PdfCodec
from hegui.labeling.formats.png import PngCodec
from hegui.labeling.formats.text import TextCodec
from hegui.labeling.formats.tiff import TiffCodec
from hegui.labeling.formats.wav import WavCodec
from hegui.labeling.formats.webp import WebpCodec

__all__ = ["CODECS", "DEFAULT_KEYS", "BadFileError", "Codec", "Keys", "codec_for", "codec_named", "supported"]

# Sniffing order: binary formats with strong magic first, the text formats last.
CODECS: tuple[Codec, ...] = (
    PngCodec(), JpegCodec(), GifCodec(), WebpCodec(), WavCodec(), TiffCodec(), FlacCodec(), OggCodec(),
    Mp4Codec(), PdfCodec(), DocxCodec(), Mp3Codec(), MarkdownCodec(), TextCodec(),
)
_TEXTUAL = {"markdown", "text"}


def codec_named(name: str) -> Codec:
    for c in CODECS:
        if c.name == name:
            return c
    raise BadFileError(f"unknown format {name!r}; known: {', '.join(c.name for c in CODECS)}")


def supported(name: str) -> bool:
    """True if the file name's extension is one hegui labels."""
    ext = PurePath(name).suffix.lower()
    return any(ext in c.extensions for c in CODECS)


def sniff(data: bytes) -> Codec | None:
    for c in CODECS:
        if c.sniff(data):
            return c
    return None


def codec_for(data: bytes, name: str | None = None) -> Codec:
    """The codec for ``data``; the extension of ``name`` decides when given, and must agree with the bytes."""
    if not data:
        raise BadFileError(f"{name or 'input'}: empty file")
    found = sniff(data)
    if name:
        ext = PurePath(name).suffix.lower()
        by_ext = next((c for c in CODECS if ext in c.extensions), None)
        if by_ext is not None:
            if by_ext.name in _TEXTUAL:
                if found is not None and found.name not in _TEXTUAL:
                    raise BadFileError(f"{name}: not a {by_ext.name} file (the bytes are {found.name})")
                if not TextCodec().sniff(data):
                    raise BadFileError(f"{name}: not a {by_ext.name} file (not UTF-8 text)")
                return by_ext
            if found is not by_ext:
                what = f"the bytes look like {found.name}" if found else "unrecognised bytes"
                raise BadFileError(f"{name}: not a valid {by_ext.name} file ({what})")
            return by_ext
    if found is None:
        raise BadFileError(f"{name or 'input'}: unsupported or unrecognised format")
    return found
