"""The XMP carrier: element ``TC260:AIGC`` in namespace ``http://www.tc260.org.cn/ns/AIGC/1.0/``.

Existing XMP packets are kept: our ``rdf:Description`` is inserted into (or replaced in) the
packet as text, so other tools' properties survive byte for byte.
"""

from __future__ import annotations

import html
import re

NAMESPACE = "http://www.tc260.org.cn/ns/AIGC/1.0/"
_RDF_END = re.compile(r"</(?P<p>[A-Za-z_][\w.-]*):RDF>")


def _element(key: str) -> re.Pattern[str]:
    k = re.escape(key)
    return re.compile(rf"<(?P<p>[A-Za-z_][\w.-]*):{k}(?:\s[^>]*)?>(?P<v>.*?)</(?P=p):{k}>", re.S)


def _attr(key: str) -> re.Pattern[str]:
    return re.compile(rf"\s(?P<p>[A-Za-z_][\w.-]*):{re.escape(key)}\s*=\s*(?P<q>[\"'])(?P<v>.*?)(?P=q)", re.S)


def _ours(key: str) -> re.Pattern[str]:
    k = re.escape(key)
    return re.compile(rf"<(?P<r>[A-Za-z_][\w.-]*):Description [^>]*xmlns:TC260=\"[^\"]*\"[^>]*>\s*"
                      rf"<TC260:{k}>.*?</TC260:{k}>\s*</(?P=r):Description>", re.S)


def description(label_json: str, key: str = "AIGC", namespace: str = NAMESPACE, rdf: str = "rdf") -> str:
    return (f'<{rdf}:Description {rdf}:about="" xmlns:TC260="{html.escape(namespace)}">'
            f"<TC260:{key}>{html.escape(label_json, quote=False)}</TC260:{key}></{rdf}:Description>")


def packet(label_json: str, key: str = "AIGC", namespace: str = NAMESPACE) -> str:
    """A fresh XMP packet holding only the AIGC label."""
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f"{description(label_json, key, namespace)}</rdf:RDF></x:xmpmeta>"
            '<?xpacket end="w"?>')


def read(xmp: str, key: str = "AIGC") -> list[str]:
    """Label JSON texts in an XMP packet (element or attribute form)."""
    found = [html.unescape(m.group("v")).strip() for m in _element(key).finditer(xmp)]
    found += [html.unescape(m.group("v")).strip() for m in _attr(key).finditer(xmp)]
    return [f for f in found if f]


def strip(xmp: str, key: str = "AIGC") -> str:
    """The packet without any AIGC label (our Description removed, foreign AIGC properties too)."""
    out = _ours(key).sub("", xmp)
    out = _element(key).sub("", out)
    return _attr(key).sub("", out)


def merge(existing: str | None, label_json: str, key: str = "AIGC", namespace: str = NAMESPACE) -> str:
    """``existing`` with our label set (replacing a previous one), or a fresh packet."""
    if not existing or not _RDF_END.search(existing):
        return packet(label_json, key, namespace)
    stripped = strip(existing, key)
    m = list(_RDF_END.finditer(stripped))[-1]
    desc = description(label_json, key, namespace, rdf=m.group("p"))
    return stripped[: m.start()] + desc + stripped[m.start():]
