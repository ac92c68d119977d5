"""What reading a PDF corpus costs the process that runs ``kgx extract``: in that process, in a
pool of reading processes (``--read-processes``), and on ``--resume`` when nothing changed.

A corpus of PDF files is typeset from a CoNLL04/ADE JSON file (``--documents`` sentences a
file, two columns, justified, a footnote on each page: ``eval_pdf``'s writer), plus any
``--files`` (real PDFs, each copied ``--copies`` times under other names). Each way is timed
``--rounds`` times, the ways alternating; the median is printed, with the CPU seconds of the
calling process (``time.process_time``: what the run's own process spends, the figure that
caps a run spread over many annotating processes or a Dask cluster's workers):

* ``read here``: ``read_inputs`` parses every file in this process (what a run did before);
* ``read in N processes``: ``read_inputs`` with a ``spawn`` pool of N processes (the pool
  started before the clock: a run starts it once);
* ``read on a Dask cluster of N workers`` (``--dask N``): a ``LocalCluster`` of N worker
  processes, through its client's executor, as a Dask run reads (started before the clock);
* ``resume, all unchanged, read then compared``: every file parsed, then found in the
  manifest (what ``--resume`` did before);
* ``resume, all unchanged, hashed``: every file hashed from its bytes and found unchanged,
  none parsed (what ``--resume`` does now).

    python benchmarks/bench_reading.py --data ../shared/data/conll04/dev.json --documents 20 \
        --files /usr/share/doc/libtasn1-doc/libtasn1.pdf --processes 2 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_pdf import pdf_bytes, typeset  # noqa: E402


def build_corpus(folder: Path, data: Path, k: int, files: list[str], copies: int) -> int:
    """Write the PDFs; returns their number of pages."""
    sentences = [" ".join(s["tokens"]) for s in json.loads(data.read_text())]
    pages = 0
    for i in range(0, len(sentences) - k + 1, k):
        blob = pdf_bytes(typeset(i, sentences[i:i + k], 2, True, notes=True))
        (folder / f"doc{i:05d}.pdf").write_bytes(blob)
        pages += blob.count(b"/Type /Page ")
    for path in files:
        for c in range(copies):
            shutil.copy(path, folder / f"real-{c}-{Path(path).name}")
    return pages


def timed(way: Callable[[], int]) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    n = way()
    return time.perf_counter() - wall, time.process_time() - cpu, n


def main() -> None:
    from kgx.batch.reading import read_inputs

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=20, help="sentences a PDF file")
    ap.add_argument("--files", nargs="*", default=[], help="real PDF files to add")
    ap.add_argument("--copies", type=int, default=3)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--dask", type=int, default=0, help="also on a local Dask cluster of N")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pages = build_corpus(folder, args.data, args.documents, args.files, args.copies)
        n_files = len(list(folder.iterdir()))
        print(f"{n_files} PDF files ({pages} typeset pages from {args.data.name}, "
              f"{len(args.files)} real file(s) x {args.copies})")
        done = {e.id: (e.sha256, e.status) for e in read_inputs([folder])}

        def here() -> int:
            return sum(1 for _ in read_inputs([folder]))

        pool = ProcessPoolExecutor(args.processes, mp_context=get_context("spawn"))
        list(pool.map(abs, range(args.processes * 4)))  # started before the clock

        def pooled() -> int:
            return sum(1 for _ in read_inputs([folder], executor=pool,
                                              ahead=4 * args.processes))

        def resume_before() -> int:
            return sum(1 for e in read_inputs([folder])
                       if done.get(e.id) != (e.sha256, e.status))

        def resume_now() -> int:
            unchanged = lambda i, s: i in done and done[i][0] == s  # noqa: E731
            return sum(1 for _ in read_inputs([folder], unchanged=unchanged))

        ways = {"read here": here, f"read in {args.processes} processes": pooled}
        stack = ExitStack()
        if args.dask:
            from kgx.batch.distributed import dask_client

            client = stack.enter_context(dask_client(f"local:{args.dask}", "60s"))
            dask_pool = client.get_executor(pure=False)
            ways[f"read on a Dask cluster of {args.dask} workers"] = lambda: sum(
                1 for _ in read_inputs([folder], executor=dask_pool, ahead=4 * args.dask))
        ways["resume, all unchanged, read then compared"] = resume_before
        ways["resume, all unchanged, hashed"] = resume_now
        figures: dict[str, list[tuple[float, float, int]]] = {w: [] for w in ways}
        try:
            for _ in range(args.rounds):
                for name, way in ways.items():
                    figures[name].append(timed(way))
        finally:
            pool.shutdown()
            stack.close()
        base_wall = statistics.median(w for w, _, _ in figures["read here"])
        base_cpu = statistics.median(c for _, c, _ in figures["read here"])
        print(f"{'':<44} {'wall s':>8} {'x':>6} {'own CPU s':>10} {'x':>6} {'documents':>10}")
        for name, runs in figures.items():
            wall = statistics.median(w for w, _, _ in runs)
            cpu = statistics.median(c for _, c, _ in runs)
            print(f"{name:<44} {wall:8.2f} {wall / base_wall:6.2f} {cpu:10.2f} "
                  f"{cpu / base_cpu:6.2f} {runs[0][2]:>10}")


if __name__ == "__main__":
    main()
