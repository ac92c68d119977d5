"""Excel 97-2003 workbooks (``.xls``): each sheet a table whose first row names its columns,
one document a row, as ``.xlsx`` and ``.csv`` files are read (``kgx.batch.sheets``).

Case lists and survey exports of the last decades are often ``.xls`` files. One is a compound
file (``kgx.batch.cfb``) whose ``Workbook`` stream is a run of BIFF8 records ([MS-XLS]): the
workbook's globals (sheet list, shared strings, number formats, cell formats, date system)
then each sheet's cells. ``xls_rows`` reads the cells that hold values: shared and inline
strings, numbers (dates and times as ISO 8601 where their format shows one, as the ``.xlsx``
reader writes them), booleans, errors, and formulas as their cached results. Charts and
macro sheets are no tables. A password-protected workbook, an Excel 5/95 one (BIFF5) and a
damaged one are errors naming why; a ``.xlsx`` saved under the name is read as one, and so is
what exports name ``.xls`` (an HTML table, XML Spreadsheet 2003, text: ``kgx.batch.exports``).
"""

from __future__ import annotations

import datetime
import re
import struct
from collections.abc import Iterator

from kgx.batch import exports
from kgx.batch.cfb import ENCRYPTED, CfbError, CompoundFile, is_compound
from kgx.batch.office import OfficeError
from kgx.batch.sheets import EPOCH, EPOCH_1904, _SheetsInput, excel_date, shows_date, workbook_rows

_BOF, _EOF, _CONTINUE, _FILEPASS = 0x0809, 0x000A, 0x003C, 0x002F
_SHEET, _DATEMODE, _FORMAT, _XF, _SST = 0x0085, 0x0022, 0x041E, 0x00E0, 0x00FC
_LABELSST, _LABEL, _RSTRING, _NUMBER, _RK, _MULRK = 0x00FD, 0x0204, 0x00D6, 0x0203, 0x027E, 0x00BD
_BOOLERR, _FORMULA, _STRING = 0x0205, 0x0006, 0x0207
_BIFF8 = 0x0600
_LITERAL = re.compile(r'"([^"]*)"(?:;"([^"]*)")?(?:;"([^"]*)")?')
_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
           0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}

Cells = dict[int, dict[int, str]]  # row → column → value


class XlsError(OfficeError):
    """A file that is not a readable Excel 97-2003 workbook."""


class _Chunks:
    """A record's data and its ``CONTINUE`` records' data, read across their seams: where a
    string's characters go on in the next record, that record starts with a byte saying
    whether they are 8 or 16 bits wide ([MS-XLS] 2.2.4)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.i, self.at = chunks, 0, 0

    def done(self) -> bool:
        return self.i >= len(self.chunks) - 1 and self.at >= len(self.chunks[-1])

    def take(self, n: int) -> bytes:
        parts = []
        while n > 0:
            if self.i >= len(self.chunks):
                raise XlsError("a record ends inside a value (damaged?)")
            chunk = self.chunks[self.i]
            if self.at >= len(chunk):
                self.i, self.at = self.i + 1, 0
                continue
            piece = chunk[self.at:self.at + n]
            parts.append(piece)
            self.at += len(piece)
            n -= len(piece)
        return b"".join(parts)

    def string(self, length_bytes: int = 2, extras: bool = False) -> str:
        """An ``XLUnicodeString`` (its length in ``length_bytes``), or with ``extras`` an
        ``XLUnicodeRichExtendedString``, whose formatting runs and phonetic data are skipped."""
        count = int.from_bytes(self.take(length_bytes), "little")
        flags = self.take(1)[0]
        runs = struct.unpack("<H", self.take(2))[0] if extras and flags & 0x08 else 0
        ext = struct.unpack("<i", self.take(4))[0] if extras and flags & 0x04 else 0
        text = self._chars(count, flags & 0x01)
        self.take(4 * runs + max(0, ext))
        return text

    def _chars(self, count: int, wide: int) -> str:
        parts = []
        while True:
            if self.i >= len(self.chunks):
                raise XlsError("a record ends inside a string (damaged?)")
            chunk = self.chunks[self.i]
            k = min(count, (len(chunk) - self.at) >> wide)
            raw = chunk[self.at:self.at + (k << wide)]
            parts.append(raw.decode("utf-16-le", "replace") if wide else raw.decode("latin-1"))
            self.at += k << wide
            count -= k
            if not count:
                return "".join(parts)
            self.i, self.at = self.i + 1, 1  # a seam: the next record's first byte is the width
            if self.i >= len(self.chunks) or not self.chunks[self.i]:
                raise XlsError("a record ends inside a string (damaged?)")
            wide = self.chunks[self.i][0] & 0x01


def _records(stream: bytes, at: int) -> Iterator[tuple[int, list[bytes]]]:
    """``(type, [data, its CONTINUE records' data...])`` of the substream from ``at`` (its
    ``BOF``) to its ``EOF``; a chart's substream inside it is passed over."""
    depth, pending = 0, None
    while at + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, at)
        data = stream[at + 4:at + 4 + size]
        if len(data) < size:
            raise XlsError("its Workbook stream ends inside a record (truncated?)")
        at += 4 + size
        if kind == _CONTINUE and pending is not None:
            pending[1].append(data)
            continue
        if pending is not None and depth == 1:
            yield pending
        pending = None
        if kind == _BOF:
            depth += 1
        elif kind == _EOF:
            depth -= 1
            if depth <= 0:
                return
        pending = (kind, [data])
    raise XlsError("its Workbook stream ends without an EOF record (truncated?)")


class _Formats:
    """How the workbook shows a number cell: by its cell format (XF) index."""

    def __init__(self, formats: list[int], custom: dict[int, str],
                 epoch: datetime.datetime) -> None:
        self.epoch = epoch
        self.dated = {k for k, fmt in enumerate(formats) if shows_date(fmt, custom)}
        # a format of quoted words only, as LibreOffice writes booleans ("TRUE";"TRUE";"FALSE")
        self.words = {k: words for k, fmt in enumerate(formats)
                      if (words := _LITERAL.fullmatch(custom.get(fmt, "")))}

    def show(self, value: float, xf: int) -> str:
        if xf in self.dated:
            return excel_date(repr(value), self.epoch)
        if xf in self.words:  # sections for positive, negative, zero
            words = self.words[xf].group(1, 2, 3)
            section = 0 if value > 0 else 1 if value < 0 else 2
            return next(w for w in (words[section], words[0]) if w is not None)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _rk(rk: int) -> float:
    """An ``RkNumber``: a 30-bit integer or a double's top 30 bits, perhaps times 100."""
    if rk & 0x02:
        value = float(rk >> 2 if rk < 0x80000000 else (rk >> 2) - (1 << 30))
    else:
        value = struct.unpack("<d", struct.pack("<Q", (rk & 0xFFFFFFFC) << 32))[0]
    return value / 100 if rk & 0x01 else value


def _stream(data: bytes) -> bytes:
    try:
        cf = CompoundFile(data)
        stream = cf.stream("Workbook")
        if stream is None:
            if cf.encrypted():
                raise XlsError(ENCRYPTED)
            if cf.stream("Book") is not None:
                raise XlsError("an Excel 5.0/95 workbook (BIFF5): not read; save it as .xlsx")
            raise XlsError("no Workbook stream inside: not an Excel 97-2003 workbook")
    except CfbError as e:
        raise XlsError(str(e)) from None
    return stream


def xls_rows(data: bytes) -> Iterator[tuple[str, int, dict[int, str] | str]]:
    """``(sheet, row number, {column: value})`` for every row of every worksheet in order, as
    ``kgx.batch.sheets.workbook_rows`` gives them; ``(sheet, 0, reason)`` for a sheet that
    cannot be read."""
    if data[:4] == b"PK\x03\x04":  # a .xlsx under the old name
        yield from workbook_rows(data)
        return
    if not is_compound(data):
        if data[:1] == b"\x09" and data[1:2] in (b"\x00", b"\x02", b"\x04") and b"\0" in data[:8]:
            raise XlsError("a BIFF2-4 worksheet (Excel 4 or older), so not an Excel 97-2003 "
                           "workbook")
        if data.lstrip()[:5] == b"%PDF-":
            raise XlsError("a PDF under a .xls name: rename it .pdf")
        exported = exports.rows(data)  # what "export to Excel" writes: HTML, XML, text
        if exported is None:
            looks = ("an HTML or XML file without a table" if data.lstrip()[:1] == b"<"
                     else "not an OLE compound file")
            raise XlsError(f"{looks}, so not an Excel 97-2003 workbook")
        yield from exported
        return
    stream = _stream(data)
    sheets: list[tuple[str, int]] = []
    strings: list[str] = []
    custom: dict[int, str] = {}
    formats: list[int] = []
    epoch = EPOCH
    try:
        kind, size, version = struct.unpack_from("<HHH", stream, 0)
    except struct.error:
        raise XlsError("its Workbook stream is empty") from None
    if kind != _BOF:
        raise XlsError("its Workbook stream does not start with a BOF record")
    if version != _BIFF8:
        raise XlsError(f"BIFF version {version:#06x}, not Excel 97-2003's (0x0600): not read")
    for kind, chunks in _records(stream, 0):
        record = chunks[0]
        try:
            if kind == _FILEPASS:
                raise XlsError(ENCRYPTED)
            if kind == _SHEET and len(record) >= 8:
                at, sheet_type = struct.unpack_from("<I", record)[0], record[5]
                name = _Chunks([record[6:]]).string(1)
                if sheet_type == 0:  # a worksheet or dialog sheet, not a chart or macros
                    sheets.append((name, at))
            elif kind == _DATEMODE and len(record) >= 2:
                epoch = EPOCH_1904 if struct.unpack_from("<H", record)[0] else EPOCH
            elif kind == _FORMAT and len(record) >= 2:
                custom[struct.unpack_from("<H", record)[0]] = _Chunks([record[2:]]).string()
            elif kind == _XF and len(record) >= 4:
                formats.append(struct.unpack_from("<H", record, 2)[0])
            elif kind == _SST and len(record) >= 8:
                strings = _shared_strings(chunks)
        except struct.error:
            raise XlsError(f"a record of type {kind:#06x} is cut short (damaged?)") from None
    shown = _Formats(formats, custom, epoch)
    for name, at in sheets:
        try:
            cells = _sheet(stream, at, strings, shown)
        except XlsError as e:
            yield name, 0, f"its sheet {name!r} cannot be read: {e}"
            continue
        except struct.error:
            yield name, 0, f"its sheet {name!r} has a record cut short (damaged?)"
            continue
        for number in sorted(cells):
            row = cells[number]
            if any(v.strip() for v in row.values()):
                yield name, number + 1, row


def _shared_strings(chunks: list[bytes]) -> list[str]:
    reader = _Chunks(chunks)
    unique = struct.unpack("<I", reader.take(8)[4:])[0]
    out: list[str] = []
    while len(out) < unique and not reader.done():  # some writers count more than they write
        out.append(reader.string(2, extras=True))
    return out


def _sheet(stream: bytes, at: int, strings: list[str], shown: _Formats) -> Cells:
    if at + 8 > len(stream) or struct.unpack_from("<H", stream, at)[0] != _BOF:
        raise XlsError(f"it starts at byte {at:,}, where the Workbook stream has no BOF record")
    cells: Cells = {}
    formula_at: tuple[int, int] | None = None  # the cell a STRING record's text belongs to

    def put(row: int, column: int, value: str) -> None:
        cells.setdefault(row, {})[column] = value

    for kind, chunks in _records(stream, at):
        record = chunks[0]
        if kind == _LABELSST:
            row, column, _, k = struct.unpack_from("<HHHI", record)
            if k >= len(strings):
                raise XlsError(f"a cell points to shared string {k}, which the workbook does "
                               "not hold")
            put(row, column, strings[k])
        elif kind in (_LABEL, _RSTRING):
            row, column = struct.unpack_from("<HH", record)
            put(row, column, _Chunks([record[6:], *chunks[1:]]).string())
        elif kind == _NUMBER:
            row, column, xf, value = struct.unpack_from("<HHHd", record)
            put(row, column, shown.show(value, xf))
        elif kind == _RK:
            row, column, xf, rk = struct.unpack_from("<HHHI", record)
            put(row, column, shown.show(_rk(rk), xf))
        elif kind == _MULRK:
            row, first = struct.unpack_from("<HH", record)
            for k in range((len(record) - 6) // 6):
                xf, rk = struct.unpack_from("<HI", record, 4 + 6 * k)
                put(row, first + k, shown.show(_rk(rk), xf))
        elif kind == _BOOLERR:
            row, column, _, value, error = struct.unpack_from("<HHHBB", record)
            put(row, column, _ERRORS.get(value, "#ERROR") if error else
                ("TRUE" if value else "FALSE"))
        elif kind == _FORMULA:
            row, column, xf = struct.unpack_from("<HHH", record)
            result = record[6:14]
            formula_at = None
            if len(result) < 8:
                raise XlsError("a formula record is cut short (damaged?)")
            if result[6:] != b"\xff\xff":
                put(row, column, shown.show(struct.unpack("<d", result)[0], xf))
            elif result[0] == 0:
                formula_at = (row, column)  # its text is the STRING record after it
            elif result[0] in (1, 2):
                put(row, column, ("TRUE" if result[2] else "FALSE") if result[0] == 1 else
                    _ERRORS.get(result[2], "#ERROR"))
        elif kind == _STRING and formula_at is not None:
            put(*formula_at, _Chunks(chunks).string())
            formula_at = None
    return cells


class XlsInput(_SheetsInput):
    """An Excel 97-2003 workbook (``.xls``): one document a row of each sheet."""

    name = "xls"
    suffixes = (".xls", ".xlt")
    rows = staticmethod(xls_rows)
