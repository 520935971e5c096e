"""Fuzz targets shared by the atheris harnesses (``fuzz/run``) and the hypothesis tests (tests/hardening).

Each ``fuzz_<name>(data: bytes)`` feeds arbitrary bytes to one parser and raises only on a real bug:
an exception type the parser does not promise (a crash), or a broken invariant (``AssertionError``).
Documented clean errors (``HeguiError`` and subclasses such as ``BadFileError``) are accepted.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import wave
from collections.abc import Callable
from functools import cache
from typing import Any

from hegui.errors import HeguiError

# --------------------------------------------------------------------------------------- normaliser


@cache
def _normalizer() -> Any:
    from hegui.policy.pack import load_pack
    from hegui.text import Normalizer

    return Normalizer(load_pack("cn-genai").normalisation)


def fuzz_normaliser(data: bytes) -> None:
    """Offset map invariants: every span maps inside the original, in order, and monotonically."""
    text = data.decode("utf-8", "replace")
    nt = _normalizer().normalize(text)
    n, orig = len(nt.text), len(text)
    prev = (0, 0)
    for j in range(n):
        a, b = nt.span_to_original(j, j + 1)
        assert 0 <= a < b <= orig, (j, a, b, orig)
        assert a >= prev[0] and b >= prev[1], (j, (a, b), prev)  # order is kept
        prev = (a, b)
    if n:
        a, b = nt.span_to_original(0, n)
        assert 0 <= a <= b <= orig
        spans = [(i, min(n, i + 1 + (data[i % len(data)] % 5))) for i in range(0, n, max(1, n // 12))]
        assert nt.spans_to_original(spans) == [nt.span_to_original(s, e) for s, e in spans]
    for p in (0, n):
        a, b = nt.span_to_original(p, p)
        assert 0 <= a == b <= orig


# --------------------------------------------------------------------------------------- PII validators

def fuzz_pii(data: bytes) -> None:
    """Every validator takes any string and answers None or a value; never raises."""
    from hegui.detect.pii import validators as v

    text = data.decode("utf-8", "replace")
    fns: list[Callable[[str], Any]] = [v.validate_resident_id, v.validate_mobile, v.validate_landline,
                                       v.validate_bank_card, v.validate_uscc, v.validate_passport,
                                       v.validate_hk_macau_permit, v.validate_taiwan_permit, v.validate_email,
                                       v.validate_ipv4, v.validate_ipv6, v.validate_license_plate]
    for fn in fns:
        fn(text)
        fn(text[:18])
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if digits:
        assert isinstance(v.luhn_ok(digits), bool)
        if len(digits) >= 17:
            assert v.resident_id_check_char(digits[:17]) in "0123456789X"
            if v.validate_resident_id(digits[:18]) is not None:  # accepted only with the right check character
                assert digits[17] == v.resident_id_check_char(digits[:17])


# --------------------------------------------------------------------------------------- lexicon import

def fuzz_lexicon(data: bytes) -> None:
    """Lexicon files in every format: parsed entries or a clean ``HeguiError`` listing the bad lines."""
    from hegui.detect.lexicon.formats import parse_allow, parse_text

    text = data.decode("utf-8", "replace")
    for fmt in ("txt", "csv", "jsonl"):
        try:
            parsed = parse_text(text, f"fuzz.{fmt}", fmt, category="A1.4")  # type: ignore[arg-type]
        except HeguiError:
            continue
        for e in parsed.entries:
            assert e.term.strip(), "an entry without a term was accepted"
    with contextlib.suppress(HeguiError):
        parse_allow(text, "fuzz-allow.txt", "global")


# --------------------------------------------------------------------------------------- label readers

@cache
def label_seeds() -> dict[str, bytes]:
    """Small valid files of the formats hegui labels (plus labelled copies), built in memory."""
    import numpy as np
    from PIL import Image

    im = Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8))
    seeds: dict[str, bytes] = {}
    for fmt, ext in (("PNG", "png"), ("JPEG", "jpg"), ("GIF", "gif"), ("WEBP", "webp"), ("TIFF", "tiff")):
        buf = io.BytesIO()
        im.save(buf, fmt)
        seeds[ext] = buf.getvalue()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(1600))
    seeds["wav"] = buf.getvalue()
    import docx
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    buf = io.BytesIO()
    pdf.save(buf)
    seeds["pdf"] = buf.getvalue()
    doc = docx.Document()
    doc.add_paragraph("第一段。")
    buf = io.BytesIO()
    doc.save(buf)
    seeds["docx"] = buf.getvalue()
    seeds["md"] = "# 标题\n\n正文一段。\n".encode()
    seeds["txt"] = "一段普通的文字。\n".encode()
    labelled = {}
    lab = _labeler()
    for ext, data in seeds.items():
        with contextlib.suppress(HeguiError):
            labelled[f"labelled.{ext}"] = lab.add(data, f"seed.{ext}", explicit=False).data
    seeds.update(labelled)
    return seeds


@cache
def _labeler() -> Any:
    from hegui.labeling.service import Labeler
    from hegui.policy.pack import load_pack

    return Labeler(load_pack("cn-genai"), None, "hegui-fuzz")


def fuzz_labels(data: bytes) -> None:
    """Read the label of arbitrary bytes, as-is and under every extension: a label, None, or ``HeguiError``."""
    lab = _labeler()
    for name in (None, "x.png", "x.jpg", "x.gif", "x.webp", "x.tiff", "x.wav", "x.pdf", "x.docx", "x.mp3",
                 "x.flac", "x.ogg", "x.mp4", "x.md", "x.txt"):
        with contextlib.suppress(HeguiError):
            lab.read(data, name)


def mutate(seed: bytes, data: bytes) -> bytes:
    """Deterministic mutation of ``seed`` driven by ``data``: truncate, flip bytes, splice."""
    if not data:
        return seed
    out = bytearray(seed)
    op = data[0] % 3
    if op == 0:  # truncate
        return bytes(out[: (int.from_bytes(data[1:4] or b"\0", "little") % max(1, len(out)))])
    for i in range(1, len(data) - 2, 3):  # overwrite bytes at data-chosen offsets
        pos = int.from_bytes(data[i:i + 2], "little") % max(1, len(out))
        out[pos] = data[i + 2]
    if op == 2:
        pos = int.from_bytes(data[1:3] or b"\0", "little") % max(1, len(out))
        out[pos:pos] = data[3:]
    return bytes(out)


def fuzz_label_mutants(data: bytes) -> None:
    """Mutants of valid (labelled and unlabelled) seed files: never a crash."""
    seeds = label_seeds()
    names = sorted(seeds)
    if not data:
        return
    name = names[data[0] % len(names)]
    fuzz_labels(mutate(seeds[name], data[1:]))


# --------------------------------------------------------------------------------------- corpus readers

def fuzz_corpus(data: bytes) -> None:
    """Corpus files (JSONL, JSON, CSV, TSV, text, Parquet): documents or counted problems, never an exception."""
    from hegui.corpus.readers import FileStats, Shard, read_file

    with tempfile.TemporaryDirectory(prefix="hegui-fuzz-") as tmp:
        for ext in ("jsonl", "json", "csv", "tsv", "txt", "parquet"):
            path = os.path.join(tmp, f"f.{ext}")
            with open(path, "wb") as fh:
                fh.write(data)
            stats = FileStats(path=f"f.{ext}", format=ext)
            docs = list(read_file(Shard(id="s", source="fuzz", paths=(path,), root=tmp), path, stats))
            assert stats.items >= 0 and all(isinstance(d.text, str) for d in docs)


@cache
def parquet_seed() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"text": ["第一条文本", "second text", ""], "id": [1, 2, 3]}), buf)
    return buf.getvalue()


def fuzz_parquet_mutants(data: bytes) -> None:
    fuzz_corpus(mutate(parquet_seed(), data))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "normaliser": fuzz_normaliser, "pii": fuzz_pii, "lexicon": fuzz_lexicon, "labels": fuzz_labels,
    "label_mutants": fuzz_label_mutants, "corpus": fuzz_corpus, "parquet_mutants": fuzz_parquet_mutants,
}
