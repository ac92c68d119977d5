"""Reading a table of documents: the same rows as JSONL, CSV and TSV, through ``read_inputs``.

``--rows`` documents of ``--sentences`` sentences each (CoNLL04/ADE sentences from ``--data``,
cycled), an id and a source column beside the text, written as ``.jsonl``, ``.csv`` and
``.tsv``; each file read ``--rounds`` times, the formats alternating; the median time, the
rows per second, and whether all three give the same documents.

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
        times: dict[str, list[float]] = {n: [] for n in ("t.jsonl", "t.csv", "t.tsv")}
        read: dict[str, list[tuple]] = {}
        for _ in range(args.rounds):
            for name in times:
                began = time.perf_counter()
                read[name] = [(e.id, e.text, e.meta) for e in read_inputs([folder / name])]
                times[name].append(time.perf_counter() - began)
        same = read["t.csv"] == read["t.tsv"] == read["t.jsonl"]
        for name in ("t.csv", "t.tsv"):
            for got, want in zip(read[name], read["t.jsonl"], strict=True):
                if got != want:
                    print(f"{name} differs first at {want[0]}: {got!r} against {want!r}")
                    break
        size = {n: (folder / n).stat().st_size / 1e6 for n in times}
        for name, runs in times.items():
            t = statistics.median(runs)
            print(f"{name:<8} {size[name]:7.1f} MB  {t:6.2f} s  {args.rows / t:10,.0f} rows/s  "
                  f"x JSONL {t / statistics.median(times['t.jsonl']):.2f}")
        print(f"the same documents (id, text, metadata) from all three: {same}")


if __name__ == "__main__":
    main()
