"""kgx.batch.xls: an Excel 97-2003 workbook holds one document a row of each sheet, read as the
same table in a ``.xlsx`` or ``.csv`` file is; a password-protected, older or damaged workbook
is an error entry naming the file and why, the other sheets (and the rows before) kept.

``tests/data/tickets.xls`` was written by LibreOffice Calc 7.4 from ``tests/data/tickets.xlsx``
(``soffice --convert-to xls``); ``cases.xls.gz`` by Calc from a flat OpenDocument sheet of this
project's own text: a text of 7,679 characters, Latin and Japanese, whose shared string goes
on past its record (CONTINUE records), formulas with text, boolean and error results, a time,
a date, a number in a column without a name, and a second sheet of 300 rows of two numbers
each (MULRK records). The workbooks of the other tests (a string whose characters go on in a
CONTINUE record 16 bits wide after 8, every cell record, damage) are built here record by
record ([MS-XLS])."""

from __future__ import annotations

import gzip
import quopri
import re
import shutil
import struct
from pathlib import Path

import pytest

from helpers import cfb_bytes
from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.office import OfficeError
from kgx.batch.reading import read_inputs
from kgx.batch.sheets import EPOCH, EPOCH_1904, excel_date
from kgx.batch.xls import XlsInput, xls_rows

DATA = Path(__file__).parent / "data"
LONG = (" ".join(["Wei Chen works for Globex in Osaka."] * 150)
        + " 大阪のグローベックス社で働いている。" * 120)


def test_a_workbook_reads_as_the_same_table_in_xlsx(tmp_path):
    assert INPUT_FORMATS["xls"] is XlsInput
    shutil.copy(DATA / "tickets.xls", tmp_path / "tickets.xls")
    old = list(read_inputs([tmp_path / "tickets.xls"]))
    new = list(read_inputs([DATA / "tickets.xlsx"]))
    assert [(e.id.replace(".xls", ".xlsx"), e.text, e.meta, e.status) for e in old] == [
        (e.id, e.text, e.meta, e.status) for e in new]
    assert [e.id for e in old] == ["T-1", "T-2", "T-3", "tickets.xls:tickets!5", "T-5"]
    # Calc writes a boolean as a number shown by the format "TRUE";"TRUE";"FALSE"
    assert old[3].meta == {"priority": "medium", "opened": "2026-11-05", "score": "TRUE"}
    assert XlsInput.count(tmp_path / "tickets.xls") == 5


def test_long_strings_formulas_and_sheets_of_a_calc_workbook(tmp_path):
    (tmp_path / "cases.xls").write_bytes(gzip.decompress((DATA / "cases.xls.gz").read_bytes()))
    rows = list(xls_rows((tmp_path / "cases.xls").read_bytes()))
    cases = {n: cells for sheet, n, cells in rows if sheet == "Cases"}
    assert cases[3] == {0: "a2", 1: LONG, 2: "long", 3: "123456789", 4: "61728394.5"}
    assert cases[2][3] == "-7.25" and cases[6] == {
        0: "a5", 1: "Chen Wei 陈伟 visited Beijing 北京.", 2: "2026-11-02", 3: "0.1"}
    assert (cases[4][2], cases[4][3]) == ("Ana Diaz met John Smith in Lima. (copy)", "#DIV/0!")
    assert cases[5] == {0: "a4", 1: "Ivan Petrov lives in Kyiv — Київ.", 2: "TRUE",
                        3: "18:30:00"}
    more = [(n, cells) for sheet, n, cells in rows if sheet == "Más"]
    assert len(more) == 301 and more[-1] == (301, {
        0: "Row 300 of the second sheet, in Zürich.", 1: "300", 2: "150"})
    assert more[1][1][2] == "0.5"
    entries = list(XlsInput.read(tmp_path / "cases.xls", tmp_path))
    assert [e.id for e in entries[:2]] == ["a1", "a2"] and entries[1].text == LONG
    assert entries[1].meta == {"kind": "long", "value": "123456789"}  # no column name: no field
    assert entries[5].id == "cases.xls:Más!2" and entries[5].meta == {"n": "1", "half": "0.5"}
    assert len(entries) == 5 + 300 == XlsInput.count(tmp_path / "cases.xls")


def test_excel_dates_as_excel_shows_them():
    assert excel_date("1", EPOCH) == "1900-01-01"  # serials before Excel's 29 February 1900
    assert excel_date("59", EPOCH) == "1900-02-28" and excel_date("61", EPOCH) == "1900-03-01"
    assert excel_date("46328", EPOCH) == "2026-11-02"
    assert excel_date("46328.75", EPOCH) == "2026-11-02T18:00:00"
    assert excel_date("0.5", EPOCH) == "12:00:00" and excel_date("0", EPOCH_1904) == "00:00:00"
    assert excel_date("0", EPOCH) == "00:00:00" and excel_date("1", EPOCH_1904) == "1904-01-02"
    assert excel_date("n/a", EPOCH) == "n/a"


def record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def bof(kind: int, version: int = 0x0600) -> bytes:
    return record(0x0809, struct.pack("<HHHHII", version, kind, 0, 0, 0, 0))


def text(s: str, length: str = "H") -> bytes:
    """An ``XLUnicodeString`` (8-bit when Latin-1 will do)."""
    wide = any(ord(c) > 255 for c in s)
    return struct.pack(f"<{length}B", len(s), wide) + s.encode(
        "utf-16-le" if wide else "latin-1")


def workbook(sheets: dict[str, list[bytes]], head: list[bytes] = (), *,
             strings: list[str] = (), version: int = 0x0600, charts: tuple[str, ...] = (),
             sst: bytes = b"") -> bytes:
    """A ``Workbook`` stream: globals (``head``, the shared ``strings`` or records ``sst``, the
    cell formats 0-2: general, a date, "yes";"no";"none"; the sheet list, ``charts`` among them
    chart sheets) then each sheet's records."""
    xfs = [record(0x00E0, struct.pack("<HH", 0, fmt) + bytes(16)) for fmt in (0, 14, 164)]
    fmt = record(0x041E, struct.pack("<H", 164) + text('"yes";"no";"none"'))
    sst = sst or record(0x00FC, struct.pack("<II", len(strings), len(strings)) + b"".join(
        text(s) for s in strings)) if strings or sst else b""
    globals_ = bof(5, version) + b"".join(head) + fmt + b"".join(xfs) + sst
    size = len(globals_) + sum(4 + 6 + len(text(n, "B")) for n in sheets) + 4
    bodies, listing = [], []
    for name, records in sheets.items():
        listing.append(record(0x0085, struct.pack("<IBB", size + sum(map(len, bodies)), 0,
                                                  2 if name in charts else 0) + text(name, "B")))
        bodies.append(bof(0x10, version) + b"".join(records) + record(0x000A, b""))
    return globals_ + b"".join(listing) + record(0x000A, b"") + b"".join(bodies)


def cell(kind: int, row: int, column: int, xf: int, data: bytes) -> bytes:
    return record(kind, struct.pack("<HHH", row, column, xf) + data)


def header(*names: str) -> list[bytes]:
    return [cell(0x0204, 0, k, 0, text(n)) for k, n in enumerate(names)]


def test_every_kind_of_cell_record():
    # a shared string whose characters go on in a CONTINUE record, there 16 bits wide
    shared = record(0x00FC, struct.pack("<IIHB", 1, 1, 32, 0) + b"Wei Chen works for Globex in ") \
        + record(0x003C, b"\x01" + "大阪.".encode("utf-16-le"))
    rk = [struct.pack("<I", 7 << 2 | 2), struct.pack("<I", 250 << 2 | 3)]  # 7, 2.5 (250 / 100)
    stream = workbook({"A": [
        *header("id", "text", "a", "b", "c"),
        cell(0x0204, 1, 0, 0, text("r1")), cell(0x00FD, 1, 1, 0, struct.pack("<I", 0)),
        cell(0x0203, 1, 2, 1, struct.pack("<d", 46328.5)),  # a date format (14): a date
        record(0x00BD, struct.pack("<HH", 1, 3) + struct.pack("<H", 0) + rk[0]
               + struct.pack("<H", 0) + rk[1] + struct.pack("<H", 4)),
        cell(0x00D6, 2, 1, 0, text("Ana Diaz — Лима.") + struct.pack("<H", 0)),  # rich text
        cell(0x0205, 2, 2, 0, b"\x01\x00"), cell(0x0205, 2, 3, 0, b"\x2a\x01"),
        cell(0x027E, 2, 4, 2, struct.pack("<I", 0)),  # 0 in "yes";"no";"none": its 3rd word
        cell(0x0006, 3, 1, 0, b"\x00" * 6 + b"\xff\xff" + bytes(6)),  # a text result...
        record(0x0207, text("Maria Lopez of Acme.")),  # ...given by the STRING record after it
        cell(0x0006, 3, 2, 0, b"\x02\x00\x07\x00\x00\x00\xff\xff" + bytes(6)),
        cell(0x0006, 3, 3, 2, struct.pack("<d", -1.0) + bytes(6)),
        cell(0x0006, 3, 4, 0, b"\x03\x00\x00\x00\x00\x00\xff\xff" + bytes(6)),  # empty text
        bof(0x20), cell(0x0203, 4, 1, 0, struct.pack("<d", 9.0)), record(0x000A, b""),  # chart
    ], "Chart1": [cell(0x0204, 0, 0, 0, text("text")), cell(0x0204, 1, 0, 0, text("no"))]},
        charts=("Chart1",), sst=shared)
    rows = list(xls_rows(cfb_bytes({"Workbook": stream})))
    assert rows == [
        ("A", 1, {0: "id", 1: "text", 2: "a", 3: "b", 4: "c"}),
        ("A", 2, {0: "r1", 1: "Wei Chen works for Globex in 大阪.", 2: "2026-11-02T12:00:00",
                  3: "7", 4: "2.5"}),
        ("A", 3, {1: "Ana Diaz — Лима.", 2: "TRUE", 3: "#N/A", 4: "none"}),
        ("A", 4, {1: "Maria Lopez of Acme.", 2: "#DIV/0!", 3: "no"})]


def test_sheets_that_cannot_be_read_are_error_entries_and_the_others_read(tmp_path):
    good = [*header("text"), cell(0x0204, 1, 0, 0, text("Wei Chen works for Globex."))]
    bad = [*header("text"), cell(0x00FD, 1, 0, 0, struct.pack("<I", 5))]  # no string 5
    (tmp_path / "a.xls").write_bytes(cfb_bytes({"Workbook": workbook(
        {"Bad": bad, "Good": good, "Cut": [*header("text"), record(0x0203, b"\0\0")]})}))
    entries = list(XlsInput.read(tmp_path / "a.xls", tmp_path))
    assert [e.status for e in entries] == ["error", "ok", "error"]
    assert entries[0].error == (f"{tmp_path / 'a.xls'}: its sheet 'Bad' cannot be read: a cell "
                                "points to shared string 5, which the workbook does not hold")
    assert entries[1].id == "a.xls:Good!2" and entries[1].text == "Wei Chen works for Globex."
    assert entries[2].error.endswith("its sheet 'Cut' has a record cut short (damaged?)")


@pytest.mark.parametrize(("data", "reason"), [
    (cfb_bytes({"Workbook": workbook({"S": header("text")}, [record(0x002F, bytes(54))])}),
     "a password-protected Office file: refused"),
    (cfb_bytes({"EncryptedPackage": b"x" * 100, "EncryptionInfo": b"y" * 100}),
     "a password-protected Office file: refused"),
    (cfb_bytes({"Book": b"\x09\x08" + bytes(100)}),
     "an Excel 5.0/95 workbook (BIFF5): not read; save it as .xlsx"),
    (cfb_bytes({"Workbook": workbook({"S": header("text")}, version=0x0500)}),
     "BIFF version 0x0500, not Excel 97-2003's (0x0600): not read"),
    (cfb_bytes({"WordDocument": bytes(600)}),
     "no Workbook stream inside: not an Excel 97-2003 workbook"),
    (cfb_bytes({"Workbook": workbook({"S": header("text")})[:40]}),  # padded with zeros
     "its Workbook stream ends without an EOF record (truncated?)"),
    (b"<html><p>text</p></html>",
     "an HTML or XML file without a table, so not an Excel 97-2003 workbook"),
    (b"\x09\x00\x04\x00\x02\x00\x10\x00", "a BIFF2-4 worksheet (Excel 4 or older), so not an "
     "Excel 97-2003 workbook"),
    (b"\x00\x01binary\xff", "not an OLE compound file, so not an Excel 97-2003 workbook"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF under a .xls name: rename it .pdf"),
    (b"id text\n1 Wei Chen\n", "text that is neither tab- nor comma-separated, so not a table"),
])
def test_workbooks_not_read_say_why(tmp_path, data, reason):
    with pytest.raises(OfficeError) as caught:
        list(xls_rows(data))
    assert str(caught.value) == reason
    (tmp_path / "w.xls").write_bytes(data)
    [entry] = XlsInput.read(tmp_path / "w.xls", tmp_path)
    assert entry.status == "error" and entry.error == f"{tmp_path / 'w.xls'}: {reason}"


def test_a_xlsx_under_the_old_name_is_read_as_one(tmp_path):
    shutil.copy(DATA / "tickets.xlsx", tmp_path / "tickets.xls")
    assert [e.text for e in read_inputs([tmp_path / "tickets.xls"])] == [
        e.text for e in read_inputs([DATA / "tickets.xlsx"])]


def test_what_exports_name_xls_is_read_as_excel_opens_it(tmp_path):
    """``tickets-html.xls``: the HTML table LibreOffice Calc 7.4 wrote of ``tickets.xlsx``
    (``soffice --convert-to html``), as report exports write them under a ``.xls`` name."""
    def rows_of(data: bytes) -> list:
        return [(cells, n) for _, n, cells in xls_rows(data)]

    want = rows_of((DATA / "tickets.xlsx").read_bytes())
    html = (DATA / "tickets-html.xls").read_bytes()
    assert rows_of(html) == want
    shutil.copy(DATA / "tickets-html.xls", tmp_path / "report.xls")
    assert [e.id for e in read_inputs([tmp_path / "report.xls"])] == [
        "T-1", "T-2", "T-3", "report.xls:Table 1!5", "T-5"]
    # Excel's "single file web page": the HTML in a MIME message, quoted-printable
    mhtml = (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n"
             b"--b\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
             b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
             + quopri.encodestring(html) + b"\r\n--b--\r\n")
    assert rows_of(mhtml) == want
    # XML Spreadsheet 2003, as Excel 2003 and Calc write it
    ss = 'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"'
    xml = (f'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
           f'{ss}><Worksheet ss:Name="Cases"><Table><Row><Cell><Data ss:Type="String">text'
           '</Data></Cell><Cell ss:Index="3"><Data ss:Type="String">when</Data></Cell>'
           '<Cell><Data ss:Type="String">ok</Data></Cell></Row>'
           '<Row ss:Index="4"><Cell ss:MergeAcross="1"><Data ss:Type="String">Wei Chen works '
           'for <Font>Globex</Font>.</Data></Cell><Cell><Data ss:Type="DateTime">'
           '2026-11-02T00:00:00.000</Data></Cell><Cell><Data ss:Type="Boolean">1</Data></Cell>'
           '</Row><Row><Cell><Data ss:Type="Number">7</Data></Cell><Cell ss:Index="3"><Data '
           'ss:Type="DateTime">2026-11-02T18:30:00.000</Data></Cell></Row></Table></Worksheet>'
           '<Worksheet ss:Name="Empty"><Table/></Worksheet></Workbook>').encode()
    assert list(xls_rows(xml)) == [
        ("Cases", 1, {0: "text", 2: "when", 3: "ok"}),
        ("Cases", 4, {0: "Wei Chen works for Globex.", 2: "2026-11-02", 3: "TRUE"}),
        ("Cases", 5, {0: "7", 2: "2026-11-02T18:30:00"})]
    # text: tab-separated (Excel's "Unicode text" is UTF-16), or comma-separated
    tsv = "text\twho\nWei Chen works for Globex.\tCafé\n"
    assert list(xls_rows(tsv.encode("utf-16"))) == list(xls_rows(tsv.encode("cp1252"))) == [
        ("tab-separated", 1, {0: "text", 1: "who"}),
        ("tab-separated", 2, {0: "Wei Chen works for Globex.", 1: "Café"})]
    utf16 = "<html><table><tr><td>text</td></tr><tr><td>Café in Köln.</td></tr></table>"
    assert list(xls_rows(utf16.encode("utf-16"))) == [  # Excel's "Unicode" web page
        ("Table 1", 1, {0: "text"}), ("Table 1", 2, {0: "Café in Köln."})]
    assert list(xls_rows(b'text,n\n"Ana Diaz, of Lima.",2\n')) == [
        ("comma-separated", 1, {0: "text", 1: "n"}),
        ("comma-separated", 2, {0: "Ana Diaz, of Lima.", 1: "2"})]
    for data, reason in [
            (b"<html><body><p>No table.</p></body></html>", "an HTML or XML file without a table"),
            (b"just some words\n", "text that is neither tab- nor comma-separated"),
            (xml.replace(b"<Worksheet", b"<!DOCTYPE x [<!ENTITY a 'b'>]><Worksheet", 1),
             "it declares XML entities: refused")]:
        with pytest.raises(OfficeError, match=re.escape(reason)):
            list(xls_rows(data))


def test_html_tables_as_a_browser_lays_them_out():
    html = ("<html><head><meta charset='windows-1252'><script>var x = '<table>';</script>"
            "</head><body><table><tr><th>text</th><th colspan=2>place</th><th>n</th></tr>"
            "<tr><td rowspan=2>Wei   Chen<br>works for\n Globex.</td><td>Osaka</td><td>JP</td>"
            "<td>1</td></tr><tr><td>Lima</td><td>PE</td><td>2</td></tr>"
            "<tr><td>Caf\xe9 <table><tr><td>inner</td></tr></table></td><td></td></tr>"
            "</table></body></html>").encode("cp1252")
    assert list(xls_rows(html)) == [
        ("Table 1", 1, {0: "text", 1: "place", 3: "n"}),
        ("Table 1", 2, {0: "Wei Chen\nworks for Globex.", 1: "Osaka", 2: "JP", 3: "1"}),
        ("Table 1", 3, {1: "Lima", 2: "PE", 3: "2"}),  # the first cell is the span's
        ("Table 1", 4, {0: "Café"}),
        ("Table 2", 1, {0: "inner"})]  # a table inside a cell: a sheet of its own
