from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hegui.filing import pdf_writer
from hegui.filing.document import Document
from hegui.filing.pdf_writer import FontError, TrueTypeFont, find_font, render_pdf, wrap


def _doc() -> Document:
    d = Document("t", "安全自评估报告测试", "Self-assessment test")
    d.h("一、基本情况")
    d.p("本报告依据《生成式人工智能服务管理暂行办法》编写。Written in both languages so that long English "
        "sentences wrap at spaces rather than in the middle of words.")
    d.table(["条款", "要求", "结论"], [[f"5.{i}", "语料来源安全要求：应对来源进行安全评估。" * 3, "不符合"]
                                        for i in range(60)], [1, 6, 1])
    return d


def test_pdf_has_searchable_chinese_text_on_several_pages(tmp_path: Path) -> None:
    path = render_pdf(_doc(), tmp_path / "t.pdf")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(ln for ln in info.splitlines() if ln.startswith("Pages:")).split()[1])
    assert pages >= 3 and "安全自评估报告测试" in info
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "本报告依据《生成式人工智能服务管理暂行办法》编写" in text
    assert "5.59" in text and "不符合" in text


def test_pdf_renders_to_an_image(tmp_path: Path) -> None:
    path = render_pdf(_doc(), tmp_path / "t.pdf")
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
                   check=True, capture_output=True)
    png = next(tmp_path.glob("p*.png"))
    assert png.stat().st_size > 1000


def test_embedded_font_is_subset(tmp_path: Path) -> None:
    path = render_pdf(_doc(), tmp_path / "t.pdf")
    assert path.stat().st_size < 400_000  # the full font is ~5 MB


def test_closing_punctuation_never_starts_a_line() -> None:
    font = TrueTypeFont(find_font())
    text = "这是一个用来测试换行的句子，其中包含很多标点符号。每一行都不应该以逗号或句号开头；" * 6
    for width in range(60, 200, 7):
        for line in wrap(font, text, 10, width)[1:]:
            assert line[:1] not in "，。；", (width, line)


def test_missing_font_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pdf_writer, "DEFAULT_FONTS", (tmp_path / "none.ttc",))
    with pytest.raises(FontError, match="fonts-wqy-microhei"):
        find_font()
