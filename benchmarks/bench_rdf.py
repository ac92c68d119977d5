"""RDF benchmark: kgx's streaming N-Quads writer vs rdflib, and the load into the embedded store.

    python benchmarks/bench_rdf.py --records 1000000 --small 100000 --rdflib-records 100000

For each size, the synthetic records (benchmarks/_synth.py) are built into a graph and saved as
graph.json once; every measurement then runs in its own fresh subprocess that loads that graph,
resets the peak-RSS counter (``/proc/self/clear_refs``; the graph itself is the same for both
sides) and measures one thing, reporting ``resource.getrusage`` ``ru_maxrss``:

* kgx: ``kgx.rdf.export(G, "kg.nq")`` (the streaming writer);
* rdflib: the same statements put into an ``rdflib.Dataset`` (parsed from the kgx file, timed
  separately) and ``Dataset.serialize(format="nquads")`` (timed alone: rdflib's own writer);
* store: ``kgx.store.load_file`` (pyoxigraph bulk load) of the kgx file into a fresh store.

rdflib holds every statement as Python objects (~1 KB each), so at 1M records (~20M quads) it
does not fit in memory here; ``--rdflib-records`` sets the size it is measured at.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark so ru_maxrss measures from here on."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(task: str, graph_path: Path, workdir: Path) -> None:
    from kgx.graph import load_graph

    G = load_graph(graph_path)
    reset = _reset_peak()
    base_mb = _rss_kb() / 1024
    out: dict = {"task": task, "graph_rss_mb": round(base_mb, 1), "peak_reset": reset}
    if task == "kgx":
        from kgx import rdf

        t0 = time.perf_counter()
        result = rdf.export(G, workdir / "kgx.nq", "nq", vocab=rdf.Vocabulary.default())
        out["seconds"] = time.perf_counter() - t0
        out["quads"] = result.statements
        out["bytes"] = (workdir / "kgx.nq").stat().st_size
    elif task == "rdflib":
        import rdflib

        del G  # rdflib works from the statements, not the graph
        t0 = time.perf_counter()
        ds = rdflib.Dataset()
        ds.parse(str(workdir / "kgx.nq"), format="nquads")
        out["build_seconds"] = time.perf_counter() - t0
        out["quads"] = sum(1 for _ in ds.quads((None, None, None, None)))
        t0 = time.perf_counter()
        ds.serialize(destination=str(workdir / "rdflib.nq"), format="nquads", encoding="utf-8")
        out["seconds"] = time.perf_counter() - t0
    elif task == "store":
        from kgx.store import load_file, open_store

        del G
        store = open_store(workdir / "store")
        t0 = time.perf_counter()
        result = load_file(store, workdir / "kgx.nq")
        out["seconds"] = time.perf_counter() - t0
        out["quads"] = result.store_quads
    out["peak_mb"] = round(_maxrss_mb(), 1)
    out["peak_over_graph_mb"] = round(out["peak_mb"] - base_mb, 1)
    print(json.dumps(out))


def run_child(task: str, graph_path: Path, workdir: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, __file__, "--child", task, "--graph", str(graph_path),
                           "--workdir", str(workdir)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{task} child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_graph(n: int, path: Path) -> float:
    from _synth import synthetic_records

    from kgx.graph import GraphBuilder, save_graph

    t0 = time.perf_counter()
    builder = GraphBuilder()
    builder.add_records(synthetic_records(n, 0))
    save_graph(builder.graph, path)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=100_000, help="Second size (memory check).")
    ap.add_argument("--rdflib-records", type=int, default=100_000,
                    help="Size rdflib is measured at (0: skip).")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--graph", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.graph, args.workdir)
        return
    root = Path(args.workdir or tempfile.mkdtemp(prefix="kgx-bench-rdf-"))
    sizes = sorted({args.small, args.records})
    results: dict[int, dict] = {}
    for n in sizes:
        work = root / f"n{n}"
        work.mkdir(parents=True, exist_ok=True)
        graph = work / "graph.json"
        build_s = build_graph(n, graph) if not graph.exists() else float("nan")
        row: dict = {"build_graph_s": build_s}
        row["kgx"] = run_child("kgx", graph, work)
        if n == args.rdflib_records:
            row["rdflib"] = run_child("rdflib", graph, work)
            (work / "rdflib.nq").unlink(missing_ok=True)
        row["store"] = run_child("store", graph, work)
        results[n] = row
        k = row["kgx"]
        print(f"{n:>9,} records  graph build {build_s:7.1f}s   kgx nq export: "
              f"{k['quads']:>11,} quads in {k['seconds']:7.1f}s "
              f"({k['quads'] / k['seconds']:,.0f} quads/s), "
              f"{k['bytes'] / 1e9:.2f} GB; peak RSS {k['peak_mb']:,.0f} MB "
              f"(graph {k['graph_rss_mb']:,.0f} MB, +{k['peak_over_graph_mb']:,.0f} MB writing)",
              flush=True)
        if "rdflib" in row:
            r = row["rdflib"]
            print(f"{'':>9}          rdflib: Dataset build {r['build_seconds']:7.1f}s, "
                  f"serialize(nquads) {r['seconds']:7.1f}s; peak RSS {r['peak_mb']:,.0f} MB "
                  f"(+{r['peak_over_graph_mb']:,.0f} MB over the process base)", flush=True)
            print(f"{'':>9}          kgx vs rdflib serialize alone: "
                  f"{r['seconds'] / k['seconds']:.1f}x faster; vs build+serialize: "
                  f"{(r['seconds'] + r['build_seconds']) / k['seconds']:.1f}x; memory over base "
                  f"{k['peak_over_graph_mb']:,.0f} MB vs {r['peak_over_graph_mb']:,.0f} MB",
                  flush=True)
        s = row["store"]
        print(f"{'':>9}          embedded store bulk load: {s['quads']:,} quads in "
              f"{s['seconds']:.1f}s ({s['quads'] / s['seconds']:,.0f} quads/s), "
              f"peak RSS {s['peak_mb']:,.0f} MB", flush=True)
        for name in ("kgx.nq",):
            (work / name).unlink(missing_ok=True)
    print(json.dumps({str(k): v for k, v in results.items()}, indent=1))
    print(f"work directory: {root}")


if __name__ == "__main__":
    main()
