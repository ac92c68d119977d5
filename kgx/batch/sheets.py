"""Spreadsheets of documents (Excel's ``.xlsx``, LibreOffice's ``.ods``): each sheet a table
whose first row names its columns, one document a row, as a ``.csv`` file is read
(``kgx.batch.delimited``).

Survey answers, support tickets and case lists are often kept in Excel. An ``.xlsx`` is a zip
of XML parts: ``xl/workbook.xml`` lists the sheets in order (through
``xl/_rels/workbook.xml.rels``), each sheet's rows are cells addressed by column ("B7"), and
text cells mostly point into ``xl/sharedStrings.xml``. ``XlsxInput`` reads every sheet row by
row: the ``--text-field`` column is the text, the ``--id-field`` column the id (else
``<file>:<sheet>!<row>``), the other columns are metadata, as the cells show them (numbers as
written, booleans as TRUE/FALSE, formulas as their cached results, dates and times as ISO
8601). A sheet's XML is parsed as a stream (``streamed``), each row let go once read. A sheet
whose first row has no text column is an error entry naming the sheet, and the other sheets
are read. A file that is not a zip, or not a workbook, is an error entry; so
is a part past the document limit (``kgx.batch.limits``), as for every office file.
"""

from __future__ import annotations

import datetime
import io
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

from kgx.batch.inputs import Entry, InputFormat, TextInput, record_entry, sha256
from kgx.batch.office import (
    OfficeError,
    _walk_odt,
    not_a_zip,
    odf_content,
    open_zip,
    parse_part,
    read_part,
)

_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_COLUMN = re.compile(r"[A-Z]+")
#: built-in number formats that show dates and times (ECMA-376 part 1, 18.8.30)
_DATE_FORMATS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47}
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')  # literal text and colours in a format code
EPOCH = datetime.datetime(1899, 12, 30)  # day 0 as Excel counts (its 1900 leap-year bug kept)
EPOCH_1904 = datetime.datetime(1904, 1, 1)
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CLOCK = re.compile(r"PT(\d+)H(\d+)M(\d+(?:\.\d+)?)S")  # a time-value under a day
_MAX_ROWS, _MAX_COLUMNS = 1_048_576, 16_384  # a sheet's size in Calc and Excel


def column_index(ref: str) -> int:
    """The 0-based column of a cell reference ("A1" → 0, "AB12" → 27)."""
    m = _COLUMN.match(ref.upper())
    n = 0
    for ch in m.group() if m else "A":
        n = n * 26 + ord(ch) - 64
    return n - 1


def workbook_rows(data: bytes) -> Iterator[tuple[str, int, dict[int, str] | str]]:
    """``(sheet, row number, {column: value})`` for every row of every sheet in order;
    ``(sheet, 0, reason)`` for a sheet that cannot be read."""
    with open_zip(data, lambda: not_a_zip(data, ".xlsx", "Workbook", ".xls")) as archive:
        workbook = read_part(archive, "xl/workbook.xml")
        if workbook is None:
            raise OfficeError("no xl/workbook.xml inside: not an Excel workbook")
        rels = read_part(archive, "xl/_rels/workbook.xml.rels")
        targets = {} if rels is None else {
            r.get("Id"): r.get("Target", "")
            for r in parse_part(rels, "xl/_rels/workbook.xml.rels").iter(f"{_RELS}Relationship")}
        strings = _shared_strings(read_part(archive, "xl/sharedStrings.xml"))
        book = parse_part(workbook, "xl/workbook.xml")
        pr = book.find(f"{_S}workbookPr")
        epoch = EPOCH_1904 if pr is not None and pr.get("date1904") in ("1", "true") else EPOCH
        dated = _date_styles(read_part(archive, "xl/styles.xml"))
        for sheet in book.iter(f"{_S}sheet"):
            name = sheet.get("name") or "?"
            target = targets.get(sheet.get(f"{_R}id"), "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target))
            xml = read_part(archive, part) if target else None
            if xml is None:
                yield name, 0, f"its sheet {name!r} names {part or 'no part'}, which is not inside"
                continue
            yield from ((name, n, cells) for n, cells in _rows(xml, part, strings, dated, epoch))


def streamed(xml: bytes, name: str, items: str, opens: frozenset[str] = frozenset()
             ) -> Iterator[ElementTree.Element]:
    """The ``items`` elements of the XML part ``name``, each whole as the parser reaches its
    end and let go after it (and the ``opens`` elements as they open, attributes only): a
    sheet of a million rows is never a tree of a million rows."""
    if b"<!ENTITY" in xml:  # as parse_part refuses them
        raise OfficeError(f"{name} declares XML entities: refused")
    stack: list[ElementTree.Element] = []
    try:
        for event, element in ElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):
            if event == "start":
                stack.append(element)
                if element.tag in opens:
                    yield element
                continue
            stack.pop()
            if element.tag == items:
                yield element
                if stack:
                    stack[-1].remove(element)  # read: let go (the last child: found at once)
    except ElementTree.ParseError as e:
        raise OfficeError(f"{name} is not well-formed XML ({e})") from None


def _shared_strings(xml: bytes | None) -> list[str]:
    if xml is None:
        return []
    # each <si>: one <t>, or rich text runs <r><t>; phonetic guides (<rPh>) are not the text
    return ["".join(t.text or "" for r in si if r.tag in (f"{_S}t", f"{_S}r")
                    for t in ([r] if r.tag == f"{_S}t" else r.iter(f"{_S}t")))
            for si in streamed(xml, "xl/sharedStrings.xml", f"{_S}si")]


def _date_styles(xml: bytes | None) -> set[int]:
    """The cell styles (``s`` indexes) whose number format shows a date or time."""
    if xml is None:
        return set()
    root = parse_part(xml, "xl/styles.xml")
    custom = {int(f.get("numFmtId") or -1): f.get("formatCode") or ""
              for f in root.iter(f"{_S}numFmt")}
    xfs = root.find(f"{_S}cellXfs")
    return {k for k, xf in enumerate(xfs if xfs is not None else [])
            if shows_date(int(xf.get("numFmtId") or 0), custom)}


def shows_date(fmt: int, custom: dict[int, str]) -> bool:
    """Whether number format ``fmt`` shows a date or time: a built-in date format, or one of
    the workbook's own (``custom``, id → format code) with date or time parts outside its
    literal text (Excel numbers the built-in formats alike in ``.xlsx`` and ``.xls``)."""
    code = _QUOTED.sub("", custom.get(fmt, "")).lower()
    return fmt in _DATE_FORMATS or (fmt in custom and any(c in code for c in "ymdhs")
                                    and "general" not in code)


def _rows(xml: bytes, part: str, strings: list[str], dated: set[int] | None = None,
          epoch: datetime.datetime | None = None) -> Iterator[tuple[int, dict[int, str]]]:
    """``(row number, {column: value})`` of each row with a value (a sparse row costs its
    cells, not the columns up to its last)."""
    for k, row in enumerate(streamed(xml, part, f"{_S}row"), 1):
        cells: dict[int, str] = {}
        for i, cell in enumerate(row.iter(f"{_S}c")):
            at = column_index(cell.get("r") or "") if cell.get("r") else i
            value = _value(cell, strings)
            if dated and epoch and int(cell.get("s") or 0) in dated and cell.get("t", "n") == "n":
                value = excel_date(value, epoch)
            cells[at] = value
        number = int(row.get("r") or k)
        if any(c.strip() for c in cells.values()):
            yield number, cells


def _value(cell: ElementTree.Element, strings: list[str]) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        found = cell.find(f"{_S}is")
        return "" if found is None else "".join(t.text or "" for t in found.iter(f"{_S}t"))
    value = cell.findtext(f"{_S}v") or ""
    if kind == "s":
        try:
            return strings[int(value)]
        except (ValueError, IndexError):
            raise OfficeError(f"a cell points to shared string {value!r}, which the workbook "
                              "does not hold") from None
    if kind == "b":
        return "TRUE" if value == "1" else "FALSE"
    return value


def excel_date(serial: str, epoch: datetime.datetime) -> str:
    """An Excel date serial number as ISO 8601: a date, a date and time when it has one, a
    time alone for a value under one day (a time of day, as Excel shows it)."""
    try:
        days = float(serial)
        if 0 <= days < 1 and round(days * 86400) < 86400:
            return (datetime.datetime.min + datetime.timedelta(
                seconds=round(days * 86400))).time().isoformat()
        if epoch == EPOCH and days < 60:  # before Excel's 29 February 1900, which never was
            days += 1
        when = epoch + datetime.timedelta(days=days)
    except (ValueError, OverflowError):
        return serial
    when = when.replace(microsecond=0) + datetime.timedelta(
        seconds=round(when.microsecond / 1e6))
    return when.date().isoformat() if when.time() == datetime.time() else when.isoformat()


def ods_rows(data: bytes) -> Iterator[tuple[str, int, dict[int, str] | str]]:
    """``workbook_rows`` for an OpenDocument spreadsheet: each ``table:table`` a sheet, a cell's
    value its typed ``office:*value`` (dates as written, ISO 8601), else its paragraphs; a
    repeated empty cell or row moves on without being expanded."""
    content, _ = odf_content(data, ".ods")
    name, number = "?", 0
    for row in streamed(content, "content.xml", f"{_TABLE}table-row",
                        frozenset({f"{_TABLE}table"})):
        if row.tag == f"{_TABLE}table":  # a sheet opens
            name, number = row.get(f"{_TABLE}name") or "?", 0
            continue
        cells: dict[int, str] = {}
        at = 0
        for cell in row:
            if cell.tag not in (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell"):
                continue
            span = _repeat(cell, "columns")
            value = _ods_value(cell)
            if value:
                for k in range(at, at + min(span, _MAX_COLUMNS)):
                    cells[k] = value
            at += span
        times = _repeat(row, "rows")
        if any(v.strip() for v in cells.values()):
            for _ in range(min(times, _MAX_ROWS - number)):
                number += 1
                yield name, number, cells
        else:
            number += times


def _repeat(element: ElementTree.Element, what: str) -> int:
    try:
        return max(1, int(element.get(f"{_TABLE}number-{what}-repeated") or 1))
    except ValueError:
        return 1


def _ods_value(cell: ElementTree.Element) -> str:
    kind = cell.get(f"{_OFFICE}value-type")
    if kind == "boolean":
        return "TRUE" if cell.get(f"{_OFFICE}boolean-value") == "true" else "FALSE"
    for attribute in ("date-value", "time-value", "value"):
        if kind not in (None, "string") and cell.get(f"{_OFFICE}{attribute}") is not None:
            value = cell.get(f"{_OFFICE}{attribute}") or ""
            clock = _CLOCK.fullmatch(value) if attribute == "time-value" else None
            seconds = round(int(clock[1]) * 3600 + int(clock[2]) * 60 + float(clock[3])) \
                if clock else None
            if seconds is not None and seconds < 86400:  # a time of day, as for Excel's files
                return (datetime.datetime.min + datetime.timedelta(seconds=seconds)).time(
                ).isoformat()
            return value
    if kind is None:
        return ""
    paragraphs: list[str] = []
    _walk_odt(cell, [], paragraphs, set())
    return "\n".join(paragraphs)


class _SheetsInput(InputFormat):
    """A spreadsheet: one document a row of each sheet (module docstring)."""

    @staticmethod
    def rows(data: bytes) -> Iterator[tuple[str, int, dict[int, str] | str]]:
        raise NotImplementedError  # each format's reader

    @classmethod
    def read(cls, path: Path, root: Path | None, *, id_field: str = "id",
             text_field: str = "text", encoding: str | None = None) -> Iterator[Entry]:
        del encoding  # a workbook's text says its own encoding
        loaded = TextInput.load(path, root)  # the file's bytes, or why they cannot be read
        if isinstance(loaded, Entry):
            yield loaded
            return
        where, rel = loaded.where, loaded.id
        header: dict[str, dict[int, str] | None] = {}  # sheet → {column: name}
        seen = 0
        try:
            for sheet, number, cells in cls.rows(loaded.data):
                seen += 1
                loc = f"{rel}:{sheet}!{number}"
                if isinstance(cells, str):
                    yield Entry(loc, where, None, sha256(b""), status="error",
                                error=f"{where}: {cells}")
                    continue
                if sheet not in header:
                    named = {at: name for at, name in sorted(cells.items()) if name}
                    header[sheet] = named if text_field in named.values() else None
                    if header[sheet] is None:
                        found = ", ".join(map(repr, named.values())) or "none"
                        yield Entry(loc, where, number, sha256(b""), status="error",
                                    error=f"{where}: sheet {sheet!r}, row {number}: the header "
                                          f"has no text column {text_field!r} (its columns: "
                                          f"{found})")
                    continue
                names = header[sheet]
                if names is None:
                    continue
                fields = {name: cells.get(at, "") for at, name in names.items()}
                text = fields.pop(text_field, "")
                doc_id = fields.pop(id_field, "") or loc
                yield record_entry(doc_id, where, number, text, fields, loc)
        except Exception as e:  # a damaged file fails this file only, never the run
            reason = str(e) if isinstance(e, OfficeError) else (
                f"cannot read it as {cls.name}: {e!r}")
            kept = "; the rows before were kept" if seen else ""
            yield Entry(f"{rel}:end" if seen else rel, where, None, sha256(b""), status="error",
                        error=f"{where}: {reason}{kept}")


    @classmethod
    def count(cls, path: Path) -> int | None:
        """Each sheet's rows after its first (a progress bar's total: the file is read
        twice, which costs little beside annotating its rows)."""
        loaded = TextInput.load(path, path.parent)
        if isinstance(loaded, Entry):
            return None
        try:
            rows: dict[str, int] = {}
            for sheet, _, cells in cls.rows(loaded.data):
                if not isinstance(cells, str):
                    rows[sheet] = rows.get(sheet, -1) + 1
            return sum(rows.values())
        except Exception:  # the run's read says what is wrong
            return None


class XlsxInput(_SheetsInput):
    """An Excel workbook (``.xlsx``): one document a row of each sheet."""

    name = "xlsx"
    suffixes = (".xlsx", ".xlsm", ".xltx", ".xltm")  # and macro-enabled, templates
    rows = staticmethod(workbook_rows)


class OdsInput(_SheetsInput):
    """An OpenDocument spreadsheet (``.ods``, LibreOffice Calc's): one document a row of each
    sheet."""

    name = "ods"
    suffixes = (".ods", ".ots", ".fods")
    rows = staticmethod(ods_rows)

