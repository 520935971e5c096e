"""Explicit image labels (GB 45438-2025 §4.2): visible text in a corner, text height ≥ 5% of the shortest side.

The text is drawn white on an opaque dark plate with a light rim, so it reads on light and dark
pictures alike. The glyph (ink) height is what the rule measures, so the font size is grown until
the rendered ink is tall enough. Rendering is deterministic, which lets ``find_image_label``
recognise our plate by drawing it again and comparing.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageSequence

from hegui.errors import ConfigError, InvalidInputError
from hegui.labeling.formats.base import bad
from hegui.policy.pack import PolicyPack

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_PACKAGE = "fonts-wqy-microhei"
MIN_LEGIBLE_PX = 12
PLATE = (24, 24, 24)
INK = (255, 255, 255)
RIM = (200, 200, 200)
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
MATCH_MEAN_DIFF = 16.0  # mean absolute luma difference tolerated (lossy re-encoding)


def _font_path() -> Path:
    if not FONT_PATH.is_file():
        raise ConfigError(f"image labels need the CJK font {FONT_PATH}: install the Debian package {FONT_PACKAGE}")
    return FONT_PATH


@lru_cache(maxsize=256)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_font_path()), size)


def _ink(size: int, text: str) -> tuple[int, int, int, int]:
    left, top, right, bottom = _font(size).getbbox(text)
    return int(left), int(top), math.ceil(right), math.ceil(bottom)


@lru_cache(maxsize=1024)
def _solid_height(size: int, text: str) -> int:
    """Rows of fully covered glyph ink (coverage ≥ 92%): the height a viewer, or a test, measures.

    The font's bounding box also counts anti-aliased fringe rows, which would overstate the size."""
    left, top, right, bottom = _ink(size, text)
    canvas = Image.new("L", (right - left + 2, bottom - top + 2), 0)
    ImageDraw.Draw(canvas).text((1 - left, 1 - top), text, font=_font(size), fill=255)
    rows = np.nonzero((np.asarray(canvas) >= 235).any(axis=1))[0]
    return int(rows.max() - rows.min() + 1) if len(rows) else 0


@dataclass(frozen=True, slots=True)
class Plate:
    """Where and how big the label is on a picture of a given size."""

    text: str
    corner: str
    font_size: int
    ink: tuple[int, int, int, int]  # glyph bbox relative to the drawing origin
    box: tuple[int, int, int, int]  # plate (left, top, right, bottom) on the picture
    required_px: int

    @property
    def ink_height(self) -> int:
        """Glyph height in pixels (fully covered rows)."""
        return _solid_height(self.font_size, self.text)

    @property
    def box_height(self) -> int:
        return self.ink[3] - self.ink[1]


def required_height(width: int, height: int, ratio: float) -> int:
    return math.ceil(ratio * min(width, height))


def layout(width: int, height: int, text: str, corner: str, ratio: float) -> Plate:
    """Plate geometry for a ``width``×``height`` picture; raises if the label cannot fit."""
    if corner not in CORNERS:
        raise InvalidInputError(f"corner must be one of {', '.join(CORNERS)}, got {corner!r}")
    need = required_height(width, height, ratio)
    target = max(need, min(MIN_LEGIBLE_PX, height // 3))
    size = max(target, 4)
    while _solid_height(size, text) < target:
        size += max(1, (target - _solid_height(size, text)) // 2)
    bbox = _ink(size, text)
    ink_w, ink_h = bbox[2] - bbox[0], bbox[3] - bbox[1]
    pad = max(2, round(0.3 * ink_h))
    margin = max(1, round(0.02 * min(width, height)))
    pw, ph = ink_w + 2 * pad, ink_h + 2 * pad
    if pw + 2 * margin > width or ph + 2 * margin > height:
        raise bad("image", f"{width}x{height} pixels is too small for a legible {text!r} label "
                           f"({pw}x{ph} pixels needed)")
    left = margin if corner.endswith("left") else width - margin - pw
    top = margin if corner.startswith("top") else height - margin - ph
    return Plate(text, corner, size, bbox, (left, top, left + pw, top + ph), need)


def render(plate: Plate) -> Image.Image:
    """The plate as an RGB patch."""
    left, top, right, bottom = plate.box
    patch = Image.new("RGB", (right - left, bottom - top), PLATE)
    draw = ImageDraw.Draw(patch)
    rim = max(1, (bottom - top) // 24)
    draw.rectangle((0, 0, patch.width - 1, patch.height - 1), outline=RIM, width=rim)
    pad = (patch.height - plate.box_height) // 2
    draw.text((pad - plate.ink[0], pad - plate.ink[1]), plate.text, font=_font(plate.font_size), fill=INK)
    return patch


def image_text(pack: PolicyPack, lang: str) -> str:
    if lang not in ("zh", "en"):
        raise InvalidInputError(f"label language must be zh or en, got {lang!r}")
    text: str = getattr(pack.labels.image, lang)
    return text


def draw_label(im: Image.Image, pack: PolicyPack, lang: str = "zh",
               corner: str | None = None) -> tuple[Image.Image, Plate]:
    """A copy of ``im`` (converted to RGB/RGBA) with the label drawn."""
    plate = layout(im.width, im.height, image_text(pack, lang), corner or pack.labels.image.corner,
                   pack.labels.image.min_height_ratio)
    out = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
    patch = render(plate)
    out.paste(patch if out.mode == "RGB" else patch.convert("RGBA"), plate.box[:2])
    return out, plate


def _save(frames: list[Image.Image], src: Image.Image, fmt: str, lossless_webp: bool) -> bytes:
    buf = io.BytesIO()
    extra: dict[str, object] = {}
    if src.info.get("icc_profile"):
        extra["icc_profile"] = src.info["icc_profile"]
    if len(frames) > 1:
        extra.update(save_all=True, append_images=frames[1:], duration=src.info.get("duration", 100),
                     loop=src.info.get("loop", 0))
    if fmt == "JPEG":
        frames[0].convert("RGB").save(buf, "JPEG", quality=95, subsampling=0, **extra)
    elif fmt == "WEBP":
        frames[0].save(buf, "WEBP", lossless=lossless_webp, quality=100 if lossless_webp else 95, **extra)
    elif fmt == "TIFF":
        frames[0].save(buf, "TIFF", compression=src.info.get("compression", "raw"), **extra)
    else:
        frames[0].save(buf, fmt, **extra)
    return buf.getvalue()


def label_image(data: bytes, pack: PolicyPack, lang: str = "zh", corner: str | None = None) -> tuple[bytes, Plate]:
    """Encoded image bytes (same format) with the explicit label on every frame."""
    try:
        src = Image.open(io.BytesIO(data))
        fmt = src.format or "PNG"
        frames = []
        plate: Plate | None = None
        for frame in ImageSequence.Iterator(src):
            frame.load()
            drawn, plate = draw_label(frame, pack, lang, corner)
            frames.append(drawn)
    except (OSError, ValueError, SyntaxError, EOFError) as err:
        raise bad("image", f"cannot be decoded ({err})") from None
    assert plate is not None
    return _save(frames, src, fmt, lossless_webp=b"VP8L" in data[12:40]), plate


def _match(gray: np.ndarray, plate: Plate) -> float:
    """Smallest mean luma difference between our rendered plate and the picture near its place.

    A shift of up to 2 pixels is allowed: video encoders align overlays to the chroma grid."""
    expected = np.asarray(render(plate).convert("L"), dtype=np.float64)
    left, top = plate.box[:2]
    best = float("inf")
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            t, lft = top + dy, left + dx
            if t < 0 or lft < 0 or t + expected.shape[0] > gray.shape[0] or lft + expected.shape[1] > gray.shape[1]:
                continue
            actual = gray[t : t + expected.shape[0], lft : lft + expected.shape[1]]
            best = min(best, float(np.abs(expected - actual).mean()))
    return best


def find_image_label(data: bytes, pack: PolicyPack) -> dict[str, object]:
    """Look for our plate in each corner (both languages) by rendering it again and comparing pixels."""
    try:
        im = Image.open(io.BytesIO(data))
        im.seek(0)
        gray = np.asarray(im.convert("L"), dtype=np.float64)
    except (OSError, ValueError, SyntaxError, EOFError):
        return {"found": False, "note": "image cannot be decoded"}
    best: tuple[float, Plate] | None = None
    for lang in ("zh", "en"):
        text = image_text(pack, lang)
        for corner in CORNERS:
            try:
                plate = layout(gray.shape[1], gray.shape[0], text, corner, pack.labels.image.min_height_ratio)
            except InvalidInputError:
                continue
            diff = _match(gray, plate)
            if best is None or diff < best[0]:
                best = (diff, plate)
    if best is None or best[0] > MATCH_MEAN_DIFF:
        return {"found": False, "note": "no hegui label plate in any corner (labels drawn by other tools "
                                        "are not recognised)"}
    plate = best[1]
    return {"found": True, "kind": "image-text", "text": plate.text, "corner": plate.corner,
            "text_height_px": plate.ink_height, "required_px": plate.required_px}
