"""AIGC labels per the Labeling Measures and GB 45438-2025: explicit (visible/audible) and implicit (metadata).

Public API: ``Labeler`` (add / propagate / read / verify), and the gateway helpers ``label_text``,
``label_image_bytes``, ``label_audio_bytes``, ``read_label``, ``verify``. See docs/labeling.md.
"""

from hegui.labeling.model import AigcLabel, LabelFormatError
from hegui.labeling.service import (
    AlreadyLabelledError,
    Labeler,
    Labelled,
    Verification,
    label_audio_bytes,
    label_image_bytes,
    label_text,
    read_label,
    verify,
    write_atomic,
)

__all__ = [
    "AigcLabel",
    "AlreadyLabelledError",
    "LabelFormatError",
    "Labeler",
    "Labelled",
    "Verification",
    "label_audio_bytes",
    "label_image_bytes",
    "label_text",
    "read_label",
    "verify",
    "write_atomic",
]
