"""Reading a table of documents: the same rows as JSONL, a JSON array, CSV, TSV and Excel
workbooks (``.xlsx`` and the older ``.xls``), through ``read_inputs``.

``--rows`` documents of ``--sentences`` sentences each (CoNLL04/ADE sentences from ``--data``,
cycled), an id and a source column beside the text, written as ``.jsonl``, ``.json`` (one
array), ``.csv``, ``.tsv``, ``.xlsx`` and ``.xls`` (text in shared strings, as Excel keeps it);
each file read ``--rounds`` times, the formats alternating; the median time, the rows per
second, and whether all six give the same documents. Then ``--encoding``'s cost: the rows with
a non-ASCII source ("Zürich") as a UTF-8 CSV and as a cp1252 one (every line fails UTF-8 and
is decoded again), both read with ``encoding="cp1252"``, side by side.

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
from typing import Any


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


def compound_file(streams: dict[str, Any]) -> bytes:
    """An OLE compound file (version 3: sectors of 512 bytes, as Excel writes) holding
    ``streams`` at its root (a value that is a dict: a storage holding those streams); a
    stream under 4,096 bytes is padded to that size with zeros, to lie in the file's own
    sectors, not in a mini stream."""
    import struct

    size, per = 512, 128
    # the directory: (name, kind, its children's indexes, bytes); the root first
    entries: list[tuple[str, int, list[int], bytes]] = [("Root Entry", 5, [], b"")]
    lengths: dict[int, int] = {}

    def add(into: int, items: dict[str, Any]) -> None:
        for name, value in items.items():
            entries[into][2].append(len(entries))
            if isinstance(value, dict):
                entries.append((name, 1, [], b""))
                add(len(entries) - 1, value)
            else:  # its length: 4,096 at least (zeros after a shorter stream's bytes)
                lengths[len(entries)] = max(4096, len(value))
                entries.append((name, 2, [], value.ljust(
                    max(4096, -(-len(value) // size) * size), b"\0")))

    add(0, streams)
    n_dir = -(-len(entries) // 4)  # four entries a sector
    used = n_dir + sum(len(e[3]) // size for e in entries)  # the directory, then the streams
    n_fat = n_difat = 0
    while n_fat * per < n_fat + n_difat + used:  # the table covers its own sectors too
        n_fat += 1
        n_difat = -(-max(0, n_fat - 109) // (per - 1))
    first = n_fat + n_difat  # the directory's first sector
    fat = [0xFFFFFFFD] * n_fat + [0xFFFFFFFC] * n_difat + [*range(first + 1, first + n_dir),
                                                           0xFFFFFFFE]
    starts = {}
    for k, (_, kind, _, data) in enumerate(entries):
        if kind == 2:
            starts[k] = len(fat)
            fat += [*range(len(fat) + 1, len(fat) + len(data) // size), 0xFFFFFFFE]
    header = bytearray(512)
    struct.pack_into("<8s16xHHHHH6xIIIIIIIII", header, 0, bytes.fromhex("d0cf11e0a1b11ae1"),
                     0x3E, 3, 0xFFFE, 9, 6, 0, n_fat, first, 0, 4096, 0xFFFFFFFE, 0,
                     n_fat if n_difat else 0xFFFFFFFE, n_difat)
    listed = [*range(n_fat)]
    struct.pack_into("<109I", header, 0x4C, *(listed[:109] + [0xFFFFFFFF] * 109)[:109])
    difat = b""
    for k in range(n_difat):
        ids = listed[109 + k * (per - 1):109 + (k + 1) * (per - 1)]
        ids += [0xFFFFFFFF] * (per - 1 - len(ids))
        difat += struct.pack(f"<{per}I", *ids, n_fat + k + 1 if k + 1 < n_difat else 0xFFFFFFFE)
    right = {c: nxt for _, _, children, _ in entries
             for c, nxt in zip(children, [*children[1:], 0xFFFFFFFF], strict=False)}
    directory = b""
    for k, (name, kind, children, _) in enumerate(entries):  # siblings as a right chain
        raw = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        raw[:len(encoded)] = encoded
        struct.pack_into("<HBBIII", raw, 64, len(encoded), kind, 1, 0xFFFFFFFF,
                         right.get(k, 0xFFFFFFFF), children[0] if children else 0xFFFFFFFF)
        struct.pack_into("<IQ", raw, 116, starts.get(k, 0xFFFFFFFE), lengths.get(k, 0))
        directory += bytes(raw)
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat).ljust(n_fat * size, b"\xff")
    return (bytes(header) + fat_bytes + difat + directory.ljust(n_dir * size, b"\0")
            + b"".join(e[3] for e in entries if e[1] == 2))


def xls_bytes(sheets: dict[str, list[list[str]]]) -> bytes:
    """An Excel 97-2003 workbook (BIFF8): each sheet's rows as cells pointing into the shared
    strings, as Excel keeps text (a string is not split across records: each must fit in one;
    a sheet holds at most 65,536 rows)."""
    import struct

    def record(kind: int, data: bytes) -> bytes:
        return struct.pack("<HH", kind, len(data)) + data

    def bof(kind: int) -> bytes:
        return record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0, 0, 0, 0))

    strings: dict[str, int] = {}
    bodies = []
    for rows in sheets.values():
        cells = [record(0x00FD, struct.pack("<HHHI", r, c, 0, strings.setdefault(
            v, len(strings)))) for r, row in enumerate(rows) for c, v in enumerate(row) if v]
        bodies.append(bof(0x10) + b"".join(cells) + record(0x000A, b""))
    sst = [bytearray(struct.pack("<II", len(strings), len(strings)))]
    for text in strings:
        wide = any(ord(ch) > 255 for ch in text)
        item = struct.pack("<HB", len(text), wide) + text.encode(
            "utf-16-le" if wide else "latin-1")
        assert len(item) <= 8224, "a string longer than a record"
        if len(sst[-1]) + len(item) > 8224:
            sst.append(bytearray())
        sst[-1] += item
    shared = record(0x00FC, bytes(sst[0])) + b"".join(record(0x003C, bytes(c)) for c in sst[1:])
    head = bof(0x05) + record(0x00E0, bytes(20)) + shared
    names = [struct.pack("<BB", len(n), 0) + n.encode("latin-1") for n in sheets]
    at = len(head) + sum(4 + 6 + len(n) for n in names) + 4
    listing = b""
    for name, body in zip(names, bodies, strict=True):
        listing += record(0x0085, struct.pack("<IBB", at, 0, 0) + name)
        at += len(body)
    return compound_file({"Workbook": head + listing + record(0x000A, b"") + b"".join(bodies)})


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
        with (folder / "t.json").open("w", encoding="utf-8") as fh:  # one array, indented
            json.dump(rows, fh, indent=1)
        with (folder / "t.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        with (folder / "t.tsv").open("w", encoding="utf-8") as fh:  # no quoting in TSV
            fh.writelines("\t".join(r) + "\n" for r in [list(rows[0]), *map(dict.values, rows)])
        table = {"documents": [list(rows[0]), *(list(r.values()) for r in rows)]}
        (folder / "t.xlsx").write_bytes(xlsx_bytes(table))
        step = 50_000  # an .xls sheet holds 65,536 rows: the rows in sheets of 50,000
        head, *body = table["documents"]
        (folder / "t.xls").write_bytes(xls_bytes({
            f"documents {k // step + 1}": [head, *body[k:k + step]]
            for k in range(0, len(body), step)}))
        times: dict[str, list[float]] = {n: [] for n in ("t.jsonl", "t.json", "t.csv", "t.tsv",
                                                          "t.xlsx", "t.xls")}
        read: dict[str, list[tuple]] = {}
        for _ in range(args.rounds):
            for name in times:
                began = time.perf_counter()
                read[name] = [(e.id, e.text, e.meta) for e in read_inputs([folder / name])]
                times[name].append(time.perf_counter() - began)
        same = all(read[name] == read["t.jsonl"] for name in times)
        for name in ("t.json", "t.csv", "t.tsv", "t.xlsx", "t.xls"):
            for got, want in zip(read[name], read["t.jsonl"], strict=True):
                if got != want:
                    print(f"{name} differs first at {want[0]}: {got!r} against {want!r}")
                    break
        size = {n: (folder / n).stat().st_size / 1e6 for n in times}
        for name, runs in times.items():
            t = statistics.median(runs)
            print(f"{name:<8} {size[name]:7.1f} MB  {t:6.2f} s  {args.rows / t:10,.0f} rows/s  "
                  f"x JSONL {t / statistics.median(times['t.jsonl']):.2f}")
        print(f"the same documents (id, text, metadata) from all six: {same}")
        accented = [{**r, "source": f"Zürich {r['source']}"} for r in rows]
        for name, encoding in (("u.csv", "utf-8"), ("w.csv", "cp1252")):
            with (folder / name).open("w", encoding=encoding, newline="") as fh:
                writer = csv.DictWriter(fh, list(rows[0]))
                writer.writeheader()
                writer.writerows(accented)
        legacy: dict[str, list[float]] = {"u.csv": [], "w.csv": []}
        for _ in range(args.rounds):
            for name in legacy:
                began = time.perf_counter()
                read[name] = [(e.id, e.text, e.meta) for e in read_inputs(
                    [folder / name], encoding="cp1252")]
                legacy[name].append(time.perf_counter() - began)
        same_legacy = read["u.csv"] == read["w.csv"] and len(read["w.csv"]) == args.rows
        t_utf8, t_cp = (statistics.median(legacy[n]) for n in ("u.csv", "w.csv"))
        print(f"--encoding cp1252: UTF-8 CSV {args.rows / t_utf8:,.0f} rows/s, cp1252 CSV "
              f"{args.rows / t_cp:,.0f} rows/s, x UTF-8 {t_cp / t_utf8:.2f}; same documents: "
              f"{same_legacy}")


if __name__ == "__main__":
    main()
