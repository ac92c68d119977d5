"""Tables of documents: a ``.csv`` (RFC 4180: quoted fields may hold commas, quotes and line
breaks; Excel's semicolons where the header says so: ``CsvInput._dialect``) or ``.tsv`` (a tab
between fields, none inside one) file whose header names its columns, one document a row, as
datasets are often shared.

The ``--text-field`` column is the text and the ``--id-field`` column the id (a row without one
gets ``<file>:<line>``, the line its record starts on); the other columns are metadata (strings,
as the file has them). Like a JSONL file it is read row by row, never whole: a row is at most
the document limit (``kgx.batch.limits``). A row whose number of fields is not the header's
is an error entry and the rows after it are read; a line over the limit or not UTF-8 ends the
file there (an error entry; the rows before are kept: a quoted field may span lines, so no
later line can be trusted to start a row), as does a header without the text column. Errors
name the file and line. A UTF-8 byte-order mark (Excel writes one) is dropped. A line that is
not UTF-8 is read in the run's ``--encoding`` where it names one (Excel's "CSV (Comma
delimited)" is written in Windows' code page, cp1252 in Western Europe and the Americas). The csv
module's field size limit is the document limit while a row is read, and the caller's again
between rows.
"""

from __future__ import annotations

import csv
import itertools
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from kgx.batch import limits
from kgx.batch.encodings import not_decoded, utf8_else, utf16_as_utf8
from kgx.batch.inputs import (
    Entry,
    InputFormat,
    _without_bom,
    open_input,
    open_many,
    record_entry,
    sha256,
)


def _decoded(fh: IO[bytes], state: dict[str, Any], encoding: str | None = None
             ) -> Iterator[str]:
    """The file's lines as text (a byte-order mark dropped; a line that is not UTF-8 in
    ``encoding`` where given), each within the limit; stops at a line over it or one that
    cannot be read, saying which in ``state``."""
    for number, raw in enumerate(limits.lines_within(fh), 1):
        if raw is None:
            state["stop"] = (number, limits.over_limit("the line holds"))
            return
        raw = _without_bom(raw) if number == 1 else raw
        try:
            line = utf8_else(raw, encoding)
        except UnicodeDecodeError as e:
            state["stop"] = (number, not_decoded(raw, e.start, encoding, offset=False))
            return
        yield line


def _rows(reader: Any) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """``(line, fields, None)`` for each record, ``(line, None, reason)`` for one the csv
    module refuses; the field size limit is the document limit only while a row is read."""
    while True:
        start = reader.line_num + 1
        previous = csv.field_size_limit(limits.document_bytes())
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield start, None, str(e)
            continue
        finally:
            csv.field_size_limit(previous)
        if row:  # a blank line
            yield start, row, None


class CsvInput(InputFormat):
    """A ``.csv`` file with a header row: one document a row (see the module docstring)."""

    name = "csv"
    suffixes = (".csv",)
    #: strict: a quoted field left open at the end of the file, or text after a closing quote,
    #: is an error entry, not a field that swallows the rest of the file
    dialect: dict[str, Any] = {"strict": True}

    @classmethod
    def read(cls, path: Path, root: Path | None, *, id_field: str = "id",
             text_field: str = "text", encoding: str | None = None) -> Iterator[Entry]:
        where, rel, fh = open_many(path, root)
        if isinstance(fh, Entry):
            yield fh
            return
        state: dict[str, Any] = {}
        with utf16_as_utf8(fh) as fh:
            try:
                yield from cls._entries(fh, where, rel, id_field, text_field, state, encoding)
            except (EOFError, OSError, zlib.error) as e:
                state["stop"] = (None, f"unreadable (truncated or corrupt file: {e})")
        if "stop" in state:
            line, reason = state["stop"]
            at = f":{line}" if line else ""
            yield Entry(f"{rel}{at or ':end'}", where, line, sha256(b""), status="error",
                        error=f"{where}{at}: {reason}; the rows before were kept")

    @classmethod
    def _dialect(cls, header: str, text_field: str) -> dict[str, Any]:
        """The dialect of a file whose header line is ``header``: a comma between fields,
        or else the separator that makes the text field a column of the header (Excel's
        "CSV" in much of Europe puts semicolons between fields, the decimal comma being
        taken). A ``.tsv`` file's tabs are its own."""
        if "delimiter" in cls.dialect:
            return cls.dialect
        for delimiter in (",", ";", "\t", "|"):
            try:
                names = next(csv.reader([header], **cls.dialect, delimiter=delimiter), [])
            except csv.Error:
                continue
            if text_field in names:
                return {**cls.dialect, "delimiter": delimiter}
        return cls.dialect

    @classmethod
    def _entries(cls, fh: IO[bytes], where: str, rel: str, id_field: str, text_field: str,
                 state: dict[str, Any], encoding: str | None) -> Iterator[Entry]:
        lines = _decoded(fh, state, encoding)
        first = next(lines, None)
        dialect = cls.dialect if first is None else cls._dialect(first, text_field)
        reader = csv.reader(itertools.chain([first] if first is not None else [], lines),
                            **dialect)
        header: list[str] | None = None
        for line, row, problem in _rows(reader):
            loc = f"{rel}:{line}"
            if header is None:
                if row is None or text_field not in row:
                    found = ", ".join(map(repr, row or [])) or "none"
                    yield Entry(loc, where, line, sha256(b""), status="error",
                                error=f"{where}:{line}: the header has no text column "
                                      f"{text_field!r} (its columns: {found})")
                    return
                header = row
                continue
            if row is None or len(row) != len(header):
                reason = problem or f"{len(row or [])} fields where the header has {len(header)}"
                yield Entry(loc, where, line, sha256(repr(row)), status="error",
                            error=f"{where}:{line}: {reason}")
                continue
            fields = dict(zip(header, row, strict=True))
            text = fields.pop(text_field)
            doc_id = fields.pop(id_field, "") or loc
            yield record_entry(doc_id, where, line, text, fields, loc)

    @classmethod
    def count(cls, path: Path) -> int | None:
        try:
            with utf16_as_utf8(open_input(path)) as fh:
                state: dict[str, Any] = {}  # latin-1 reads any byte: rows in any encoding
                rows = _rows(csv.reader(_decoded(fh, state, "latin-1"), **cls.dialect))
                return max(0, sum(1 for _ in rows) - 1)
        except (OSError, EOFError, zlib.error):
            return None


class TsvInput(CsvInput):
    """A ``.tsv`` file: as ``.csv``, fields apart by tabs and never quoted (IANA's
    text/tab-separated-values), so a quote inside a text is a quote."""

    name = "tsv"
    suffixes = (".tsv",)
    dialect = {"delimiter": "\t", "quoting": csv.QUOTE_NONE}

