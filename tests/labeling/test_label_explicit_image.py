"""The visible image label: text height ≥ 5% of the shortest side (measured on the output), chosen corner,
legible on light and dark pictures."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from labelfiles import image_bytes, picture
from PIL import Image

from hegui.errors import ConfigError, InvalidInputError
from hegui.labeling import Labeler
from hegui.labeling.explicit import image as image_label
from hegui.policy.pack import PolicyPack


def changed_box(before: bytes, after: bytes) -> tuple[int, int, int, int]:
    a = np.asarray(Image.open(io.BytesIO(before)).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(io.BytesIO(after)).convert("RGB"), dtype=np.int16)
    ys, xs = np.nonzero(np.abs(a - b).max(axis=2) > 40)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def text_rows(after: bytes, box: tuple[int, int, int, int]) -> int:
    """Height in pixels of the near-white glyph ink inside the plate (the rim is grey, the plate dark)."""
    b = np.asarray(Image.open(io.BytesIO(after)).convert("L"), dtype=np.int16)
    region = b[box[1] : box[3], box[0] : box[2]]
    rows = np.nonzero((region >= 235).any(axis=1))[0]
    return int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize("size", [(96, 64), (640, 480), (1920, 1080), (300, 1200), (1000, 1000)])
def test_rendered_text_height_is_at_least_5_percent_of_shortest_side(labeler: Labeler,
                                                                    size: tuple[int, int]) -> None:
    src = image_bytes("PNG", picture(*size))
    out = labeler.add(src, "a.png").data
    box = changed_box(src, out)
    assert text_rows(out, box) >= math.ceil(0.05 * min(size))


@pytest.mark.parametrize("corner", image_label.CORNERS)
def test_label_goes_in_the_chosen_corner(labeler: Labeler, corner: str) -> None:
    src = image_bytes("PNG", picture(400, 300))
    out = labeler.add(src, "a.png", position=corner).data
    left, top = changed_box(src, out)[:2]
    assert (left < 200) == corner.endswith("left") and (top < 150) == corner.startswith("top")
    found = labeler.verify(out, "a.png").explicit
    assert isinstance(found, dict) and found["corner"] == corner


def _luma(rgb: tuple[int, int, int]) -> float:
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(x) for x in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("background", [(255, 255, 255), (0, 0, 0), (24, 24, 24), (128, 128, 128)])
def test_label_is_legible_on_light_and_dark_pictures(labeler: Labeler, background: tuple[int, int, int]) -> None:
    src = image_bytes("PNG", Image.new("RGB", (500, 400), background))
    out = labeler.add(src, "a.png").data
    im = np.asarray(Image.open(io.BytesIO(out)).convert("RGB"))
    box = changed_box(src, out) if background != image_label.PLATE else (0, 0, 500, 400)
    region = im[box[1] : box[3], box[0] : box[2]].reshape(-1, 3)
    lum = np.array([_luma(tuple(int(v) for v in px)) for px in np.unique(region, axis=0)])
    # WCAG contrast between the glyph ink and the plate behind it: ≥ 7 is "AAA" legibility.
    assert (lum.max() + 0.05) / (lum.min() + 0.05) >= 7
    assert (im == np.array(image_label.INK)).all(axis=2).sum() > 20


def test_english_label_uses_the_packs_english_text(labeler: Labeler) -> None:
    out = labeler.add(image_bytes("PNG", picture(600, 400)), "a.png", lang="en").data
    found = labeler.verify(out, "a.png").explicit
    assert isinstance(found, dict) and found["text"] == labeler.pack.labels.image.en


def test_jpeg_explicit_label_survives_lossy_encoding(labeler: Labeler) -> None:
    out = labeler.add(image_bytes("JPEG", picture(640, 480)), "a.jpg").data
    assert labeler.verify(out, "a.jpg").verdict == "compliant"


def test_animated_gif_gets_the_label_on_every_frame(labeler: Labeler) -> None:
    out = labeler.add(image_bytes("GIF", animated=True), "a.gif").data
    with Image.open(io.BytesIO(out)) as im:
        assert im.n_frames == 3
        for i in range(3):
            im.seek(i)
            buf = io.BytesIO()
            im.convert("RGB").save(buf, "PNG")
            assert image_label.find_image_label(buf.getvalue(), labeler.pack)["found"] is True


def test_unlabelled_picture_has_no_explicit_label(pack: PolicyPack) -> None:
    assert image_label.find_image_label(image_bytes("PNG", picture(640, 480)), pack)["found"] is False


def test_picture_too_small_for_a_label_is_refused(labeler: Labeler) -> None:
    with pytest.raises(InvalidInputError, match="too small"):
        labeler.add(image_bytes("PNG", picture(20, 8)), "a.png")


def test_missing_font_names_the_debian_package(labeler: Labeler, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setattr(image_label, "FONT_PATH", tmp_path / "absent.ttc")
    image_label._font.cache_clear()
    try:
        with pytest.raises(ConfigError, match="fonts-wqy-microhei"):
            labeler.add(image_bytes("PNG", picture(300, 200)), "a.png")
    finally:
        image_label._font.cache_clear()
