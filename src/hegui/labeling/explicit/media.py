"""Audio and video labels that need ffmpeg (Debian package ``ffmpeg``): re-encoding with the cue,
the video overlay on the opening seconds, and decoding for verification.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from hegui.errors import ConfigError
from hegui.labeling.explicit import audio, image
from hegui.labeling.formats.base import bad
from hegui.policy.pack import PolicyPack

AUDIO_ENCODERS: dict[str, list[str]] = {
    "mp3": ["-c:a", "libmp3lame", "-q:a", "2"],
    "flac": ["-c:a", "flac"],
    "vorbis": ["-c:a", "libvorbis", "-q:a", "5"],
    "opus": ["-c:a", "libopus", "-b:a", "128k"],
    "aac": ["-c:a", "aac", "-b:a", "192k"],
}
_MUXERS = {".mp3": "mp3", ".flac": "flac", ".ogg": "ogg", ".oga": "ogg", ".opus": "ogg", ".m4a": "mp4",
           ".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".qt": "mov"}


def tool(name: str = "ffmpeg") -> str:
    path = shutil.which(name)
    if path is None:
        raise ConfigError(f"this label needs {name}, which is not installed: install the Debian package ffmpeg")
    return path


def available() -> bool:
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _run(args: list[str], what: str) -> bytes:
    proc = subprocess.run(args, capture_output=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
        raise bad(what, f"ffmpeg failed: {last}")
    return proc.stdout


def probe(path: Path) -> dict[str, object]:
    out = _run([tool("ffprobe"), "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)], "media")
    result: dict[str, object] = json.loads(out)
    return result


def _streams(info: dict[str, object], kind: str) -> list[dict[str, object]]:
    streams = info.get("streams")
    if not isinstance(streams, list):
        return []
    return [s for s in streams if isinstance(s, dict) and s.get("codec_type") == kind]


def audio_with_cue(data: bytes, ext: str, prompt: Path | None = None) -> bytes:
    """Decode, prepend the cue, re-encode with the same codec and container."""
    ffmpeg = tool()
    with tempfile.TemporaryDirectory(prefix="hegui-label-") as tmp:
        src, wav, dst = Path(tmp) / f"in{ext}", Path(tmp) / "cue.wav", Path(tmp) / f"out{ext}"
        src.write_bytes(data)
        streams = _streams(probe(src), "audio")
        if not streams:
            raise bad(ext.lstrip("."), "no audio stream")
        codec = str(streams[0].get("codec_name"))
        if codec not in AUDIO_ENCODERS:
            raise bad(ext.lstrip("."), f"audio codec {codec} is not supported for the audible label")
        _run([ffmpeg, "-v", "error", "-y", "-i", str(src), "-map", "0:a:0", "-c:a", "pcm_s16le", str(wav)], "audio")
        wav.write_bytes(audio.prepend_wav(wav.read_bytes(), prompt))
        _run([ffmpeg, "-v", "error", "-y", "-i", str(wav), *AUDIO_ENCODERS[codec], "-f", _MUXERS.get(ext, "mp4"),
              str(dst)], "audio")
        return dst.read_bytes()


def audio_head(data: bytes, ext: str, seconds: float = 4.0) -> tuple[np.ndarray, int]:
    """The first seconds of any audio (or video) file as mono float samples."""
    ffmpeg = tool()
    with tempfile.TemporaryDirectory(prefix="hegui-label-") as tmp:
        src = Path(tmp) / f"in{ext}"
        src.write_bytes(data)
        wav = _run([ffmpeg, "-v", "error", "-i", str(src), "-t", str(seconds), "-map", "0:a:0", "-ac", "1",
                    "-c:a", "pcm_s16le", "-f", "wav", "-"], "audio")
    # ffmpeg streaming a WAV to a pipe leaves the sizes unset; read the samples after the header.
    at = wav.find(b"data")
    if at < 0:
        raise bad("audio", "ffmpeg produced no samples")
    rate = int.from_bytes(wav[24:28], "little")
    raw = wav[at + 8 :]
    raw = raw[: len(raw) - len(raw) % 2]
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768, rate


def label_video(data: bytes, ext: str, pack: PolicyPack, lang: str = "zh", corner: str | None = None) -> bytes:
    """Overlay the image label on the first ``video_min_seconds`` seconds (re-encodes the video with x264)."""
    ffmpeg = tool()
    seconds = pack.labels.video_min_seconds
    with tempfile.TemporaryDirectory(prefix="hegui-label-") as tmp:
        src, png, dst = Path(tmp) / f"in{ext}", Path(tmp) / "plate.png", Path(tmp) / f"out{ext}"
        src.write_bytes(data)
        video = _streams(probe(src), "video")
        if not video:
            raise bad(ext.lstrip("."), "no video stream")
        w, h = int(str(video[0].get("width", 0))), int(str(video[0].get("height", 0)))
        plate = image.layout(w, h, image.image_text(pack, lang), corner or pack.labels.image.corner,
                             pack.labels.image.min_height_ratio)
        image.render(plate).save(png)
        x, y = plate.box[:2]
        graph = f"[0:v:0][1:v]overlay={x}:{y}:enable='lte(t,{seconds + 0.05:g})'[v]"
        _run([ffmpeg, "-v", "error", "-y", "-i", str(src), "-i", str(png), "-filter_complex", graph,
              "-map", "[v]", "-map", "0:a?", "-c:v", "libx264", "-crf", "18", "-preset", "veryfast",
              "-pix_fmt", "yuv420p", "-c:a", "copy", "-map_metadata", "0", "-f", _MUXERS.get(ext, "mp4"),
              str(dst)], "video")
        return dst.read_bytes()


def frame_png(data: bytes, ext: str, at: float) -> bytes:
    with tempfile.TemporaryDirectory(prefix="hegui-label-") as tmp:
        src = Path(tmp) / f"in{ext}"
        src.write_bytes(data)
        return _run([tool(), "-v", "error", "-ss", f"{at:.3f}", "-i", str(src), "-frames:v", "1", "-f", "image2pipe",
                     "-c:v", "png", "-"], "video")


def find_video_label(data: bytes, ext: str, pack: PolicyPack) -> dict[str, object]:
    """The label must show on an early frame and on one near the end of the required span."""
    with tempfile.TemporaryDirectory(prefix="hegui-label-") as tmp:
        src = Path(tmp) / f"in{ext}"
        src.write_bytes(data)
        fmt = probe(src).get("format")
        duration = float(str(fmt.get("duration", 0))) if isinstance(fmt, dict) else 0.0
    need = pack.labels.video_min_seconds
    late = max(0.0, min(need - 0.15, duration - 0.1))
    early_hit = image.find_image_label(frame_png(data, ext, 0.0), pack)
    late_hit = image.find_image_label(frame_png(data, ext, late), pack)
    if early_hit.get("found") and late_hit.get("found"):
        return {**early_hit, "kind": "video-overlay", "checked_at_s": [0.0, round(late, 2)]}
    return {"found": False, "note": f"label not visible on the frames at 0 s and {late:.2f} s"}
