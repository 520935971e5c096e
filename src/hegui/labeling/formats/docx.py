"""DOCX: custom document property ``AIGC`` in ``docProps/custom.xml`` (Office custom properties).

The package is rebuilt entry by entry: every other part is copied unchanged; ``[Content_Types].xml``
and ``_rels/.rels`` get the custom-properties override and relationship if missing. The content
hash covers every part under ``word/`` (the document itself, styles, media).
"""

from __future__ import annotations

import html
import io
import re
import zipfile
import zlib
from xml.etree import ElementTree as ET

from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts

CUSTOM = "docProps/custom.xml"
NS_CP = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
CT_CUSTOM = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
REL_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"


def _zip(data: bytes) -> zipfile.ZipFile:
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as err:
        raise bad("DOCX", f"not a ZIP package ({err})") from None
    if "word/document.xml" not in z.namelist():
        raise bad("DOCX", "no word/document.xml part")
    return z


def _read(z: zipfile.ZipFile, name: str) -> bytes:
    try:
        return z.read(name)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as err:
        raise bad("DOCX", f"damaged part {name} ({err})") from None


def _properties(xml: bytes) -> list[tuple[str, int, str]]:
    """(name, pid, value text) of each custom property."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as err:
        raise bad("DOCX", f"docProps/custom.xml is not XML ({err})") from None
    out = []
    for prop in root.findall(f"{{{NS_CP}}}property"):
        value = "".join(child.text or "" for child in prop)
        try:
            pid = int(prop.get("pid", "0"))
        except ValueError:
            pid = 0
        out.append((prop.get("name", ""), pid, value))
    return out


def _property_xml(name: str, pid: int, value: str) -> str:
    return (f'<property fmtid="{FMTID}" pid="{pid}" name="{html.escape(name)}">'
            f"<vt:lpwstr>{html.escape(value, quote=False)}</vt:lpwstr></property>")


def _custom_xml(existing: bytes | None, key: str, label_json: str) -> bytes:
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Properties xmlns="{NS_CP}" xmlns:vt="{NS_VT}">')
    if existing is None:
        return (head + _property_xml(key, 2, label_json) + "</Properties>").encode("utf-8")
    text = existing.decode("utf-8")
    props = _properties(existing)
    pid = max([p for _, p, _ in props] + [1]) + 1
    # Drop our previous property as text so the other properties stay byte for byte.
    text = re.sub(rf'<property\b[^>]*\bname="{re.escape(html.escape(key))}"[^>]*>.*?</property>', "", text,
                  flags=re.S)
    if "</Properties>" not in text:
        raise bad("DOCX", "docProps/custom.xml has no closing Properties element")
    return text.replace("</Properties>", _property_xml(key, pid, label_json) + "</Properties>").encode("utf-8")


def _content_types(xml: bytes) -> bytes:
    text = xml.decode("utf-8")
    if 'PartName="/docProps/custom.xml"' in text:
        return xml
    override = f'<Override PartName="/docProps/custom.xml" ContentType="{CT_CUSTOM}"/>'
    if "</Types>" not in text:
        raise bad("DOCX", "[Content_Types].xml has no closing Types element")
    return text.replace("</Types>", override + "</Types>").encode("utf-8")


def _rels(xml: bytes) -> bytes:
    text = xml.decode("utf-8")
    if REL_CUSTOM in text:
        return xml
    rel = f'<Relationship Id="rIdHeguiAIGC" Type="{REL_CUSTOM}" Target="docProps/custom.xml"/>'
    if "</Relationships>" not in text:
        raise bad("DOCX", "_rels/.rels has no closing Relationships element")
    return text.replace("</Relationships>", rel + "</Relationships>").encode("utf-8")


class DocxCodec(Codec):
    name = "docx"
    extensions = (".docx",)
    places = "custom property `AIGC` in `docProps/custom.xml`"

    def sniff(self, data: bytes) -> bool:
        if data[:4] != b"PK\x03\x04":
            return False
        try:
            _zip(data)
        except ValueError:
            return False
        return True

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        z = _zip(data)
        if CUSTOM not in z.namelist():
            return []
        return [v.strip() for name, _, v in _properties(_read(z, CUSTOM)) if name == keys.key]

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        z = _zip(data)
        names = z.namelist()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
            for info in z.infolist():
                payload = _read(z, info.filename)
                if info.filename == CUSTOM:
                    payload = _custom_xml(payload, keys.key, label_json)
                elif info.filename == "[Content_Types].xml":
                    payload = _content_types(payload)
                elif info.filename == "_rels/.rels":
                    payload = _rels(payload)
                w.writestr(info, payload)
            if CUSTOM not in names:
                w.writestr(CUSTOM, _custom_xml(None, keys.key, label_json))
        return out.getvalue()

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        z = _zip(data)
        parts: list[bytes] = []
        for name in sorted(n for n in z.namelist() if n.startswith("word/")):
            parts += [name.encode("utf-8"), _read(z, name)]
        return sha256_parts(parts)

    def check(self, data: bytes) -> None:
        import docx

        z = _zip(data)
        for name in z.namelist():
            _read(z, name)
        try:
            docx.Document(io.BytesIO(data))
        except Exception as err:  # python-docx raises many kinds on a damaged package
            raise bad("DOCX", f"python-docx cannot open it ({type(err).__name__}: {err})") from None
