"""Open-and-decode checks with Pillow, shared by the image codecs."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from hegui.labeling.formats.base import bad, sha256_parts


def check_image(data: bytes, fmt: str, pil_format: str) -> Image.Image:
    """Decode every frame; raise ``BadFileError`` on truncation or the wrong format."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data))
            if im.format != pil_format:
                raise bad(fmt, f"Pillow reads it as {im.format}")
            for i in range(getattr(im, "n_frames", 1)):
                im.seek(i)
                im.load()
            im.seek(0)
            return im
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, EOFError) as err:
        raise bad(fmt, f"cannot be decoded ({err})") from None


def pixel_digest(data: bytes, fmt: str, pil_format: str) -> str:
    """Hash of every frame's decoded pixels, mode and size (for formats rewritten by their writer)."""
    im = check_image(data, fmt, pil_format)
    parts: list[bytes] = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        parts += [im.mode.encode(), f"{im.size[0]}x{im.size[1]}".encode(), im.tobytes()]
    return sha256_parts(parts)


def open_header(data: bytes, fmt: str, pil_format: str) -> None:
    """Pillow identifies the file as ``pil_format`` (headers only, no pixel decoding)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                if im.format != pil_format:
                    raise bad(fmt, f"Pillow reads it as {im.format}")
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, EOFError) as err:
        raise bad(fmt, f"cannot be opened ({err})") from None
