"""Live evidence for controls ``labeling.explicit`` and ``labeling.implicit`` (O8, Labeling Measures).

Each check labels a small generated picture and text with this installation's pack and key and
verifies the result, so "working" means the labeller really works here, not merely that it is set.
"""

from __future__ import annotations

import io

from PIL import Image

from hegui.context import HeguiContext
from hegui.errors import HeguiError
from hegui.labeling.explicit import media
from hegui.labeling.explicit.text import find_text_label
from hegui.labeling.service import Labeler, label_text
from hegui.obligations import Evidence, evidence_for


def _sample_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 220, 240)).save(buf, "PNG")
    return buf.getvalue()


@evidence_for("labeling.explicit")
def labeling_explicit(ctx: HeguiContext) -> Evidence:
    pack = ctx.pack
    text_on = pack.labels.text.position != "none" and ctx.settings.gateway.text_label
    try:
        labelled = label_text("示例回答。", pack)
        found_text = find_text_label(labelled)["found"] is True or not text_on
        labeler = Labeler(pack, ctx.keys, "HEGUI-SELFTEST")
        result = labeler.verify(labeler.add(_sample_png(), "selftest.png").data, "selftest.png")
    except HeguiError as err:
        return Evidence("labeling.explicit", "failing", f"explicit image label self-test failed: {err}")
    found_image = isinstance(result.explicit, dict) and result.explicit.get("found") is True
    video = "video labels available (ffmpeg)" if media.available() else "video labels unavailable: install ffmpeg"
    if not (found_text and found_image):
        return Evidence("labeling.explicit", "failing", "self-test label was not found after labelling")
    if not text_on:
        return Evidence("labeling.explicit", "configured",
                        "image/audio labels work, but text answers are not labelled (gateway.text_label off or "
                        f"pack position none); {video}")
    return Evidence("labeling.explicit", "working",
                    f"text label {pack.labels.text.zh!r} at {pack.labels.text.position}, image label "
                    f"{pack.labels.image.zh!r} ≥ {pack.labels.image.min_height_ratio:.0%} of the short side, "
                    f"audio {pack.labels.audio_cue} cue; {video}")


@evidence_for("labeling.implicit")
def labeling_implicit(ctx: HeguiContext) -> Evidence:
    producer = ctx.settings.provider.producer_code
    if not producer:
        return Evidence("labeling.implicit", "not_configured",
                        "set provider.producer_code (the ContentProducer code written into every AIGC label)")
    labeler = Labeler(ctx.pack, ctx.keys, producer)
    try:
        done = labeler.add(_sample_png(), "selftest.png", explicit=False)
        result = labeler.verify(done.data, "selftest.png", check_explicit=False)
    except HeguiError as err:
        return Evidence("labeling.implicit", "failing", f"implicit label self-test failed: {err}")
    if result.verdict != "compliant" or result.integrity != "valid":
        return Evidence("labeling.implicit", "failing", f"self-test label did not verify: {result.problems}")
    return Evidence("labeling.implicit", "working",
                    f"AIGC metadata with ContentProducer {producer!r} and HMAC ReservedCode1 written and verified "
                    "(PNG self-test); 14 formats supported")
