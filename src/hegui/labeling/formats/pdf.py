"""PDF: document information key ``/AIGC`` plus the XMP metadata stream (``TC260:AIGC``), via pikepdf.

pikepdf rewrites the file (objects may be renumbered), but page content and image streams are
carried over unchanged. The content hash covers each page's box, decoded content streams and
XObject streams. Encrypted and damaged files are refused (no silent recovery).
"""

from __future__ import annotations

import io
from typing import Any

import pikepdf

from hegui.labeling.formats import xmp
from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts


def _open(data: bytes) -> pikepdf.Pdf:
    if not data.startswith(b"%PDF-"):
        raise bad("PDF", "missing %PDF header")
    if b"%%EOF" not in data[-2048:]:
        raise bad("PDF", "no %%EOF marker at the end (truncated?)")
    try:
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except pikepdf.PasswordError:
        raise bad("PDF", "encrypted; decrypt it first") from None
    except pikepdf.PdfError as err:
        raise bad("PDF", f"damaged ({err})") from None
    if pdf.is_encrypted:
        raise bad("PDF", "encrypted; decrypt it first")
    return pdf


def _stream_bytes(obj: Any) -> bytes:
    try:
        return bytes(obj.read_bytes())
    except pikepdf.PdfError:
        return bytes(obj.read_raw_bytes())


def _xmp_text(pdf: pikepdf.Pdf) -> str | None:
    meta = pdf.Root.get("/Metadata")
    if meta is None or not isinstance(meta, pikepdf.Stream):
        return None
    return _stream_bytes(meta).decode("utf-8", "replace")


class PdfCodec(Codec):
    name = "pdf"
    extensions = (".pdf",)
    places = "Info dictionary key `/AIGC` + XMP metadata stream (TC260:AIGC)"

    def sniff(self, data: bytes) -> bool:
        return data.startswith(b"%PDF-")

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        with _open(data) as pdf:
            found = []
            value = pdf.docinfo.get("/" + keys.key) if "/Info" in pdf.trailer else None
            if value is not None:
                found.append(str(value).strip())
            packet = _xmp_text(pdf)
            if packet:
                found += xmp.read(packet, keys.key)
            return found

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        with _open(data) as pdf:
            pdf.docinfo[pikepdf.Name("/" + keys.key)] = pikepdf.String(label_json)
            packet = xmp.merge(_xmp_text(pdf), label_json, keys.key, keys.namespace)
            stream = pikepdf.Stream(pdf, packet.encode("utf-8"))
            stream.Type = pikepdf.Name.Metadata
            stream.Subtype = pikepdf.Name.XML
            pdf.Root.Metadata = stream
            out = io.BytesIO()
            try:
                pdf.save(out)
            except pikepdf.PdfError as err:
                raise bad("PDF", f"cannot be rewritten ({err})") from None
            return out.getvalue()

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        with _open(data) as pdf:
            parts: list[bytes] = []
            try:
                for page in pdf.pages:
                    parts.append(repr([float(x) for x in page.mediabox]).encode())
                    contents = page.obj.get("/Contents")
                    streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
                    parts += [_stream_bytes(s) for s in streams if isinstance(s, pikepdf.Stream)]
                    resources = page.obj.get("/Resources")
                    xobjects = resources.get("/XObject") if resources is not None else None
                    if xobjects is not None:
                        for name in sorted(xobjects.keys()):
                            x = xobjects[name]
                            if isinstance(x, pikepdf.Stream):
                                parts += [str(name).encode(), _stream_bytes(x)]
            except pikepdf.PdfError as err:
                raise bad("PDF", f"damaged page tree ({err})") from None
            return sha256_parts(parts)

    def check(self, data: bytes) -> None:
        with _open(data) as pdf:
            if len(pdf.pages) == 0:
                raise bad("PDF", "no pages")
        self.digest(data)
