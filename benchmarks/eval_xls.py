"""Excel 97-2003 workbooks: kgx's ``.xls`` reader against xlrd's, cell by cell, on real files
(issue 19: documents as users have them).

For each file: whether every sheet's rows (each non-empty cell's value, as kgx writes values:
numbers as written, dates and times as ISO 8601, booleans as TRUE/FALSE, errors as Excel shows
them) are the same from ``kgx.batch.xls.xls_rows`` and from xlrd 2.0.1, the reference reader of
the format in Python, and the time each took. xlrd is not a kgx dependency: install it for this
check only (``pip install xlrd==2.0.1``). No corpus of ``.xls`` files ships with kgx; the test
files of the xlutils 2.0.0 and pyexcel-xls 0.7.1 sdists (``xlutils/tests/*.xls``,
``tests/fixtures/*.xls``) are workbooks written by Excel and other writers.

    python benchmarks/eval_xls.py FILE.xls ...
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path


def xlrd_rows(path: Path) -> dict[str, dict[int, dict[int, str]]]:
    """Each sheet's non-empty rows as xlrd reads them, in kgx's spelling of values."""
    import xlrd

    book = xlrd.open_workbook(str(path), formatting_info=True)
    out: dict[str, dict[int, dict[int, str]]] = {}
    for sheet in book.sheets():
        rows: dict[int, dict[int, str]] = {}
        for r in range(sheet.nrows):
            cells = {}
            for c in range(sheet.ncols):
                cell = sheet.cell(r, c)
                if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    continue
                cells[c] = _value(cell, book.datemode)
            if any(v.strip() for v in cells.values()):
                rows[r + 1] = cells
        if rows:
            out[sheet.name] = rows
    return out


def _value(cell, datemode: int) -> str:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_TEXT:
        return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    if cell.ctype == xlrd.XL_CELL_DATE:
        when = xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        if cell.value < 1:
            return when.time().isoformat()
        return when.date().isoformat() if when.time() == datetime.time() else when.isoformat()
    x = float(cell.value)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def main() -> None:
    from kgx.batch.office import OfficeError
    from kgx.batch.xls import xls_rows

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args()
    same = 0
    for path in args.files:
        data = path.read_bytes()
        began = time.perf_counter()
        mine: dict[str, dict[int, dict[int, str]]] = {}
        try:
            for sheet, number, cells in xls_rows(data):
                if isinstance(cells, str):
                    print(f"{path}: kgx: sheet {sheet!r}: {cells}")
                    continue
                mine.setdefault(sheet, {})[number] = cells
        except OfficeError as e:
            print(f"{path}: kgx: {e}")
            continue
        took = time.perf_counter() - began
        began = time.perf_counter()
        ref = xlrd_rows(path)
        ref_took = time.perf_counter() - began
        rows = sum(map(len, mine.values()))
        print(f"{path.name}: {len(data) / 1e3:,.0f} kB, {rows} rows in {len(mine)} sheets, "
              f"{'the same as xlrd' if mine == ref else 'DIFFERENT from xlrd'}; "
              f"kgx {took * 1e3:.1f} ms, xlrd {ref_took * 1e3:.1f} ms")
        same += mine == ref
        for sheet in sorted(set(mine) | set(ref)):
            a, b = mine.get(sheet, {}), ref.get(sheet, {})
            for number in sorted(set(a) | set(b)):
                if a.get(number) != b.get(number):
                    print(f"  {sheet!r} row {number}: kgx {a.get(number)} xlrd {b.get(number)}")
                    break
    print(f"{same} of {len(args.files)} files the same as xlrd")


if __name__ == "__main__":
    main()
