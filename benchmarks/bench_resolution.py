"""Entity resolution benchmark (issue 17): the graph builder's clusters against gold clusters,
and what resolution costs at scale.

    python benchmarks/bench_resolution.py                 # both gold sets, then 100k records
    python benchmarks/bench_resolution.py --n 1000000     # the cost at 1M records
    python benchmarks/bench_resolution.py --n 0           # quality only

Quality: each gold set (``corpora/resolution/*_gold.jsonl``, gold mentions with cluster ids)
becomes relation records (each mention paired with the next one of its document, so every
mention reaches the builder and has the neighbours a document gives it); the builder resolves
them, and each mention's node is its predicted cluster. Scores: B-cubed precision/recall/F1
(per mention, averaged) and pairwise precision/recall/F1 (over pairs of mentions in one
cluster), for the baseline (``ResolutionConfig(enabled=False)``: equal normalised names only,
what kgx did before issue 17) and with resolution. Mentions are gold, so the figures measure
resolution alone, not the recogniser.

Cost: synthetic records (benchmarks/_synth.py, as bench_graph.py) built in a fresh subprocess
each, resolution off and on, the way ``kgx graph`` does (read, merge, cross-document pass);
CPU seconds and peak RSS side by side, and their ratios.
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
from collections import defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

GOLD = {"demo": ROOT / "corpora/resolution/demo_gold.jsonl",
        "health": ROOT / "corpora/resolution/health_gold.jsonl"}


def gold_records(docs: list[dict]) -> list[dict]:
    """Each mention paired with the next one in its document (relation ``Near``)."""
    records = []
    for doc in docs:
        ms = doc["mentions"]
        pairs = list(zip(ms, ms[1:], strict=False)) or [(ms[0], ms[0])]
        for h, t in pairs:
            records.append({
                "doc_id": doc["id"], "relation": "Near", "score": 0.9, "model": "gold@0",
                "head": {"text": h["text"], "label": h["label"], "start_char": h["start"],
                         "end_char": h["end"]},
                "tail": {"text": t["text"], "label": t["label"], "start_char": t["start"],
                         "end_char": t["end"]},
                "sent_start_char": 0, "sent_end_char": len(doc["text"]),
            })
    return records


def predicted_clusters(docs: list[dict], enabled: bool) -> dict[tuple[str, int, int], str]:
    from kgx.graph import GraphBuilder, ResolutionConfig

    builder = GraphBuilder(resolution=ResolutionConfig(enabled=enabled))
    builder.add_records(gold_records(docs))
    builder.resolve_across_documents()
    node: dict[tuple[str, int, int], str] = {}
    for h, t, _, data in builder.graph.edges(keys=True, data=True):
        for ev in data["evidence"]:
            node[(ev["doc_id"], ev["head_start"], ev["head_end"])] = h
            node[(ev["doc_id"], ev["tail_start"], ev["tail_end"])] = t
    return node


def prf(p: float, r: float) -> tuple[float, float, float]:
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(gold: dict, pred: dict) -> dict[str, float]:
    """B-cubed and pairwise precision, recall, F1 of ``pred`` against ``gold`` (mention → id)."""
    g_members, p_members = defaultdict(set), defaultdict(set)
    for m, c in gold.items():
        g_members[c].add(m)
        p_members[pred[m]].add(m)
    bp = sum(len(p_members[pred[m]] & g_members[gold[m]]) / len(p_members[pred[m]])
             for m in gold) / len(gold)
    br = sum(len(p_members[pred[m]] & g_members[gold[m]]) / len(g_members[gold[m]])
             for m in gold) / len(gold)
    g_pairs = {frozenset(p) for ms in g_members.values() for p in combinations(sorted(ms), 2)}
    p_pairs = {frozenset(p) for ms in p_members.values() for p in combinations(sorted(ms), 2)}
    both = len(g_pairs & p_pairs)
    b = prf(bp, br)
    pw = prf(both / len(p_pairs) if p_pairs else 1.0, both / len(g_pairs) if g_pairs else 1.0)
    return {"b3_p": b[0], "b3_r": b[1], "b3_f1": b[2], "pair_p": pw[0], "pair_r": pw[1],
            "pair_f1": pw[2], "pred_clusters": len(p_members), "gold_clusters": len(g_members),
            "false_pairs": len(p_pairs - g_pairs), "missed_pairs": len(g_pairs - p_pairs)}


def quality(name: str, path: Path, show_errors: bool) -> None:
    docs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    gold = {(d["id"], m["start"], m["end"]): m["cluster"] for d in docs for m in d["mentions"]}
    texts = {(d["id"], m["start"], m["end"]): m["text"] for d in docs for m in d["mentions"]}
    print(f"\n{name}: {len(docs)} documents, {len(gold)} gold mentions, "
          f"{len(set(gold.values()))} gold clusters ({path.relative_to(ROOT)})")
    print(f"{'':12} {'B3 P':>6} {'B3 R':>6} {'B3 F1':>6} {'pair P':>7} {'pair R':>7} "
          f"{'pair F1':>7} {'clusters':>8} {'false':>6} {'missed':>6}")
    for label, enabled in (("baseline", False), ("resolution", True)):
        pred = predicted_clusters(docs, enabled)
        s = score(gold, pred)
        print(f"{label:12} {s['b3_p']:6.3f} {s['b3_r']:6.3f} {s['b3_f1']:6.3f} "
              f"{s['pair_p']:7.3f} {s['pair_r']:7.3f} {s['pair_f1']:7.3f} "
              f"{s['pred_clusters']:8d} {s['false_pairs']:6d} {s['missed_pairs']:6d}")
        if show_errors and enabled:
            by_node = defaultdict(set)
            for m, node in pred.items():
                by_node[node].add(gold[m])
            for node, clusters in sorted(by_node.items()):
                if len(clusters) > 1:
                    print(f"   false merge: {node} holds {sorted(clusters)}")
            by_gold = defaultdict(set)
            for m, c in gold.items():
                by_gold[c].add((pred[m], texts[m]))
            for c, nodes in sorted(by_gold.items()):
                if len({n for n, _ in nodes}) > 1:
                    print(f"   split: {c}: {sorted({t for _, t in nodes})}")


def child(run_dir: Path, out: Path, enabled: bool) -> None:
    """One build in its own process: what ``kgx graph RUN -o graph.json`` does."""
    from kgx.graph import GraphBuilder, ResolutionConfig, save_graph
    from kgx.rundir import iter_input_records

    t0, c0 = time.perf_counter(), time.process_time()
    builder = GraphBuilder(resolution=ResolutionConfig(enabled=enabled))
    builder.add_records(iter_input_records(run_dir), validate=False)
    merged = builder.resolve_across_documents()
    build_cpu = time.process_time() - c0
    save_graph(builder.graph, out)
    print(json.dumps({
        "build_s": round(time.perf_counter() - t0, 2), "build_cpu_s": round(build_cpu, 2),
        "total_cpu_s": round(time.process_time() - c0, 2),
        "nodes": builder.graph.number_of_nodes(), "edges": builder.graph.number_of_edges(),
        "cross_document_merges": merged,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


def cost(n: int, seed: int) -> None:
    from _synth import write_run_dir

    with tempfile.TemporaryDirectory(prefix="kgx-bench-resolution-") as tmp:
        run_dir = Path(tmp) / "run"
        write_run_dir(run_dir, n, seed)
        rows = {}
        for label, flag in (("off", "0"), ("on", "1")):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(run_dir), "--out",
                 str(Path(tmp) / f"graph-{label}.json"), "--enabled", flag],
                capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
            if proc.returncode != 0:
                sys.exit(proc.stderr[-3000:])
            rows[label] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\ncost at {n:,} synthetic records (build = read + merge + cross-document pass; "
          "total adds saving graph.json)")
    keys = ["build_cpu_s", "total_cpu_s", "build_s", "peak_rss_mb", "nodes", "edges",
            "cross_document_merges"]
    print(f"{'':22} {'off':>10} {'on':>10} {'on/off':>7}")
    for k in keys:
        off, on = rows["off"][k], rows["on"][k]
        ratio = f"{on / off:7.2f}" if k in keys[:4] and off else ""
        print(f"{k:22} {off:>10} {on:>10} {ratio}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="synthetic records for the cost "
                    "(0: skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--errors", action="store_true", help="list false merges and splits")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--enabled", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.out, args.enabled == "1")
        return
    for name, path in GOLD.items():
        quality(name, path, args.errors)
    if args.n:
        cost(args.n, args.seed)


if __name__ == "__main__":
    main()
