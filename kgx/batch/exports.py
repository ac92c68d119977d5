"""What programs' "export to Excel" writes under a ``.xls`` name, read as the workbook Excel opens
it as: an HTML table, an XML Spreadsheet 2003 file, a web archive (MHTML) of a table, or text
separated by tabs or commas.

CRM, accounting, ticketing and banking systems save reports as ``report.xls`` that are no BIFF
workbook at all; Excel opens them by what they hold (with a warning about the name). ``rows`` gives
their rows as ``kgx.batch.xls.xls_rows`` gives a workbook's (``(sheet, row number, {column:
value})``), so that each becomes documents the same way: the first row names the columns.

* **HTML** (and MHTML's HTML part): each ``<table>`` a sheet (``Table 1``...), each ``<tr>`` a
  row, each ``<td>``/``<th>`` a cell of its text as a browser shows it (``<br>`` a line break);
  a cell spanning columns or rows takes the first of them, as Excel puts it, and moves the
  cells after it along. A table inside a cell is a sheet of its own. The page is UTF-8, or in
  the charset it declares, else windows-1252 (what Excel assumes on a Western system).
* **XML Spreadsheet 2003** (``urn:schemas-microsoft-com:office:spreadsheet``): each
  ``Worksheet`` a sheet, its ``Row``/``Cell`` (with their ``ss:Index`` jumps) read as a stream,
  ``Data`` as typed (a ``DateTime`` as ISO 8601 without what is zero, a ``Boolean`` TRUE/FALSE).
* **Text**: one sheet named after the file's kind, tab-separated when the first line holds a
  tab, else comma-separated.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from xml.etree import ElementTree

from kgx.batch.html import declared_charset, mhtml_markup
from kgx.batch.office import OfficeError
from kgx.batch.sheets import streamed

Row = tuple[str, int, dict[int, str] | str]
_SS = "{urn:schemas-microsoft-com:office:spreadsheet}"
_CELLS = {"td", "th"}
_SPACE = re.compile(r"[ \t\r\n\f]+")
_MAX_SPAN = 1000  # a colspan or rowspan past this is damage, not layout


def rows(data: bytes) -> Iterator[Row] | None:
    """The rows of an export in ``data``; None when it is none of the kinds above."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16, as Excel's "Unicode" saves write
        wide = data.decode("utf-16", "replace")
        if wide.lstrip().startswith("<"):
            return _tables(wide) if "<table" in wide.lower() else None
        return _delimited(wide)
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"mime-version:") or b"\nmime-version:" in head[:2048]:
        try:
            return _tables(mhtml_markup(data))
        except ValueError as e:
            raise OfficeError(str(e)) from None
    if head.startswith(b"<"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in data[:65536]:
            return _spreadsheet_2003(data)
        if b"<table" in data.lower():
            return _tables(_decoded(data))
        return None
    text = _text(data)
    return None if text is None else _delimited(text)


def _decoded(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    charset = declared_charset(data)
    try:
        return data.decode(charset or "cp1252", "replace")
    except LookupError:
        raise OfficeError(f"its declared charset ({charset}) is unknown") from None


class _Tables(HTMLParser):
    """Every table's rows; a table inside a cell is one of its own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple[str, int, int]]]] = []  # (text, colspan, rowspan)
        self.open: list[int] = []  # indexes of the tables open, innermost last
        self.cell: list[list[str] | None] = []  # per open table: the open cell's text
        self.span: list[tuple[int, int]] = []
        self.skip = 0  # inside <script>/<style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "table":
            self.open.append(len(self.tables))
            self.tables.append([])
            self.cell.append(None)
            self.span.append((1, 1))
        elif not self.open:
            return
        elif tag == "tr":
            self._close_cell()
            self.tables[self.open[-1]].append([])
        elif tag in _CELLS:
            self._close_cell()
            if not self.tables[self.open[-1]]:
                self.tables[self.open[-1]].append([])  # a cell before any <tr>
            found = dict(attrs)
            self.cell[-1] = []
            self.span[-1] = (_span(found.get("colspan")), _span(found.get("rowspan")))
        elif tag == "br" and self.cell[-1] is not None:
            self.cell[-1].append("\n")
        elif tag in ("p", "div", "li") and self.cell[-1]:
            self.cell[-1].append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag == "table" and self.open:
            self._close_cell()
            self.open.pop()
            self.cell.pop()
            self.span.pop()
        elif self.open and (tag in _CELLS or tag == "tr"):
            self._close_cell()

    def handle_data(self, data: str) -> None:
        if self.open and not self.skip and self.cell[-1] is not None:
            self.cell[-1].append(_SPACE.sub(" ", data))  # the source's line breaks are spaces

    def _close_cell(self) -> None:
        if self.open and self.cell[-1] is not None:
            lines = (" ".join(line.split()) for line in "".join(self.cell[-1]).split("\n"))
            self.tables[self.open[-1]][-1].append(("\n".join(lines).strip("\n"),
                                                   *self.span[-1]))
            self.cell[-1] = None


def _span(value: str | None) -> int:
    try:
        return min(max(1, int(value or 1)), _MAX_SPAN)
    except ValueError:
        return 1


def _tables(markup: str) -> Iterator[Row]:
    parser = _Tables()
    parser.feed(markup)
    parser.close()
    for k, table in enumerate(parser.tables, 1):
        taken: dict[tuple[int, int], bool] = {}  # cells a span above covers
        for number, cells in enumerate(table, 1):
            row: dict[int, str] = {}
            at = 0
            for text, columns, spans in cells:
                while taken.pop((number, at), False):
                    at += 1
                if text:
                    row[at] = text
                for down in range(1, spans):
                    for right in range(columns):
                        taken[(number + down, at + right)] = True
                at += columns
            taken = {key: v for key, v in taken.items() if key[0] > number}
            if any(v.strip() for v in row.values()):
                yield f"Table {k}", number, row


def _spreadsheet_2003(data: bytes) -> Iterator[Row]:
    """Each worksheet's rows, streamed as a workbook's sheet is (``sheets.streamed``)."""
    sheet, number = "?", 0
    for element in streamed(data, "it", f"{_SS}Row", frozenset({f"{_SS}Worksheet"})):
        if element.tag == f"{_SS}Worksheet":  # a sheet opens
            sheet, number = element.get(f"{_SS}Name") or "?", 0
            continue
        number = _index(element, number + 1)
        row: dict[int, str] = {}
        at = 0
        for cell in element.iter(f"{_SS}Cell"):
            at = _index(cell, at + 1)
            value = _value(cell.find(f"{_SS}Data"))
            if value:
                row[at - 1] = value
            merged = cell.get(f"{_SS}MergeAcross")
            at += _span(merged) if merged else 0  # the columns it spans after its own
        if any(v.strip() for v in row.values()):
            yield sheet, number, row


def _index(element: ElementTree.Element, default: int) -> int:
    try:
        return max(default, min(int(element.get(f"{_SS}Index") or default), 1_048_576))
    except ValueError:
        return default


def _value(data: ElementTree.Element | None) -> str:
    if data is None:
        return ""
    text = "".join(data.itertext())
    kind = data.get(f"{_SS}Type")
    if kind == "Boolean":
        return "TRUE" if text.strip() == "1" else "FALSE"
    if kind == "DateTime":
        text = text.strip().removesuffix(".000")
        return text.removesuffix("T00:00:00")
    return text


def _text(data: bytes) -> str | None:
    """Text as Excel would take it: UTF-8, else windows-1252; None for bytes that are no text
    (UTF-16 with its mark is read by ``rows`` before)."""
    if b"\x00" in data[:4096]:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _delimited(text: str) -> Iterator[Row]:
    first = text.split("\n", 1)[0]
    tabbed = "\t" in first
    if not tabbed and "," not in first:
        raise OfficeError("text that is neither tab- nor comma-separated, so not a table")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if tabbed else ",")
    name = "tab-separated" if tabbed else "comma-separated"
    try:
        for fields in reader:
            cells = {k: v for k, v in enumerate(fields) if v}
            if any(v.strip() for v in cells.values()):
                yield name, reader.line_num, cells
    except csv.Error as e:
        raise OfficeError(f"line {reader.line_num}: {e}") from None
