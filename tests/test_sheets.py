"""kgx.batch.sheets: an Excel workbook holds one document a row of each sheet, read as the same
table in a ``.csv`` file is (id, text and metadata columns; dates as ISO 8601); a sheet without
the text column, a damaged workbook or another format under the name are error entries naming
the file and sheet, the rows before kept.

``tests/data/tickets.xlsx`` and ``tickets.ods`` were written by LibreOffice Calc 7.4 from
``tests/data/tickets.csv`` (``soffice --convert-to xlsx``, ``ods``; ``tickets.fods.gz`` the
flat file Calc wrote of the ``.xlsx``: dates as date cells, numbers
and a boolean as such, a text with a line break); the other workbooks by
``benchmarks/bench_tables.py``'s ``xlsx_bytes`` and by this file."""

from __future__ import annotations

import gzip
import io
import shutil
import zipfile
from pathlib import Path

from helpers import cfb_bytes, load_benchmark
from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.reading import read_inputs
from kgx.batch.sheets import OdsInput, XlsxInput, column_index

DATA = Path(__file__).parent / "data"


def test_a_workbook_reads_as_the_same_table_in_csv(tmp_path):
    for name in ("tickets.xlsx", "tickets.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "gz.xlsx.gz").write_bytes(gzip.compress((DATA / "tickets.xlsx").read_bytes()))
    assert INPUT_FORMATS["xlsx"].name == "xlsx"
    # each read alone: together, the same ids would be duplicates
    book = list(read_inputs([tmp_path / "tickets.xlsx"]))
    table = list(read_inputs([tmp_path / "tickets.csv"]))
    packed = list(read_inputs([tmp_path / "gz.xlsx.gz"]))
    calc = list(read_inputs([DATA / "tickets.ods"]))  # Calc's own format: the same rows
    assert [(e.id, e.text, e.meta) for e in calc] == [
        (e.id.replace(".xlsx", ".ods"), e.text, e.meta) for e in book]
    flat = list(read_inputs([DATA / "tickets.fods.gz"]))  # and its flat, one-XML file
    assert [(e.id, e.text, e.meta) for e in flat] == [
        (e.id.replace(".xlsx", ".fods.gz"), e.text, e.meta) for e in book]
    assert [(e.text, e.meta, e.status) for e in book] == [(e.text, e.meta, e.status)
                                                          for e in table]
    assert [e.id for e in book] == ["T-1", "T-2", "T-3", "tickets.xlsx:tickets!5", "T-5"]
    assert book[0].meta == {"priority": "high", "opened": "2026-11-02", "score": "3"}
    assert book[3].text == "Maria Lopez of Acme met Ivan Petrov in Paris.\nA second line."
    assert book[2].status == "skipped" and book[3].meta["score"] == "TRUE"
    assert [e.text for e in packed] == [e.text for e in book]
    assert XlsxInput.count(tmp_path / "tickets.xlsx") == OdsInput.count(DATA / "tickets.ods") == 5
    assert XlsxInput.count(tmp_path / "tickets.csv") is None  # not a workbook


def test_sheets_dates_and_damage(tmp_path):
    xlsx = load_benchmark("bench_tables").xlsx_bytes
    (tmp_path / "a.xlsx").write_bytes(xlsx({
        "Cases": [["text", "id", "when"], ["Wei Chen works for Globex.", "c1", "46328"],
                  ["Ana Diaz lives in Lima.", "", "46328.75"]],
        "Notes": [["note"], ["not a document"]],
        "More": [["id", "text"], ["m1", "Maria Lopez of Acme."]]},
        date1904=True, dates={"C2": "46328", "C3": "46328.75"}))
    (tmp_path / "b.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "c.xlsx").write_bytes(cfb_bytes({"Workbook": b"an old .xls"}))
    broken = io.BytesIO()  # the last row's cell points past the shared strings
    with zipfile.ZipFile(io.BytesIO(xlsx({"S": [["text"], ["one"], ["two"]]}))) as src, \
            zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info).replace(b"<v>2</v>", b"<v>9</v>"))
    broken = broken.getvalue()
    (tmp_path / "d.xlsx").write_bytes(broken)
    entries = {e.id: e for e in read_inputs([tmp_path])}
    where = {n: str(tmp_path / n) for n in ("a.xlsx", "b.xlsx", "c.xlsx", "d.xlsx")}
    assert entries["c1"].text == "Wei Chen works for Globex."
    assert entries["c1"].meta == {"when": "2030-11-03"}  # the 1904 date system
    assert entries["a.xlsx:Cases!3"].meta == {"when": "2030-11-03T18:00:00"}
    assert entries["a.xlsx:Notes!1"].error == (
        f"{where['a.xlsx']}: sheet 'Notes', row 1: the header has no text column 'text' (its "
        "columns: 'note')")
    assert entries["m1"].text == "Maria Lopez of Acme."  # the sheet after it is read
    assert entries["b.xlsx"].error == f"{where['b.xlsx']}: not a zip file, so not a .xlsx"
    assert entries["c.xlsx"].error == (
        f"{where['c.xlsx']}: a binary .xls file under a .xlsx name: rename it .xls")
    assert entries["d.xlsx:S!2"].text == "one"  # the rows before the damage are kept
    assert entries["d.xlsx:end"].error == (
        f"{where['d.xlsx']}: a cell points to shared string '9', which the workbook does not "
        "hold; the rows before were kept")
    assert column_index("A1") == 0 and column_index("AB12") == 27 and column_index("XFD3") == 16383


def ods(rows: str) -> bytes:
    """An .ods file whose one sheet holds the ``table:table-row`` elements ``rows``."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", f"<office:document-content {ns}><office:body>"
                         f'<office:spreadsheet><table:table table:name="S">{rows}</table:table>'
                         "</office:spreadsheet></office:body></office:document-content>")
    return out.getvalue()


def test_repeated_cells_and_rows_of_a_calc_sheet(tmp_path):
    """Calc writes runs of equal rows and cells once, with a count: a row with values repeats,
    an empty run (Calc pads a sheet to its last row, a million) only moves the row number on."""
    def cell(text: str, times: int = 1) -> str:
        repeat = f' table:number-columns-repeated="{times}"' if times > 1 else ""
        return (f'<table:table-cell office:value-type="string"{repeat}><text:p>{text}</text:p>'
                "</table:table-cell>")

    rows = ("<table:table-row>" + cell("text") + cell("tag", 1) + "</table:table-row>"
            '<table:table-row table:number-rows-repeated="2">' + cell("Wei Chen.")
            + cell("x") + "</table:table-row>"
            '<table:table-row table:number-rows-repeated="1000000"><table:table-cell '
            'table:number-columns-repeated="1024"/></table:table-row>'
            "<table:table-row>" + cell("Ana<text:s text:c=\"2\"/>Diaz.") + cell("y")
            + "</table:table-row>")
    (tmp_path / "a.ods").write_bytes(ods(rows))
    (tmp_path / "b.ods").write_bytes(b"PK\x03\x04 not a zip")
    entries = list(read_inputs([tmp_path]))
    assert [(e.id, e.text, e.meta) for e in entries[:3]] == [
        ("a.ods:S!2", "Wei Chen.", {"tag": "x"}), ("a.ods:S!3", "Wei Chen.", {"tag": "x"}),
        ("a.ods:S!1000004", "Ana  Diaz.", {"tag": "y"})]
    assert entries[3].error == f"{tmp_path / 'b.ods'}: not a zip file, so not an .ods"


def test_calc_times_of_day_read_as_the_excel_readers_write_them(tmp_path):
    def row(*cells: str) -> str:
        return "<table:table-row>" + "".join(cells) + "</table:table-row>"

    def time(value: str) -> str:
        return f'<table:table-cell office:value-type="time" office:time-value="{value}"/>'

    text = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    (tmp_path / "t.ods").write_bytes(ods(
        row(text.format("text"), text.format("at"), text.format("took"))
        + row(text.format("Wei Chen."), time("PT18H30M00S"), time("PT36H00M00S"))
        + row(text.format("Ana Diaz."), time("PT09H05M59.6S"), time("P1DT1H"))))
    assert [e.meta for e in read_inputs([tmp_path / "t.ods"])] == [
        {"at": "18:30:00", "took": "PT36H00M00S"}, {"at": "09:06:00", "took": "P1DT1H"}]
