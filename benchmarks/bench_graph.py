"""Graph-build benchmark: N synthetic relation records → GraphBuilder → graph.json.

    python benchmarks/bench_graph.py --n 1000000

Generates the records (benchmarks/_synth.py, ~50k entities) as a run directory in a temporary
folder, then builds the graph in a fresh subprocess (so its peak RSS is the build's alone) the
way ``kgx graph RUN_DIR`` does: read and validate the shards, merge, save node-link JSON. A
second subprocess loads graph.json and ranks related entities of the best-connected entity.
Prints wall and CPU times per phase (CPU time is the steadier figure on a shared machine),
records/second and peak memory (``ru_maxrss`` of each child).
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

from _synth import synthetic_records, write_run_dir  # noqa: E402

__all__ = ["synthetic_records", "write_run_dir"]


def child(run_dir: Path, out: Path, phases: bool) -> None:
    """Runs in the subprocess: build, save, print one JSON line of figures."""
    from kgx.graph import GraphBuilder, save_graph
    from kgx.rundir import iter_input_records

    figures: dict[str, float | int] = {}
    t0 = time.perf_counter()
    if phases:
        n = sum(1 for _ in iter_input_records(run_dir))
        figures["read_validate_s"] = round(time.perf_counter() - t0, 2)
        figures["records_read"] = n
        t0 = time.perf_counter()
    c0 = time.process_time()
    builder = GraphBuilder()
    errors: list = []
    counts = builder.add_records(iter_input_records(run_dir, errors), validate=False)
    figures["build_s"] = round(time.perf_counter() - t0, 2)
    figures["build_cpu_s"] = round(time.process_time() - c0, 2)
    figures["records"] = counts.get("records", 0)
    figures["build_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    t1 = time.perf_counter()
    stats = builder.stats()
    figures["stats_s"] = round(time.perf_counter() - t1, 2)
    t2, c2 = time.perf_counter(), time.process_time()
    save_graph(builder.graph, out)
    figures["save_json_s"] = round(time.perf_counter() - t2, 2)
    figures["save_cpu_s"] = round(time.process_time() - c2, 2)
    figures["graph_json_mb"] = round(out.stat().st_size / 1e6, 1)
    figures.update(
        nodes=stats["nodes"], edges=stats["edges"], documents=stats["documents"],
        evidence=stats["evidence"], mentions=stats["mentions"],
        surface_forms=stats["surface_forms"], components=stats["weakly_connected_components"],
        malformed=len(errors),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
    print(json.dumps(figures))


def child_load(graph_json: Path, update_from: Path | None) -> None:
    """Second subprocess: load the saved graph, rank related entities of the top entity; with
    ``update_from``, add every record again (each document is replaced by itself) and check that
    the graph did not change."""
    from kgx.graph import GraphBuilder, graph_stats, load_graph, related
    from kgx.rundir import iter_input_records

    t0, c0 = time.perf_counter(), time.process_time()
    G = load_graph(graph_json)
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    top = graph_stats(G, top=1)["top_entities"][0]
    t1 = time.perf_counter()
    ranking = related(G, top["node"], top=10)
    figures: dict[str, float | int | str | bool] = {
        "load_json_s": round(load_s, 2), "load_cpu_s": round(load_cpu, 2),
        "related_s": round(time.perf_counter() - t1, 2),
        "related_of": top["name"], "related_first": ranking[0]["name"] if ranking else "",
        "load_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if update_from is not None:
        before = (G.number_of_nodes(), G.number_of_edges(),
                  sum(d["count"] for _, _, d in G.edges(data=True)))
        t2, c2 = time.perf_counter(), time.process_time()
        builder = GraphBuilder(G)
        counts = builder.add_records(iter_input_records(update_from), validate=False)
        figures["update_s"] = round(time.perf_counter() - t2, 2)
        figures["update_cpu_s"] = round(time.process_time() - c2, 2)
        figures["update_replaced"] = counts.get("replaced_documents", 0)
        after = (G.number_of_nodes(), G.number_of_edges(),
                 sum(d["count"] for _, _, d in G.edges(data=True)))
        figures["update_unchanged"] = before == after
        figures["update_peak_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of records")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--phases", action="store_true",
                        help="also time a read-and-validate-only pass first")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--update", action="store_true",
                        help="also time re-adding every record to the loaded graph (--update)")
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--update-from", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out, args.phases)
        return
    if args.load:
        child_load(args.load, args.update_from)
        return

    with tempfile.TemporaryDirectory(prefix="kgx-bench-graph-") as tmp:
        run_dir = Path(tmp) / "run"
        t0 = time.perf_counter()
        shards = write_run_dir(run_dir, args.n, args.seed)
        gen_s = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in shards) / 1e6
        print(f"generated {args.n:,} records in {len(shards)} shards ({size:.0f} MB) "
              f"in {gen_s:.1f} s")
        cmd = [sys.executable, __file__, "--child", str(run_dir), "--out",
               str(Path(tmp) / "graph.json")] + (["--phases"] if args.phases else [])
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        total = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"build failed:\n{proc.stderr[-3000:]}")
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        cmd = [sys.executable, __file__, "--load", str(Path(tmp) / "graph.json")]
        if args.update:
            cmd += ["--update-from", str(run_dir)]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        if proc.returncode != 0:
            sys.exit(f"load failed:\n{proc.stderr[-3000:]}")
        figures.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    rate = figures["records"] / figures["build_s"] if figures["build_s"] else 0.0
    print(f"records          {figures['records']:>12,}")
    if "read_validate_s" in figures:
        print(f"read+validate    {figures['read_validate_s']:>12.2f} s  (parse only, no graph)")
    print(f"build            {figures['build_s']:>12.2f} s  ({rate:,.0f} records/s, "
          f"read+validate+merge; CPU {figures['build_cpu_s']:.2f} s)")
    print(f"stats            {figures['stats_s']:>12.2f} s")
    print(f"save graph.json  {figures['save_json_s']:>12.2f} s  ({figures['graph_json_mb']} MB; "
          f"CPU {figures['save_cpu_s']:.2f} s)")
    print(f"child total      {total:>12.2f} s  (incl. interpreter start and imports)")
    print(f"peak RSS build   {figures['build_rss_mb']:>12,.1f} MB  (after the build, before save)")
    print(f"peak RSS         {figures['peak_rss_mb']:>12,.1f} MB  (whole child, incl. save)")
    print(f"load graph.json  {figures['load_json_s']:>12.2f} s  (CPU {figures['load_cpu_s']:.2f} "
          f"s; separate process, peak RSS {figures['load_peak_rss_mb']:,.1f} MB)")
    print(f"related (PPR)    {figures['related_s']:>12.2f} s  (top 10 for "
          f"{figures['related_of']!r}: first {figures['related_first']!r})")
    if "update_s" in figures:
        print(f"update (re-add)  {figures['update_s']:>12.2f} s  "
              f"(CPU {figures['update_cpu_s']:.2f} s; {figures['update_replaced']:,} "
              f"documents replaced by themselves; graph unchanged: {figures['update_unchanged']}; "
              f"peak RSS {figures['update_peak_rss_mb']:,.1f} MB)")
    print(f"nodes            {figures['nodes']:>12,}")
    print(f"edges            {figures['edges']:>12,}")
    print(f"documents        {figures['documents']:>12,}")
    print(f"evidence         {figures['evidence']:>12,}")
    print(f"mentions         {figures['mentions']:>12,}")
    print(f"surface forms    {figures['surface_forms']:>12,}")
    print(f"components       {figures['components']:>12,}")


if __name__ == "__main__":
    main()
