"""What reading a large spreadsheet costs in memory: peak RSS and time of a process that reads a
``.xlsx`` and a ``.ods`` of ``--rows`` documents through ``read_inputs``.

The workbook is ``bench_tables.xlsx_bytes``'s (ids and a source column beside the text, the
text in shared strings); the spreadsheet is written here the way Calc writes one (a row of
cells, typed). Each file is read in a fresh process (``--rounds`` times, the median), so
that one reading's peak is not another's; ``--kgx`` puts another checkout of kgx first on
the path, to compare two versions side by side in one run.

    python benchmarks/bench_sheet_memory.py --rows 200000 [--kgx /tmp/old-kgx]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

CHILD = """
import sys, time
began = time.perf_counter()
from kgx.batch.reading import read_inputs
n = sum(1 for e in read_inputs([sys.argv[1]]) if e.status == "ok")
# VmHWM (kB), not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent, which
# holds the generated rows
print(n, time.perf_counter() - began,
      next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def ods_bytes(rows: list[list[str]]) -> bytes:
    """A spreadsheet of one sheet holding ``rows`` (strings, numbers as floats)."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')

    def cell(value: str) -> str:
        if value.isdigit():
            return f'<table:table-cell office:value-type="float" office:value="{value}"/>'
        return (f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p>'
                "</table:table-cell>")

    body = "".join("<table:table-row>" + "".join(map(cell, row)) + "</table:table-row>"
                   for row in rows)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", f"<office:document-content {ns}><office:body>"
                         f'<office:spreadsheet><table:table table:name="documents">{body}'
                         "</table:table></office:spreadsheet></office:body>"
                         "</office:document-content>")
    return out.getvalue()


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_tables import xlsx_bytes

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/conll04/train.json"))
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kgx", type=Path, action="append", default=[],
                    help="another kgx checkout to read with too (repeatable)")
    args = ap.parse_args()
    sentences = [" ".join(s["tokens"]) for s in json.loads(args.data.read_text())]
    rows = [["id", "text", "n"]] + [[f"d{i}", sentences[i % len(sentences)], str(i % 97)]
                                     for i in range(args.rows)]
    here = Path(__file__).resolve().parents[1]
    versions = {"this checkout": here, **{str(p): p.resolve() for p in args.kgx}}
    with tempfile.TemporaryDirectory() as tmp:
        files = {".xlsx": Path(tmp) / "t.xlsx", ".ods": Path(tmp) / "t.ods"}
        files[".xlsx"].write_bytes(xlsx_bytes({"documents": rows}))
        files[".ods"].write_bytes(ods_bytes(rows))
        for suffix, path in files.items():
            with zipfile.ZipFile(path) as archive:
                xml = max(info.file_size for info in archive.infolist())
            print(f"{suffix}: {path.stat().st_size / 1e6:.1f} MB, its largest part "
                  f"{xml / 1e6:.1f} MB unpacked")
        for suffix, path in files.items():
            for name, root in versions.items():
                runs = []
                for _ in range(args.rounds):
                    env = {**os.environ, "PYTHONPATH": str(root)}
                    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env,
                                         capture_output=True, text=True, check=True, cwd=tmp)
                    n, seconds, rss = out.stdout.split()
                    runs.append((float(seconds), int(rss) / 1024))
                print(f"  {suffix:<6} {name:<16} {n} documents  "
                      f"{statistics.median(r[0] for r in runs):6.2f} s  "
                      f"peak RSS {statistics.median(r[1] for r in runs):7.0f} MB")


if __name__ == "__main__":
    main()
