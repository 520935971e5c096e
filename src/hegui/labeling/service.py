"""Labelling service: add explicit + implicit labels, propagate, read and verify.

Producers call ``add`` (or the gateway's ``label_image_bytes`` / ``label_audio_bytes``),
distribution platforms call ``propagate``, anyone calls ``verify``. Every output is re-opened with
its format's own library and re-read before it is returned, so a broken file is never handed out.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Literal, TypeVar

import mutagen
import pikepdf
from PIL import Image

from hegui.errors import ConfigError, HeguiError, InvalidInputError
from hegui.labeling import integrity
from hegui.labeling.explicit import audio, document, image, media
from hegui.labeling.explicit import text as text_label
from hegui.labeling.formats import BadFileError, Codec, Keys, codec_for
from hegui.labeling.formats.markdown import decode as decode_text
from hegui.labeling.formats.markdown import split as split_front_matter
from hegui.labeling.formats.text import split as split_text_label
from hegui.labeling.integrity import Integrity, Signer
from hegui.labeling.model import AigcLabel, LabelFormatError, new_id
from hegui.policy.pack import PolicyPack

Kind = Literal["image", "audio", "video", "document", "text"]
Unlabelled = Literal["error", "possibly", "suspected"]
_KIND: dict[str, Kind] = {"png": "image", "jpeg": "image", "webp": "image", "gif": "image", "tiff": "image",
                          "wav": "audio", "mp3": "audio", "flac": "audio", "ogg": "audio", "mp4": "video",
                          "docx": "document", "pdf": "document", "markdown": "text", "text": "text"}
_DEFAULT_EXT = {"mp3": ".mp3", "flac": ".flac", "ogg": ".ogg", "mp4": ".mp4", "wav": ".wav"}
_AUDIO_MP4_EXT = {".m4a"}
T = TypeVar("T")


class AlreadyLabelledError(InvalidInputError):
    """The file already carries an AIGC label (use propagate, or verify it)."""


class IntegrityError(HeguiError):
    """hegui's own output failed its re-read check; nothing was written."""


@dataclass(frozen=True, slots=True)
class Labelled:
    data: bytes
    format: str
    label: AigcLabel
    explicit: dict[str, object] | None


@dataclass(slots=True)
class Verification:
    format: str
    implicit: dict[str, str] | None
    explicit: dict[str, object] | str
    integrity: Integrity
    verdict: Literal["compliant", "noncompliant", "not_found"]
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"format": self.format, "implicit": self.implicit, "explicit": self.explicit,
                "integrity": self.integrity, "verdict": self.verdict, "problems": list(self.problems)}


def kind_of(codec: Codec, name: str | None) -> Kind:
    if codec.name == "mp4" and name and PurePath(name).suffix.lower() in _AUDIO_MP4_EXT:
        return "audio"
    return _KIND[codec.name]


def _ext(codec: Codec, name: str | None, data: bytes) -> str:
    if name and PurePath(name).suffix:
        return PurePath(name).suffix.lower()
    if codec.name == "mp4" and data[8:12] == b"qt  ":
        return ".mov"
    return _DEFAULT_EXT.get(codec.name, "")


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename, so ``path`` is never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _guarded(what: str, name: str | None, fn: Callable[[], T]) -> T:
    """Run codec work; a parser tripping over a malformed file becomes a clear one-line error."""
    try:
        return fn()
    except HeguiError:
        raise
    except (ValueError, IndexError, KeyError, struct.error, EOFError, OSError, zlib.error, NotImplementedError,
            SyntaxError, RuntimeError, Image.DecompressionBombError, mutagen.MutagenError, pikepdf.PdfError) as err:
        raise BadFileError(f"{name or 'input'}: cannot {what}: malformed file ({type(err).__name__}: {err})") from None


def _load(src: str | Path | bytes, name: str | None) -> tuple[bytes, str | None]:
    if isinstance(src, bytes):
        return src, name
    path = Path(src)
    try:
        return path.read_bytes(), name or path.name
    except OSError as err:
        raise InvalidInputError(f"{path}: cannot read ({err.strerror or err})") from None


@dataclass
class Labeler:
    """Labelling with one policy pack, one signing key and (for producers) one producer code."""

    pack: PolicyPack
    signer: Signer | None = None
    producer: str | None = None

    @property
    def keys(self) -> Keys:
        return Keys(self.pack.labels.implicit_key, self.pack.labels.xmp_namespace)

    @property
    def audio_prompt(self) -> Path | None:
        if self.pack.labels.audio_cue != "speech":
            return None
        if not self.pack.labels.audio_prompt_file:
            raise ConfigError("policy pack labels.audio_cue is speech but labels.audio_prompt_file is not set")
        return Path(self.pack.labels.audio_prompt_file)

    # --- reading ------------------------------------------------------------------------------
    def labels_in(self, codec: Codec, data: bytes) -> tuple[list[AigcLabel], list[str]]:
        """Every distinct well-formed label in the file and the problems met reading them."""
        labels: list[AigcLabel] = []
        problems: list[str] = []
        for raw in dict.fromkeys(codec.read(data, self.keys)):
            try:
                lab = AigcLabel.from_json(raw)
            except LabelFormatError as err:
                problems.append(str(err))
                continue
            if lab not in labels:
                labels.append(lab)
        if len(labels) > 1:
            problems.append(f"{len(labels)} different AIGC labels in one file (the standard allows one)")
        return labels, problems

    def read(self, src: str | Path | bytes, name: str | None = None) -> AigcLabel | None:
        """The file's implicit label, or None; raises if the label is malformed."""
        data, name = _load(src, name)

        def run() -> AigcLabel | None:
            labels, problems = self.labels_in(codec_for(data, name), data)
            if problems and not labels:
                raise LabelFormatError(problems[0])
            return labels[0] if labels else None

        return _guarded("read its label", name, run)

    # --- explicit ----------------------------------------------------------------------------
    def add_explicit(self, data: bytes, codec: Codec, name: str | None, lang: str = "zh",
                     position: str | None = None) -> tuple[bytes, dict[str, object]]:
        kind = kind_of(codec, name)
        ext = _ext(codec, name, data)
        if kind == "image":
            out, plate = image.label_image(data, self.pack, lang, position)
            return out, {"kind": "image-text", "text": plate.text, "corner": plate.corner,
                         "text_height_px": plate.ink_height, "required_px": plate.required_px}
        if kind == "audio":
            prompt = self.audio_prompt
            if codec.name == "wav":
                return audio.prepend_wav(data, prompt), {"kind": "spoken-prompt" if prompt else "rhythm-cue"}
            return media.audio_with_cue(data, ext, prompt), {"kind": "spoken-prompt" if prompt else "rhythm-cue"}
        if kind == "video":
            return media.label_video(data, ext, self.pack, lang, position), {
                "kind": "video-overlay", "seconds": self.pack.labels.video_min_seconds}
        if codec.name == "docx":
            return document.label_docx(data, self.pack, lang, position), {"kind": "text", "position": position
                                                                           or self.pack.labels.text.position}
        if codec.name == "pdf":
            return document.label_pdf(data, self.pack, lang, position), {"kind": "pdf-plate", "page": 1}
        text = decode_text(data, codec.name)
        pos = position or self.pack.labels.text.position
        if codec.name == "markdown":
            parts = split_front_matter(text)
            if parts is not None:
                head = parts[0] + "".join(parts[1])
                close, _, body = parts[2].partition("\n")
                labelled = text_label.label_text(body, self.pack, lang, pos)
                return (head + close + "\n" + labelled).encode("utf-8"), {"kind": "text", "position": pos}
        return text_label.label_text(text, self.pack, lang, pos).encode("utf-8"), {"kind": "text", "position": pos}

    def find_explicit(self, data: bytes, codec: Codec, name: str | None) -> dict[str, object] | str:
        kind = kind_of(codec, name)
        ext = _ext(codec, name, data)
        if kind == "image":
            return image.find_image_label(data, self.pack)
        if kind == "audio":
            if self.pack.labels.audio_cue == "speech":
                return "not checked"
            if codec.name == "wav":
                samples, rate = audio.wav_samples(data)
                return audio.find_cue(samples, rate)
            if not media.available():
                return "not checked"
            return audio.find_cue(*media.audio_head(data, ext))
        if kind == "video":
            return media.find_video_label(data, ext, self.pack) if media.available() else "not checked"
        if codec.name == "docx":
            return document.find_docx_label(data)
        if codec.name == "pdf":
            return document.find_pdf_label(data)
        text = decode_text(data, codec.name)
        if codec.name == "text":
            text = split_text_label(text, self.keys.key)[0]
        elif (parts := split_front_matter(text)) is not None:
            text = parts[2].partition("\n")[2]
        return text_label.find_text_label(text)

    # --- implicit ----------------------------------------------------------------------------
    def _write(self, codec: Codec, data: bytes, label: AigcLabel, digest: str) -> bytes:
        out = codec.write(data, label.to_json(), self.keys)
        try:
            codec.check_output(out)
        except InvalidInputError as err:
            raise IntegrityError(f"labelled {codec.name} output failed to re-open ({err}); nothing written") from None
        if codec.digest(out, self.keys) != digest:
            raise IntegrityError(f"labelling changed the {codec.name} content; nothing written")
        labels, problems = self.labels_in(codec, out)
        if labels != [label] or problems:
            raise IntegrityError(f"the {codec.name} label did not read back as written; nothing written")
        return out

    def _add(self, src: str | Path | bytes, name: str | None = None, *, explicit: bool = True,
            position: str | None = None, lang: str = "zh", producer: str | None = None) -> Labelled:
        """Explicit label (optional) then the implicit label with Label "1" and ReservedCode1."""
        data, name = _load(src, name)
        codec = codec_for(data, name)
        codec.check(data)
        labels, problems = self.labels_in(codec, data)
        if labels or problems:
            raise AlreadyLabelledError(f"{name or 'input'}: already carries an AIGC label; "
                                       "use `hegui label propagate` or `hegui label verify`")
        who = producer or self.producer
        if not who:
            raise ConfigError("no producer code: pass --producer or set provider.producer_code in hegui.yaml")
        label = AigcLabel(Label="1", ContentProducer=who, ProduceID=new_id()).validate()
        shown: dict[str, object] | None = None
        if explicit:
            data, shown = self.add_explicit(data, codec, name, lang, position)
            codec.check(data)
        digest = codec.digest(data, self.keys)
        if self.signer is not None:
            label = label.with_(ReservedCode1=integrity.producer_code(self.signer, codec.name, digest, label))
        return Labelled(self._write(codec, data, label.validate(), digest), codec.name, label, shown)

    def _propagate(self, src: str | Path | bytes, propagator: str, name: str | None = None,
                  unlabelled: Unlabelled = "error") -> Labelled:
        """Add ContentPropagator / PropagateID (and ReservedCode2) without touching the producer's fields."""
        data, name = _load(src, name)
        codec = codec_for(data, name)
        codec.check(data)
        labels, problems = self.labels_in(codec, data)
        if problems:
            raise LabelFormatError(f"{name or 'input'}: {problems[0]}")
        if labels:
            label = labels[0]
        elif unlabelled == "error":
            raise InvalidInputError(f"{name or 'input'}: carries no AIGC label; pass --unlabelled possibly "
                                    "or --unlabelled suspected to label it as a platform")
        else:
            label = AigcLabel(Label="2" if unlabelled == "possibly" else "3")
        label = label.with_(ContentPropagator=propagator, PropagateID=new_id(), ReservedCode2="").validate()
        digest = codec.digest(data, self.keys)
        if self.signer is not None:
            label = label.with_(ReservedCode2=integrity.propagator_code(self.signer, codec.name, digest, label))
        return Labelled(self._write(codec, data, label.validate(), digest), codec.name, label, None)

    def _verify(self, src: str | Path | bytes, name: str | None = None, *, check_explicit: bool = True) -> Verification:
        data, name = _load(src, name)
        codec = codec_for(data, name)
        codec.check(data)
        labels, problems = self.labels_in(codec, data)
        label = labels[0] if labels else None
        status: Integrity = "absent"
        if label is not None:
            problems += label.problems()
            if self.signer is not None:
                digest = codec.digest(data, self.keys)
                status, why = integrity.check_producer(self.signer, codec.name, digest, label)
                if why and status == "invalid":
                    problems.append(why)
                rc2, why2 = integrity.check_propagator(self.signer, codec.name, digest, label)
                if rc2 == "invalid" and why2 and label.ReservedCode2.split(":")[1:2] == [self.signer.current_key_id]:
                    problems.append(why2)
        shown: dict[str, object] | str = "not checked"
        if check_explicit:
            shown = self.find_explicit(data, codec, name)
            if isinstance(shown, dict) and not shown.get("found") and (label is None or label.Label == "1"):
                problems.append("no explicit label found" + (f" ({shown['note']})" if shown.get("note") else ""))
        verdict: Literal["compliant", "noncompliant", "not_found"]
        verdict = "not_found" if label is None else "noncompliant" if problems else "compliant"
        return Verification(codec.name, label.to_dict() if label else None, shown, status, verdict, problems)

    def add(self, src: str | Path | bytes, name: str | None = None, *, explicit: bool = True,
            position: str | None = None, lang: str = "zh", producer: str | None = None) -> Labelled:
        """Explicit label (optional) then the implicit label with Label "1" and ReservedCode1."""
        data, name = _load(src, name)
        return _guarded("label it", name, lambda: self._add(data, name, explicit=explicit, position=position,
                                                              lang=lang, producer=producer))

    def propagate(self, src: str | Path | bytes, propagator: str, name: str | None = None,
                  unlabelled: Unlabelled = "error") -> Labelled:
        """Add ContentPropagator / PropagateID (and ReservedCode2) without touching the producer's fields."""
        data, name = _load(src, name)
        return _guarded("propagate its label", name, lambda: self._propagate(data, propagator, name, unlabelled))

    def verify(self, src: str | Path | bytes, name: str | None = None, *, check_explicit: bool = True) -> Verification:
        """Read and check the labels: fields, integrity, explicit label; a verdict with the problems found."""
        data, name = _load(src, name)
        return _guarded("verify it", name, lambda: self._verify(data, name, check_explicit=check_explicit))


def label_text(text: str, pack: PolicyPack, lang: str = "zh", position: str | None = None) -> str:
    """The gateway's text label (explicit only: a text answer has no file to carry metadata)."""
    return text_label.label_text(text, pack, lang, position)


def label_image_bytes(data: bytes, pack: PolicyPack, signer: Signer | None, producer: str, *, lang: str = "zh",
                      corner: str | None = None, explicit: bool = True, name: str | None = None) -> bytes:
    """An image with the visible label and the implicit label (gateway image outputs)."""
    labeled = Labeler(pack, signer, producer).add(data, name, explicit=explicit, position=corner, lang=lang)
    if labeled.format not in ("png", "jpeg", "webp", "gif", "tiff"):
        raise InvalidInputError(f"expected an image, got {labeled.format}")
    return labeled.data


def label_audio_bytes(data: bytes, pack: PolicyPack, signer: Signer | None, producer: str, *,
                      explicit: bool = True, name: str | None = None) -> bytes:
    """Audio with the rhythm cue (or spoken prompt) in front and the implicit label."""
    codec = codec_for(data, name)
    if kind_of(codec, name) != "audio":
        raise InvalidInputError(f"expected audio, got {codec.name}")
    return Labeler(pack, signer, producer).add(data, name, explicit=explicit).data


def read_label(src: str | Path | bytes, pack: PolicyPack | None = None, name: str | None = None) -> AigcLabel | None:
    """The implicit label of a file (path) or of bytes, or None."""
    from hegui.policy.pack import load_pack

    return Labeler(pack or load_pack("cn-genai")).read(src, name)


def verify(src: str | Path | bytes, pack: PolicyPack, signer: Signer | None, name: str | None = None, *,
           check_explicit: bool = True) -> Verification:
    return Labeler(pack, signer).verify(src, name, check_explicit=check_explicit)
