"""kgx.batch.epub: an e-book is one document, its chapters in reading order as a reader shows
them; a damaged book is an error entry naming the file and what is wrong; a run's records
point into the text ``read_document`` gives."""

from __future__ import annotations

import gzip
import io
import zipfile

from test_batch import assert_read_as_plain_text

from helpers import load_benchmark
from kgx.batch import limits, read_document
from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.reading import read_inputs

CHAPTERS = ["<h1>Part one</h1><p>Wei Chen works for <em>Glo</em>bex in Osaka.</p>"
            "<p>Ana Diaz &amp; John Smith live in Lima.</p>",
            "<h2>Part two</h2><p>Maria Lopez of Acme met Ivan Petrov in Paris.</p>"
            "<table><tr><td>Prepared by</td><td>Analytics team</td></tr></table>"]
TEXT = ("Part one\n\nWei Chen works for Globex in Osaka.\n\nAna Diaz & John Smith live in "
        "Lima.\n\nPart two\n\nMaria Lopez of Acme met Ivan Petrov in Paris.\n\nPrepared by\n\n"
        "Analytics team")


def rewritten(data: bytes, name: str, content: bytes | None) -> bytes:
    """The zip ``data`` with part ``name`` replaced by ``content`` (None: left out)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info))
        if content is not None:
            dst.writestr(name, content)
    return out.getvalue()


def test_epub_books_read_as_a_reader_shows_them(tmp_path, monkeypatch):
    epub = load_benchmark("eval_docx").epub_bytes
    book = epub(CHAPTERS, "Quarterly <review>", "Maria Lopez")
    (tmp_path / "a.epub").write_bytes(book)
    (tmp_path / "b.epub.gz").write_bytes(gzip.compress(book))
    (tmp_path / "c.epub").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "d.epub").write_bytes(rewritten(book, "META-INF/container.xml", None))
    (tmp_path / "e.epub").write_bytes(rewritten(book, "OEBPS/text/chapter 2.xhtml", None))
    (tmp_path / "f.epub").write_bytes(rewritten(
        book, "OEBPS/text/chapter 1.xhtml", "<p>caf\xe9</p>".encode("latin-1")))
    (tmp_path / "g.epub").write_bytes(epub([f"<p>{'Globex. ' * 2000}</p>"] * 3))
    (tmp_path / "z.txt").write_text("after them", encoding="utf-8")
    assert INPUT_FORMATS["epub"].name == "epub"
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 40_000)  # g's chapters: 3 x 16 kB
    entries = {e.id: e for e in read_inputs([tmp_path])}
    a = entries["a.epub"]
    assert a.status == "ok" and a.text == TEXT  # no cover (linear="no"), navigation, <title>
    assert a.meta == {"title": "Quarterly <review>", "author": "Maria Lopez", "language": "en",
                      "created": "2026-11-02"}
    assert entries["b.epub.gz"].text == TEXT
    assert read_document(tmp_path / "a.epub") == TEXT
    where = {name: str(tmp_path / name) for name in entries}
    assert entries["c.epub"].error == f"{where['c.epub']}: not a zip file, so not an EPUB"
    assert entries["d.epub"].error == (
        f"{where['d.epub']}: no META-INF/container.xml inside: not an EPUB")
    assert entries["e.epub"].error == (
        f"{where['e.epub']}: its spine names OEBPS/text/chapter 2.xhtml, which is not inside")
    assert entries["f.epub"].error.startswith(
        f"{where['f.epub']}: OEBPS/text/chapter 1.xhtml: not valid UTF-8")
    assert entries["g.epub"].error.startswith(f"{where['g.epub']}: OEBPS/text/chapter 3.xhtml "
                                              "holds over")  # the parts together
    assert limits.is_over_limit(entries["g.epub"].error)
    assert entries["z.txt"].text == "after them"


def test_a_books_records_point_into_its_text(fixture_model, tmp_path):
    """A run over a book gives the records of its text read as plain text, offsets included."""
    epub = load_benchmark("eval_docx").epub_bytes
    assert_read_as_plain_text(fixture_model, tmp_path, "book.epub", epub(CHAPTERS, "Review"),
                              TEXT)
