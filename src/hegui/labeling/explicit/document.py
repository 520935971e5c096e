"""Explicit labels in documents: a prompt paragraph in DOCX, a label plate on the first PDF page."""

from __future__ import annotations

import io
import zlib

import pikepdf

from hegui.labeling.explicit import image
from hegui.labeling.explicit.text import find_text_label, prompt_for
from hegui.labeling.formats.base import bad
from hegui.policy.pack import PolicyPack

PDF_PX_PER_PT = 4  # the plate is rasterised at 288 dpi
PDF_XOBJECT_PREFIX = "HgAIGC"


def label_docx(data: bytes, pack: PolicyPack, lang: str = "zh", position: str | None = None) -> bytes:
    """The prompt as its own paragraph at the start or end (middle: before the middle paragraph)."""
    import docx

    try:
        doc = docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises many kinds on a damaged package
        raise bad("DOCX", f"python-docx cannot open it ({type(err).__name__})") from None
    prompt = prompt_for(pack, lang)
    pos = position or pack.labels.text.position
    paras = doc.paragraphs
    if pos == "start" and paras:
        paras[0].insert_paragraph_before(prompt)
    elif pos == "middle" and len(paras) > 1:
        paras[len(paras) // 2].insert_paragraph_before(prompt)
    else:
        doc.add_paragraph(prompt)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def find_docx_label(data: bytes) -> dict[str, object]:
    import docx

    doc = docx.Document(io.BytesIO(data))
    return find_text_label("\n".join(p.text for p in doc.paragraphs))


def label_pdf(data: bytes, pack: PolicyPack, lang: str = "zh", corner: str | None = None) -> bytes:
    """Draw the image label plate on the first page (embedded as an image: no font needed in the PDF)."""
    try:
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except pikepdf.PdfError as err:
        raise bad("PDF", f"damaged ({err})") from None
    with pdf:
        if not pdf.pages:
            raise bad("PDF", "no pages")
        page = pdf.pages[0]
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        wpx, hpx = int((x1 - x0) * PDF_PX_PER_PT), int((y1 - y0) * PDF_PX_PER_PT)
        plate = image.layout(wpx, hpx, image.image_text(pack, lang), corner or pack.labels.image.corner,
                             pack.labels.image.min_height_ratio)
        patch = image.render(plate)
        xobj = pikepdf.Stream(pdf, zlib.compress(patch.tobytes()))
        xobj.Type, xobj.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        xobj.Width, xobj.Height = patch.width, patch.height
        xobj.ColorSpace, xobj.BitsPerComponent = pikepdf.Name.DeviceRGB, 8
        xobj.Filter = pikepdf.Name.FlateDecode
        name = page.add_resource(xobj, pikepdf.Name.XObject, prefix=PDF_XOBJECT_PREFIX)
        left, top, right, bottom = plate.box
        w, h = (right - left) / PDF_PX_PER_PT, (bottom - top) / PDF_PX_PER_PT
        x, y = x0 + left / PDF_PX_PER_PT, y0 + (hpx - bottom) / PDF_PX_PER_PT
        page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
        page.contents_add(pikepdf.Stream(pdf, f"\nQ q {w:.3f} 0 0 {h:.3f} {x:.3f} {y:.3f} cm {name} Do Q\n".encode()))
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def find_pdf_label(data: bytes) -> dict[str, object]:
    """Our plate is an image XObject named ``/HgAIGC…`` drawn by the first page's content."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        resources = page.obj.get("/Resources")
        xobjects = resources.get("/XObject") if resources is not None else None
        names = [str(n) for n in xobjects.keys()] if xobjects is not None else []  # noqa: SIM118
        ours = [n for n in names if n.startswith("/" + PDF_XOBJECT_PREFIX)]
        if not ours:
            return {"found": False, "note": "no hegui label plate on page 1 (other visible labels are not recognised)"}
        content = b"".join(op_bytes for op_bytes in _content_bytes(page))
        drawn = [n for n in ours if f"{n} Do".encode() in content]
        if not drawn:
            return {"found": False, "note": "label plate present but not drawn on page 1"}
        return {"found": True, "kind": "pdf-plate", "page": 1}


def _content_bytes(page: pikepdf.Page) -> list[bytes]:
    contents = page.obj.get("/Contents")
    streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    return [bytes(s.read_bytes()) for s in streams if isinstance(s, pikepdf.Stream)]
