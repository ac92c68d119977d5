"""Damaged files of the binary and zipped formats (.doc, .rtf, .msg and its attachments, .ppt,
.docx, .odt, .pptx, .odp, .xlsx, .xls, .ods, .zip, .tar.gz): bytes changed at random places, or
cut short. Each reader gives text or its format's error, never another exception; the readers
of many documents give error entries, never an exception out of ``read`` (which would end a
run). Seeded, so a failure names the mutation that caused it."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest
from test_outlook import message
from test_rtf import WORD

from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.office import OfficeError, docx_text, odp_text, odt_text
from kgx.batch.outlook import msg_attachments, msg_text
from kgx.batch.powerpoint import ppt_text
from kgx.batch.rtf import rtf_text
from kgx.batch.sheets import OdsInput, XlsxInput
from kgx.batch.slides import pptx_text
from kgx.batch.worddoc import doc_text
from kgx.batch.xls import XlsInput, xls_rows

DATA = Path(__file__).parent / "data"
MUTATIONS = 120


def mutated(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice([1, 2, 4, 16, 64])):
        out[rng.randrange(len(out))] = rng.choice([rng.randrange(256), 0, 0x7F, 0xFE, 0xFF])
    return bytes(out[:rng.randrange(1, len(out))] if rng.random() < 0.1 else out)


@pytest.mark.parametrize("name", ["word97.doc", "long.doc", "notes.doc", "rtf", "notes.rtf",
                                  "msg", "deck.ppt.gz", "speaker.ppt.gz", "notes.docx",
                                  "notes.odt", "speaker.pptx", "speaker.odp"])
def test_damaged_documents_are_text_or_a_clear_error(name):
    """(A zip whose directory names a part in bytes that are not UTF-8, or claims a newer zip
    version, is the format's error too, not UnicodeDecodeError or NotImplementedError.)"""
    reader = {"rtf": rtf_text, "notes.rtf": rtf_text, "msg": msg_text, "deck.ppt.gz": ppt_text,
              "speaker.ppt.gz": ppt_text, "notes.docx": docx_text, "notes.odt": odt_text,
              "speaker.pptx": pptx_text, "speaker.odp": odp_text}.get(name, doc_text)
    data = {"rtf": WORD, "msg": message({"__substg1.0_1000001F": "Wei Chen works for "
                                         "Globex.".encode("utf-16-le")})}.get(name)
    data = data or (DATA / name).read_bytes()
    data = gzip.decompress(data) if name.endswith(".gz") else data
    rng = random.Random(name)
    for k in range(MUTATIONS):
        try:
            text, meta = reader(mutated(data, rng))
        except OfficeError:
            continue
        assert isinstance(text, str) and isinstance(meta, dict), k


def test_damaged_outlook_attachments_are_files_or_a_clear_error():
    from test_attachments import attachment

    data = message({"__substg1.0_1000001F": "Wei Chen.".encode("utf-16-le"),
                    "__attach_version1.0_#00000000": attachment("a.doc", (DATA / "word97.doc")
                                                                .read_bytes()),
                    "__attach_version1.0_#00000001": attachment(None, b"x" * 5000, "B.TXT")})
    rng = random.Random("msg attachments")
    for k in range(MUTATIONS):
        try:
            files = msg_attachments(mutated(data, rng))
        except OfficeError:
            continue
        assert all(isinstance(n, str) and isinstance(b, bytes) for n, b in files), k


@pytest.mark.parametrize("name", ["tickets.xls", "cases.xls.gz"])
def test_damaged_xls_workbooks_are_rows_or_a_clear_error(name):
    data = (DATA / name).read_bytes()
    data = gzip.decompress(data) if name.endswith(".gz") else data
    rng = random.Random(name)
    for k in range(MUTATIONS):
        try:
            rows = list(xls_rows(mutated(data, rng)))
        except OfficeError:
            continue
        assert all(isinstance(cells, dict | str) for _, _, cells in rows), k


@pytest.mark.parametrize("fmt", [XlsxInput, XlsInput, OdsInput])
def test_damaged_spreadsheets_are_rows_or_error_entries(fmt, tmp_path):
    data = (DATA / f"tickets.{fmt.name}").read_bytes()
    rng = random.Random(fmt.name)
    path = tmp_path / f"t.{fmt.name}"
    for k in range(MUTATIONS):
        path.write_bytes(mutated(data, rng))
        entries = list(fmt.read(path, tmp_path))
        assert entries and all(e.status in ("ok", "skipped", "error") for e in entries), k
        assert all(e.error.startswith(str(path)) for e in entries if e.status == "error"), k


@pytest.mark.parametrize("suffix", ["zip", "tar.gz"])
def test_damaged_archives_are_members_or_error_entries(suffix, tmp_path):
    from test_archives import MEMBERS, tar_bytes, zip_bytes

    data = zip_bytes(MEMBERS) if suffix == "zip" else tar_bytes(MEMBERS)
    rng = random.Random(suffix)
    path = tmp_path / f"t.{suffix}"
    for k in range(MUTATIONS):
        path.write_bytes(mutated(data, rng))
        entries = list(INPUT_FORMATS[suffix.split(".")[0]].read(path, tmp_path))
        assert all(e.status in ("ok", "skipped", "error") for e in entries), k


@pytest.mark.parametrize("name", ["pubmed.xml", "news.rss", "blog.atom"])
def test_damaged_xml_documents_are_documents_or_error_entries(name, tmp_path):
    """A PubMed article set or a feed with bytes changed or cut: documents, or error entries
    naming the file, never an exception out of ``read``."""
    from test_xmldocs import ATOM, PUBMED, RSS

    data = {"pubmed.xml": PUBMED.encode(), "news.rss": RSS.encode("cp1252"),
            "blog.atom": ATOM.encode()}[name]
    rng = random.Random(name)
    path = tmp_path / name
    for k in range(MUTATIONS):
        path.write_bytes(mutated(data, rng))
        entries = list(INPUT_FORMATS["xml"].read(path, tmp_path))
        assert entries and all(e.status in ("ok", "skipped", "error") for e in entries), k
        assert all(e.error.startswith(str(path)) for e in entries if e.status == "error"), k
