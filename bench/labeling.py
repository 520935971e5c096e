"""AIGC labelling throughput (labels/s, one core) for PNG, JPEG and MP3, next to a bare-library baseline.

hegui's figure is the full producer path: format check, content hash, HMAC ReservedCode1, label
write, and the re-open/re-read check of the output. The baselines write a comparable metadata field
with the library alone in the same run, on the same input, with no checks:

* PNG / JPEG: Pillow re-encoding the picture with a text chunk / EXIF block (what a naive labeller
  does; it also decodes and re-encodes the pixels);
* MP3: mutagen writing one ID3 TXXX frame.

    .venv/bin/python bench/labeling.py            # 1920x1080 pictures, 30 s MP3, ~10 s total
    .venv/bin/python bench/labeling.py --quick    # small run
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import mutagen.id3
import mutagen.mp3
import numpy as np
from PIL import Image, PngImagePlugin

from hegui.labeling import Labeler
from hegui.policy.pack import load_pack
from hegui.privacy.crypto import KeyRing, generate_key

LABEL = '{"Label":"1","ContentProducer":"BENCH","ProduceID":"0123456789abcdef0123456789abcdef"}'


def rate(fn: Callable[[], object], n: int) -> float:
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t0)


def picture(w: int, h: int, fmt: str) -> bytes:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8)
    im = Image.fromarray(base).resize((w, h), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def pillow_png(data: bytes) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", LABEL)
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def pillow_jpeg(data: bytes) -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + LABEL.encode()
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def mutagen_mp3(data: bytes) -> bytes:
    buf = io.BytesIO(data)
    f = mutagen.mp3.MP3(buf)  # type: ignore[no-untyped-call]
    if f.tags is None:
        f.add_tags()
    f.tags.add(mutagen.id3.TXXX(encoding=0, desc="AIGC", text=[LABEL]))  # type: ignore[no-untyped-call]
    buf.seek(0)
    f.save(buf)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small pictures, few iterations")
    ap.add_argument("--json", type=Path, help="write the raw figures here")
    args = ap.parse_args()
    w, h, n, secs = (640, 480, 10, 5) if args.quick else (1920, 1080, 30, 30)
    labeler = Labeler(load_pack("cn-genai"), KeyRing(generate_key()), producer="BENCH")
    rows: list[dict[str, object]] = []
    inputs: dict[str, bytes] = {"png": picture(w, h, "PNG"), "jpeg": picture(w, h, "JPEG")}
    if shutil.which("ffmpeg"):
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "a.mp3"
            subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"sine=frequency=440:duration={secs}",
                            "-ac", "2", "-b:a", "192k", str(p)], check=True)
            inputs["mp3"] = p.read_bytes()
    baselines = {"png": ("Pillow re-encode + tEXt", pillow_png), "jpeg": ("Pillow re-encode + EXIF", pillow_jpeg),
                 "mp3": ("mutagen TXXX only", mutagen_mp3)}
    for fmt, data in inputs.items():
        name = f"in.{fmt}"
        implicit = rate(lambda d=data, nm=name: labeler.add(d, nm, explicit=False), n)
        both = rate(lambda d=data, nm=name: labeler.add(d, nm, explicit=True), max(3, n // 3)) \
            if fmt != "mp3" else None
        base_name, base_fn = baselines[fmt]
        base = rate(lambda d=data, f=base_fn: f(d), n)
        rows.append({"format": fmt, "size_kb": len(data) // 1024, "implicit_per_s": implicit,
                     "explicit_implicit_per_s": both, "baseline": base_name, "baseline_per_s": base})
    print(f"Machine: {os.cpu_count()} cores; pictures {w}x{h}; MP3 {secs} s stereo 192 kb/s\n")
    print("| format | input KiB | hegui implicit (labels/s) | hegui explicit + implicit (labels/s) | baseline | "
          "baseline (writes/s) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        both_s = f"{r['explicit_implicit_per_s']:.1f}" if r["explicit_implicit_per_s"] is not None else "—"
        print(f"| {r['format']} | {r['size_kb']} | {r['implicit_per_s']:.1f} | {both_s} | {r['baseline']} | "
              f"{r['baseline_per_s']:.1f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
