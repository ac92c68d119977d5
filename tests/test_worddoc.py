"""kgx.batch.worddoc and kgx.batch.cfb: a Word 97-2003 ``.doc`` file is one document, its main
text as Word shows it (tracked deletions, hidden text, field instructions left out; footnotes
and endnotes after it);
a damaged, encrypted or foreign file is an error entry naming it; a run's records point into
the text ``read_document`` gives.

``tests/data/word97.doc`` and ``tests/data/long.doc`` were written by LibreOffice 7.4 ("MS Word
97" filter) from this project's own text: the RTF file of ``test_rtf.py`` (a footnote, a
hyperlink field, hidden and deleted text, a table, Cyrillic, an emoji) and a .docx of 240
paragraphs with tracked deletions and hidden runs (streams past the 4,096-byte mini-stream
cutoff)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
from test_batch import assert_read_as_plain_text

from helpers import cfb_bytes
from kgx.batch import limits, read_document, worddoc
from kgx.batch.cfb import CfbError, CompoundFile
from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.office import docx_text
from kgx.batch.reading import read_inputs
from kgx.batch.slides import pptx_text
from kgx.batch.worddoc import DocError, doc_text

DATA = Path(__file__).parent / "data"
TEXT = ("Wei Chen works for Globex in Osaka.\n\nAna Diaz & John Smith live in Lima \u2013 caf\u00e9"
        " na\u00efve \U0001f600.\n\nAcme Corp met \u041f\u0435\u0442\u0440\u043e\u0432 in Paris."
        "\nSecond\u00a0line\ttabbed, non-breaking {x} \\.\n\nItem one\n\nPrepared by\n\nAnalytics "
        "team\n\nA footnote.")  # the footnote after the body
META = {"title": "Quarterly review", "author": "Mar\u00eda L\u00f3pez",
        "created": "2026-11-02T09:30:00Z", "modified": "2026-11-03T10:05:00Z"}


def long_text() -> str:
    """What ``long.doc`` shows: the tracked deletions (" formerly of Initech" after every 50th
    paragraph from the 8th) and the hidden runs (" hidden remark") are not in it."""
    people = ["Wei Chen", "Ana Diaz", "John Smith", "Maria Lopez", "Ivan Petrov", "Sofia Rossi"]
    orgs = ["Globex", "Acme", "Initech", "Umbrella", "Hooli"]
    cities = ["Osaka", "Lima", "Paris", "Oslo", "Kyiv", "Quito", "Accra"]
    lines = [f"{people[i % 6]} works for {orgs[i % 5]} in {cities[i % 7]}." for i in range(240)]
    return "\n\n".join(["Quarterly report", *lines, "Prepared by", "Analytics team"])


def test_word97_files_read_as_word_shows_them():
    assert doc_text((DATA / "word97.doc").read_bytes()) == (TEXT, META)
    text, meta = doc_text((DATA / "long.doc").read_bytes())
    assert text == long_text() and meta == {}
    assert "formerly" not in text and "hidden" not in text


def test_damaged_foreign_and_encrypted_files_are_refused(monkeypatch):
    good = (DATA / "word97.doc").read_bytes()
    with pytest.raises(DocError, match="not an OLE compound file"):
        doc_text(b"PK\x03\x04 a zip")
    with pytest.raises(DocError, match="a password-protected Office file: refused"):
        doc_text(cfb_bytes({"EncryptionInfo": b"x", "EncryptedPackage": b"y"}))
    with pytest.raises(DocError, match="no WordDocument stream inside"):
        doc_text(cfb_bytes({"Workbook": b"an .xls"}))
    with pytest.raises(DocError, match="does not start with Word's FIB"):
        doc_text(cfb_bytes({"WordDocument": b"\x00" * 600}))
    fib = bytearray(cfb_bytes({"WordDocument": b"\xec\xa5" + b"\x00" * 8 + b"\x00\x01"}))
    with pytest.raises(DocError, match=r"password-protected \(encrypted\): refused"):
        doc_text(bytes(fib))
    with pytest.raises(DocError, match="no 0Table stream inside"):
        doc_text(cfb_bytes({"WordDocument": b"\xec\xa5" + b"\x00" * 600}))
    with pytest.raises(DocError, match="lies beyond the end of the file"):
        doc_text(good[:6000])
    looped = bytearray(cfb_bytes({"WordDocument": b"\xec\xa5"}))
    struct.pack_into("<I", looped, 512 + 4 * 3, 3)  # the stream's second sector: itself
    with pytest.raises(DocError, match="a chain of sectors loops"):
        doc_text(bytes(looped))
    with pytest.raises(CfbError, match="shorter than"):
        CompoundFile(good[:100])
    repeated = bytearray(cfb_bytes({"WordDocument": b"\xec\xa5"}))  # 10 sectors
    struct.pack_into("<I", repeated, 0x2C, 109)  # 109 sector tables, all sector 0
    struct.pack_into("<109I", repeated, 0x4C, *[0] * 109)
    with pytest.raises(CfbError, match="its sector table is larger than the file"):
        CompoundFile(bytes(repeated))
    # hostile tables: a negative formatting size must not stall the piece table's reader, and
    # marked runs are merged once so that a piece finds its own by bisection
    with pytest.raises(DocError, match="no piece table"):
        worddoc._pieces(b"\x01\xfd\xff\x01\x00\x00")
    assert worddoc._merged([(5, 8), (1, 3), (2, 4), (8, 9), (10, 10)]) == [(1, 4), (5, 9)]
    # the same containers under the new names: said plainly
    with pytest.raises(ValueError, match="a binary .doc file under a .docx name: rename it .doc"):
        docx_text(good)
    with pytest.raises(ValueError, match="a password-protected Office file: refused"):
        docx_text(cfb_bytes({"EncryptionInfo": b"x", "EncryptedPackage": b"y"}))
    with pytest.raises(ValueError, match="a binary .ppt file under a .pptx name"):
        pptx_text(cfb_bytes({"PowerPoint Document": b"x"}))
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 5_000)
    with pytest.raises(DocError, match="its WordDocument stream holds over 5,000 bytes"):
        doc_text((DATA / "long.doc").read_bytes())


def test_doc_files_in_a_run(tmp_path, monkeypatch):
    w = __import__("helpers").load_benchmark("eval_docx")
    (tmp_path / "a.doc").write_bytes((DATA / "word97.doc").read_bytes())
    (tmp_path / "b.doc.gz").write_bytes(gzip.compress((DATA / "word97.doc").read_bytes()))
    (tmp_path / "c.doc").write_bytes(b"{\\rtf1 Saved by Word as RTF under a .doc name.}")
    (tmp_path / "d.doc").write_bytes(w.docx_bytes([w.run("A .docx named .doc.")], "Memo"))
    (tmp_path / "e.doc").write_bytes(b"Not a document")
    (tmp_path / "f.doc").write_bytes((DATA / "word97.doc").read_bytes()[:6000])
    (tmp_path / "z.txt").write_text("after them", encoding="utf-8")
    assert INPUT_FORMATS["doc"].name == "doc"
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["a.doc"].status == "ok" and entries["a.doc"].text == TEXT
    assert entries["a.doc"].meta == META and entries["b.doc.gz"].text == TEXT
    assert read_document(tmp_path / "a.doc") == TEXT
    assert entries["c.doc"].text == "Saved by Word as RTF under a .doc name."
    assert entries["d.doc"].text == "A .docx named .doc."
    assert entries["d.doc"].meta["title"] == "Memo"
    where = {name: str(tmp_path / name) for name in entries}
    assert entries["e.doc"].error == f"{where['e.doc']}: not an OLE compound file"
    assert entries["f.doc"].error.startswith(f"{where['f.doc']}: sector ")
    assert entries["z.txt"].text == "after them"


def test_a_doc_files_records_point_into_its_text(fixture_model, tmp_path):
    """A run over a .doc file gives the records of its text read as plain text, offsets too."""
    assert_read_as_plain_text(fixture_model, tmp_path, "report.doc",
                              (DATA / "long.doc").read_bytes(), long_text())
