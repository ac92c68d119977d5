"""kgx.batch.slides: a PowerPoint deck is one document, its slides' text in order without the
footers and slide numbers that repeat on every slide; a damaged deck is an error entry naming
the file and what is wrong."""

from __future__ import annotations

import io
import zipfile

from test_epub import rewritten

from helpers import load_benchmark
from kgx.batch import limits, read_document
from kgx.batch.reading import read_inputs

TEXT = ("Slide 1\n\nWei Chen works for Globex in Osaka.\n\nLine one\nline two\n\nSlide 2\n\n"
        "Ana Diaz & John Smith live in Lima.\n\nPrepared by\n\nAnalytics team")


def deck() -> bytes:
    w = load_benchmark("eval_docx")
    return w.pptx_bytes([[w.a_run("Wei Chen works for ") + w.a_run("Glo")
                          + w.a_run("bex in Osaka."),
                          w.a_run("Line one") + "<a:br/>" + w.a_run("line two")],
                         [w.a_run("Ana Diaz & John Smith live in Lima.")]],
                        "Quarterly <deck>", "Company confidential")


def test_pptx_decks_read_slide_by_slide(tmp_path, monkeypatch):
    data = deck()
    (tmp_path / "a.pptx").write_bytes(data)
    (tmp_path / "b.pptx").write_bytes(b"\xd0\xcf\x11\xe0 an old binary .ppt")
    (tmp_path / "c.pptx").write_bytes(rewritten(data, "ppt/slides/slide2.xml", None))
    (tmp_path / "d.pptx").write_bytes(rewritten(data, "ppt/presentation.xml", None))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:  # a deck whose slides together pass the limit
        with zipfile.ZipFile(io.BytesIO(data)) as src:
            for info in src.infolist():
                body = src.read(info)
                if info.filename.startswith("ppt/slides/"):
                    body = body.replace(b"</p:spTree>", b"<!--" + b"x" * 30_000 + b"--></p:spTree>")
                z.writestr(info, body)
    (tmp_path / "e.pptx").write_bytes(out.getvalue())
    (tmp_path / "z.txt").write_text("after them", encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 50_000)
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["a.pptx"].text == TEXT and "confidential" not in entries["a.pptx"].text
    assert entries["a.pptx"].meta == {"title": "Quarterly <deck>"}
    assert read_document(tmp_path / "a.pptx") == TEXT
    where = {name: str(tmp_path / name) for name in entries}
    assert entries["b.pptx"].error == (
        f"{where['b.pptx']}: not a zip file, so not a .pptx")
    assert entries["c.pptx"].error == (
        f"{where['c.pptx']}: its slide list names ppt/slides/slide2.xml, which is not inside")
    assert entries["d.pptx"].error.startswith(f"{where['d.pptx']}: no ppt/presentation.xml")
    assert entries["e.pptx"].error.startswith(f"{where['e.pptx']}: ppt/slides/slide2.xml holds "
                                              "over")
    assert entries["z.txt"].text == "after them"
