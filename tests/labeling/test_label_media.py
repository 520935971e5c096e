"""Video labels and the ffmpeg dependency."""

from __future__ import annotations

import shutil

import pytest
from labelfiles import MakeFile, needs_ffmpeg

from hegui.errors import ConfigError
from hegui.labeling import Labeler


@needs_ffmpeg
def test_video_label_shows_for_the_first_two_seconds_only(labeler: Labeler, make_file: MakeFile) -> None:
    from hegui.labeling.explicit import image, media

    out = labeler.add(make_file(".mp4"), "a.mp4").data
    assert image.find_image_label(media.frame_png(out, ".mp4", 1.9), labeler.pack)["found"] is True
    assert image.find_image_label(media.frame_png(out, ".mp4", 2.6), labeler.pack)["found"] is False


def test_video_label_without_ffmpeg_is_a_clear_error(labeler: Labeler, make_file: MakeFile,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_file(".mp4")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="install the Debian package ffmpeg"):
        labeler.add(data, "a.mp4")
    # the implicit label alone needs no ffmpeg
    assert labeler.add(data, "a.mp4", explicit=False).format == "mp4"


def test_verify_without_ffmpeg_says_not_checked(labeler: Labeler, make_file: MakeFile,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    data = labeler.add(make_file(".mp3"), "a.mp3", explicit=False).data
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert labeler.verify(data, "a.mp3").explicit == "not checked"
