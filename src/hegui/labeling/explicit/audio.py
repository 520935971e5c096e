"""Explicit audio labels (GB 45438-2025 §4.3): the rhythm cue short-long short-short (Morse "AI": ·− ··)
or a spoken prompt, placed at the start.

WAV is handled natively (PCM 8/16/24/32-bit and float); other audio formats go through ffmpeg
(decode, prepend, re-encode with the same codec). Detection works on the loudness envelope, so it
survives lossy coding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hegui.errors import ConfigError
from hegui.labeling.formats import riff
from hegui.labeling.formats.base import bad

UNIT_S = 0.1  # one Morse unit: a dot; a dash is three
CUE_HZ = 1000.0
CUE_LEVEL = 0.5
# (units, tone on?) : dot, gap, dash, letter gap, dot, gap, dot, tail
PATTERN: tuple[tuple[int, bool], ...] = ((1, True), (1, False), (3, True), (3, False), (1, True), (1, False),
                                         (1, True), (3, False))
PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE


def rhythm_cue(rate: int) -> np.ndarray:
    """The cue as mono float samples in [-1, 1] (1.4 s), with 5 ms ramps so the tones do not click."""
    parts = []
    ramp = max(1, int(0.005 * rate))
    for units, on in PATTERN:
        n = round(units * UNIT_S * rate)
        if not on:
            parts.append(np.zeros(n))
            continue
        t = np.arange(n) / rate
        tone = CUE_LEVEL * np.sin(2 * np.pi * CUE_HZ * t)
        env = np.ones(n)
        env[:ramp] = np.linspace(0, 1, ramp)
        env[-ramp:] = np.linspace(1, 0, ramp)
        parts.append(tone * env)
    return np.concatenate(parts)


@dataclass(frozen=True, slots=True)
class WavFormat:
    tag: int
    channels: int
    rate: int
    bits: int


def wav_format(fmt_chunk: bytes) -> WavFormat:
    if len(fmt_chunk) < 16:
        raise bad("WAV", "short fmt chunk")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt_chunk[:16])
    if tag == EXTENSIBLE and len(fmt_chunk) >= 26:
        tag = struct.unpack("<H", fmt_chunk[24:26])[0]
    bad_bits = (tag == PCM and bits not in (8, 16, 24, 32)) or (tag == FLOAT and bits not in (32, 64))
    if tag not in (PCM, FLOAT) or bad_bits:
        raise bad("WAV", f"unsupported sample format (tag {tag}, {bits} bits); PCM or float only")
    if channels < 1 or rate < 1:
        raise bad("WAV", "bad channel count or sample rate")
    return WavFormat(tag, channels, rate, bits)


def decode(raw: bytes, f: WavFormat) -> np.ndarray:
    """Samples as float64 in [-1, 1], shape (frames, channels)."""
    width = f.bits // 8
    usable = len(raw) - len(raw) % (width * f.channels)
    raw = raw[:usable]
    if f.tag == FLOAT:
        x = np.frombuffer(raw, dtype="<f4" if f.bits == 32 else "<f8").astype(np.float64)
    elif f.bits == 8:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128) / 128
    elif f.bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = np.where(v >= 1 << 23, v - (1 << 24), v).astype(np.float64) / (1 << 23)
    else:
        x = np.frombuffer(raw, dtype="<i2" if f.bits == 16 else "<i4").astype(np.float64) / (1 << (f.bits - 1))
    out: np.ndarray = x.reshape(-1, f.channels)
    return out


def encode(x: np.ndarray, f: WavFormat) -> bytes:
    """Float samples (frames, channels) to the WAV's own sample format."""
    x = np.clip(x, -1.0, 1.0)
    if f.tag == FLOAT:
        return x.astype("<f4" if f.bits == 32 else "<f8").tobytes()
    if f.bits == 8:
        return np.round(x * 127 + 128).astype(np.uint8).tobytes()
    scale = (1 << (f.bits - 1)) - 1
    v = np.round(x * scale).astype(np.int64)
    if f.bits == 24:
        v = v.reshape(-1) & 0xFFFFFF
        return np.stack([v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF], axis=1).astype(np.uint8).tobytes()
    return v.astype("<i2" if f.bits == 16 else "<i4").tobytes()


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return x
    n = round(len(x) * dst / src)
    out: np.ndarray = np.interp(np.arange(n) * src / dst, np.arange(len(x)), x)
    return out


def prompt_samples(path: Path, rate: int) -> np.ndarray:
    """A spoken-prompt WAV file as mono float samples at ``rate``."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"audio prompt file {path}: cannot read ({err})") from None
    chunks = dict(riff.parse(data, b"WAVE", "WAV"))
    if b"fmt " not in chunks or b"data" not in chunks:
        raise ConfigError(f"audio prompt file {path}: not a PCM WAV file")
    f = wav_format(chunks[b"fmt "])
    return _resample(decode(chunks[b"data"], f).mean(axis=1), f.rate, rate)


def cue_for(rate: int, prompt: Path | None) -> np.ndarray:
    return prompt_samples(prompt, rate) if prompt else rhythm_cue(rate)


def prepend_wav(data: bytes, prompt: Path | None = None) -> bytes:
    """A WAV with the cue (or spoken prompt) before its samples; other chunks kept."""
    chunks = riff.parse(data, b"WAVE", "WAV")
    names = [c for c, _ in chunks]
    if b"fmt " not in names or b"data" not in names:
        raise bad("WAV", "missing fmt or data chunk")
    f = wav_format(dict(chunks)[b"fmt "])
    cue = cue_for(f.rate, prompt)
    head = encode(np.repeat(cue[:, None], f.channels, axis=1), f)
    out = [(c, head + p if c == b"data" else p) for c, p in chunks]
    return riff.build(b"WAVE", out)


def wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float samples and the rate of a WAV file."""
    chunks = dict(riff.parse(data, b"WAVE", "WAV"))
    if b"fmt " not in chunks or b"data" not in chunks:
        raise bad("WAV", "missing fmt or data chunk")
    f = wav_format(chunks[b"fmt "])
    return decode(chunks[b"data"], f).mean(axis=1), f.rate


def find_cue(samples: np.ndarray, rate: int) -> dict[str, object]:
    """Recognise the short-long short-short rhythm at the start from the loudness envelope."""
    hop = max(1, rate // 200)  # 5 ms
    head = samples[: int(rate * 4)]
    if len(head) < hop * 10:
        return {"found": False, "note": "audio too short"}
    frames = head[: len(head) // hop * hop].reshape(-1, hop)
    rms = np.sqrt((frames**2).mean(axis=1))
    peak = float(rms.max())
    if peak <= 1e-4:
        return {"found": False, "note": "silent start"}
    on = rms > 0.3 * peak
    runs: list[tuple[bool, int]] = []
    for v in on:
        if runs and runs[-1][0] == bool(v):
            runs[-1] = (bool(v), runs[-1][1] + 1)
        else:
            runs.append((bool(v), 1))
    if runs and not runs[0][0]:
        lead = runs.pop(0)
        if lead[1] * hop / rate > 0.3:
            return {"found": False, "note": "no cue at the very start"}
    tones = [(n * hop / rate) for v, n in runs if v][:4]
    gaps = [(n * hop / rate) for v, n in runs[1:] if not v][:2]
    if len(tones) < 4 or len(gaps) < 2:
        return {"found": False, "note": "no short-long short-short rhythm at the start"}
    dot = (tones[0] + tones[2] + tones[3]) / 3
    ok = (tones[1] >= 2 * dot and max(tones[0], tones[2], tones[3]) < 1.6 * min(tones[0], tones[2], tones[3])
          and gaps[1] > 1.8 * gaps[0] and dot < 0.4)
    if not ok:
        return {"found": False, "note": "no short-long short-short rhythm at the start"}
    return {"found": True, "kind": "rhythm-cue", "pattern": "·− ··",
            "tones_s": [round(t, 3) for t in tones], "gaps_s": [round(g, 3) for g in gaps]}
