"""Reading a table of documents: the same rows as JSONL, CSV, TSV and an Excel workbook,
through ``read_inputs``.

``--rows`` documents of ``--sentences`` sentences each (CoNLL04/ADE sentences from ``--data``,
cycled), an id and a source column beside the text, written as ``.jsonl``, ``.csv``, ``.tsv``
and ``.xlsx`` (text in shared strings, as Excel keeps it); each file read ``--rounds`` times,
the formats alternating; the median time, the rows per second, and whether all four give the
same documents.

    python benchmarks/bench_tables.py --data ../shared/data/conll04/train.json --rows 100000
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import tempfile
import time
from pathlib import Path


def xlsx_bytes(sheets: dict[str, list[list[str]]], date1904: bool = False,
               dates: dict[str, str] | None = None) -> bytes:
    """A minimal Excel workbook: each sheet's rows, text in shared strings as Excel keeps it,
    numbers as numbers; ``dates``: cell reference → serial number shown with a date format
    (built-in 14 and a custom "yyyy-mm-dd hh:mm")."""
    import io
    import zipfile
    from xml.sax.saxutils import escape

    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    strings: dict[str, int] = {}

    def cell(ref: str, value: str) -> str:
        if ref in (dates or {}):
            return f'<c r="{ref}" s="{1 if "." not in value else 2}"><v>{value}</v></c>'
        try:
            float(value)
            return f'<c r="{ref}"><v>{value}</v></c>'
        except ValueError:
            index = strings.setdefault(value, len(strings))
            return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    def column(k: int) -> str:
        name = ""
        k += 1
        while k:
            k, r = divmod(k - 1, 26)
            name = chr(65 + r) + name
        return name

    parts = {}
    for n, rows in enumerate(sheets.values(), 1):
        xml = "".join(f'<row r="{i}">' + "".join(
            cell(f"{column(k)}{i}", v) for k, v in enumerate(row) if v != "") + "</row>"
            for i, row in enumerate(rows, 1))
        parts[f"xl/worksheets/sheet{n}.xml"] = (f"<worksheet {ns}><sheetData>{xml}</sheetData>"
                                                "</worksheet>")
    listed = "".join(f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
                     for n, name in enumerate(sheets, 1))
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    parts["xl/workbook.xml"] = (f'<workbook {ns} xmlns:r="{rel_ns}">{pr}<sheets>{listed}'
                                "</sheets></workbook>")
    parts["xl/_rels/workbook.xml.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{n}" Type="{rel_ns}/worksheet" '
                  f'Target="worksheets/sheet{n}.xml"/>' for n in range(1, len(sheets) + 1))
        + "</Relationships>")
    parts["xl/sharedStrings.xml"] = (f'<sst {ns} count="{len(strings)}">' + "".join(
        f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings) + "</sst>")
    parts["xl/styles.xml"] = (
        f'<styleSheet {ns}><numFmts count="1"><numFmt numFmtId="164" '
        'formatCode="yyyy\\-mm\\-dd\\ hh:mm;@"/></numFmts><cellXfs count="3"><xf numFmtId="0"/>'
        '<xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                             + xml)
    return out.getvalue()


def main() -> None:
    from kgx.batch.reading import read_inputs

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--sentences", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    sentences = [" ".join(s["tokens"]) for s in json.loads(args.data.read_text())]
    rows = [{"id": f"d{i}", "source": f"feed {i % 7}",
             "text": " ".join(sentences[(i * args.sentences + k) % len(sentences)]
                              for k in range(args.sentences))} for i in range(args.rows)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with (folder / "t.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
        with (folder / "t.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        with (folder / "t.tsv").open("w", encoding="utf-8") as fh:  # no quoting in TSV
            fh.writelines("\t".join(r) + "\n" for r in [list(rows[0]), *map(dict.values, rows)])
        (folder / "t.xlsx").write_bytes(xlsx_bytes({"documents": [
            list(rows[0]), *(list(r.values()) for r in rows)]}))
        times: dict[str, list[float]] = {n: [] for n in ("t.jsonl", "t.csv", "t.tsv", "t.xlsx")}
        read: dict[str, list[tuple]] = {}
        for _ in range(args.rounds):
            for name in times:
                began = time.perf_counter()
                read[name] = [(e.id, e.text, e.meta) for e in read_inputs([folder / name])]
                times[name].append(time.perf_counter() - began)
        same = read["t.csv"] == read["t.tsv"] == read["t.jsonl"] == read["t.xlsx"]
        for name in ("t.csv", "t.tsv", "t.xlsx"):
            for got, want in zip(read[name], read["t.jsonl"], strict=True):
                if got != want:
                    print(f"{name} differs first at {want[0]}: {got!r} against {want!r}")
                    break
        size = {n: (folder / n).stat().st_size / 1e6 for n in times}
        for name, runs in times.items():
            t = statistics.median(runs)
            print(f"{name:<8} {size[name]:7.1f} MB  {t:6.2f} s  {args.rows / t:10,.0f} rows/s  "
                  f"x JSONL {t / statistics.median(times['t.jsonl']):.2f}")
        print(f"the same documents (id, text, metadata) from all four: {same}")


if __name__ == "__main__":
    main()
