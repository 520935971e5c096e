"""The audible label: the short-long short-short rhythm cue (Morse "AI") in front of the sound."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest
from labelfiles import MakeFile, needs_ffmpeg, wav_bytes

from hegui.errors import ConfigError
from hegui.labeling import Labeler, label_audio_bytes
from hegui.labeling.explicit import audio
from hegui.policy.pack import PolicyPack
from hegui.privacy.crypto import KeyRing


def test_cue_has_the_morse_ai_rhythm() -> None:
    cue = audio.rhythm_cue(8000)
    found = audio.find_cue(np.concatenate([cue, np.zeros(8000)]), 8000)
    assert found["found"] is True
    tones = found["tones_s"]
    assert isinstance(tones, list)
    assert tones[1] > 2 * tones[0] and abs(tones[2] - tones[0]) < 0.03 and abs(tones[3] - tones[0]) < 0.03


def test_plain_tone_is_not_mistaken_for_the_cue() -> None:
    t = np.arange(16000) / 16000
    assert audio.find_cue(0.5 * np.sin(2 * np.pi * 440 * t), 16000)["found"] is False


@pytest.mark.parametrize("channels,width", [(1, 2), (2, 2), (2, 4)])
def test_wav_gets_the_cue_and_keeps_its_samples_after_it(labeler: Labeler, channels: int, width: int) -> None:
    src = wav_bytes(channels=channels, sampwidth=width)
    out = labeler.add(src, "a.wav").data
    with wave.open(io.BytesIO(src)) as a, wave.open(io.BytesIO(out)) as b:
        cue_frames = b.getnframes() - a.getnframes()
        assert cue_frames == round(1.4 * a.getframerate())
        b.readframes(cue_frames)
        assert b.readframes(a.getnframes()) == a.readframes(a.getnframes())
    assert labeler.verify(out, "a.wav").verdict == "compliant"


def test_24_bit_wav_round_trips_through_the_cue(labeler: Labeler) -> None:
    f = audio.WavFormat(audio.PCM, 1, 8000, 24)
    x = np.linspace(-0.9, 0.9, 800)[:, None]
    assert np.allclose(audio.decode(audio.encode(x, f), f), x, atol=1e-6)


def test_unlabelled_wav_has_no_cue(labeler: Labeler) -> None:
    found = labeler.verify(wav_bytes(), "a.wav").explicit
    assert isinstance(found, dict) and found["found"] is False


@needs_ffmpeg
@pytest.mark.parametrize("ext", [".mp3", ".flac", ".ogg"])
def test_compressed_audio_gets_a_detectable_cue(labeler: Labeler, make_file: MakeFile, ext: str) -> None:
    out = labeler.add(make_file(ext), f"a{ext}").data
    result = labeler.verify(out, f"a{ext}")
    assert result.verdict == "compliant", result.problems


def test_label_audio_bytes_gives_both_labels(pack: PolicyPack, keys: KeyRing) -> None:
    out = label_audio_bytes(wav_bytes(), pack, keys, "GW-1", name="speech.wav")
    result = Labeler(pack, keys).verify(out, "speech.wav")
    assert result.verdict == "compliant" and result.implicit and result.implicit["ContentProducer"] == "GW-1"


def test_spoken_prompt_file_is_used_when_configured(pack: PolicyPack, keys: KeyRing, tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.wav"
    prompt.write_bytes(wav_bytes(seconds=0.5, rate=8000))
    speech_pack = pack.model_copy(update={"labels": pack.labels.model_copy(
        update={"audio_cue": "speech", "audio_prompt_file": str(prompt)})})
    src = wav_bytes(seconds=1.0, rate=16000)
    out = Labeler(speech_pack, keys, "P").add(src, "a.wav").data
    with wave.open(io.BytesIO(src)) as a, wave.open(io.BytesIO(out)) as b:
        assert b.getnframes() - a.getnframes() == 8000  # 0.5 s prompt resampled to 16 kHz


def test_speech_cue_without_a_prompt_file_is_a_config_error(pack: PolicyPack, keys: KeyRing) -> None:
    speech_pack = pack.model_copy(update={"labels": pack.labels.model_copy(update={"audio_cue": "speech"})})
    with pytest.raises(ConfigError, match="audio_prompt_file"):
        Labeler(speech_pack, keys, "P").add(wav_bytes(), "a.wav")
