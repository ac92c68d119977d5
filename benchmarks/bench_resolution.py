"""Entity resolution benchmark (issue 17): the graph builder's clusters against gold clusters,
and what resolution costs at scale.

    python benchmarks/bench_resolution.py                 # both gold sets, then 100k records
    python benchmarks/bench_resolution.py --n 1000000     # the cost at 1M records
    python benchmarks/bench_resolution.py --n 0           # quality only
    python benchmarks/bench_resolution.py --n 0 --model training/demo/model-tuned \\
        --output metrics/resolution.json                  # end to end too; figures as JSON

Quality: each gold set (``corpora/resolution/*_gold.jsonl``, gold mentions with cluster ids)
becomes relation records (each mention paired with the next one of its document, so every
mention reaches the builder and has the neighbours a document gives it); the builder resolves
them, and each mention's node is its predicted cluster. Scores: B-cubed precision/recall/F1
(per mention, averaged) and pairwise precision/recall/F1 (over pairs of mentions in one
cluster), for the baseline (``ResolutionConfig(enabled=False)``: equal normalised names only,
what kgx did before issue 17) and with resolution. Mentions are gold, so the figures measure
resolution alone, not the recogniser.

End to end (``--model``): the pipeline runs over the gold documents' texts (each gold line
carries its text: the demo corpus documents, ``health_docs.jsonl``), its relation records
(``doc_to_records``, what ``kgx extract`` writes) are built into a graph as ``kgx graph`` does
(``build_graph``), and the graph's mentions, with their nodes, are scored against the gold
clusters. Predicted and gold mentions match on doc id and character offsets; mentions with no
counterpart are treated as the CoNLL reference scorer does (Pradhan et al. 2014, see
``_resolution_score.py``): a gold mention missing from the graph scores 0 in recall, a graph
mention with no gold counterpart 0 in precision, nothing is added to either side. Only
mentions that take part in a predicted relation reach the graph, so the recogniser's mention
recall and the graph's are printed too, and the same scores on the matched mentions only
(resolution apart from recognition).

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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _resolution_score import (  # noqa: E402
    Mention,
    graph_mentions,
    mention_match,
    restrict,
    score,
)

GOLD = {"demo": ROOT / "corpora/resolution/demo_gold.jsonl",
        "health": ROOT / "corpora/resolution/health_gold.jsonl"}
RUNS = (("baseline", False), ("resolution", True))


def load_docs(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def gold_clusters(docs: list[dict]) -> dict[Mention, str]:
    return {(d["id"], m["start"], m["end"]): m["cluster"] for d in docs for m in d["mentions"]}


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


def predicted_clusters(docs: list[dict], enabled: bool) -> dict[Mention, str]:
    """Each gold mention's node, the gold records built into a graph."""
    from kgx.graph import GraphBuilder, ResolutionConfig

    builder = GraphBuilder(resolution=ResolutionConfig(enabled=enabled))
    builder.add_records(gold_records(docs))
    builder.resolve_across_documents()
    return graph_mentions(builder.graph)


def run_pipeline(nlp: Any, docs: list[dict]) -> tuple[set[Mention], list[dict]]:
    """The pipeline over the gold documents' own texts (the offsets of the gold mentions point
    into them): its entities, and the relation records ``kgx extract`` writes of each doc."""
    from kgx.records import doc_to_records, model_name

    model = model_name(nlp)
    entities: set[Mention] = set()
    records: list[dict] = []
    for doc, d in zip(nlp.pipe(d["text"] for d in docs), docs, strict=True):
        entities.update((d["id"], e.start_char, e.end_char) for e in doc.ents)
        records.extend(doc_to_records(doc, d["id"], model))
    return entities, records


def graph_clusters(records: list[dict], enabled: bool) -> dict[Mention, str]:
    """Each mention of ``records`` and its node, in the graph ``kgx graph`` builds of them
    (``kgx.graph.build_graph``: validation, merge, cross-document pass)."""
    from kgx.graph import build_graph

    with tempfile.TemporaryDirectory(prefix="kgx-bench-resolution-") as tmp:
        path = Path(tmp) / "records.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                        encoding="utf-8")
        built = build_graph([path], Path(tmp) / "graph.json", resolution=enabled)
        return graph_mentions(built.graph)


def end_to_end(docs: list[dict], entities: set[Mention], records: list[dict]) -> dict:
    """Scores of the graph built from predicted records against the gold clusters: mention
    recall of the recogniser (``entities``) and of the graph (only mentions in a relation get
    there), then, per run, B-cubed and pairwise over all mentions (twinless ones as
    ``_resolution_score`` says: a missed gold mention lowers recall, a mention with no gold
    counterpart lowers precision) and over the matched mentions only (resolution alone)."""
    gold = gold_clusters(docs)
    out: dict[str, Any] = {"recognised": mention_match(gold, entities), "records": len(records)}
    for label, enabled in RUNS:
        pred = graph_clusters(records, enabled)
        out[label] = score(gold, pred)
        out[f"{label}_matched"] = score(restrict(gold, pred), restrict(pred, gold))
    out["in_graph"] = mention_match(gold, pred)  # the same mentions in both runs
    return out


HEADER = (f"{'':24} {'B3 P':>6} {'B3 R':>6} {'B3 F1':>6} {'pair P':>7} {'pair R':>7} "
          f"{'pair F1':>7} {'clusters':>8} {'false':>6} {'missed':>6}")


def row(label: str, s: dict) -> str:
    return (f"{label:24} {s['b3_p']:6.3f} {s['b3_r']:6.3f} {s['b3_f1']:6.3f} "
            f"{s['pair_p']:7.3f} {s['pair_r']:7.3f} {s['pair_f1']:7.3f} "
            f"{s['pred_clusters']:8d} {s['false_pairs']:6d} {s['missed_pairs']:6d}")


def show_errors(gold: dict, pred: dict, texts: dict) -> None:
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


def quality(name: str, path: Path, errors: bool, nlp: Any = None) -> dict:
    """Gold-mention scores of one set (and end-to-end ones with a pipeline), printed and
    returned."""
    docs = load_docs(path)
    gold = gold_clusters(docs)
    texts = {(d["id"], m["start"], m["end"]): m["text"] for d in docs for m in d["mentions"]}
    result: dict[str, Any] = {"path": str(path.relative_to(ROOT)), "documents": len(docs),
                              "gold_mentions": len(gold),
                              "gold_clusters": len(set(gold.values())), "gold_mentions_run": {}}
    print(f"\n{name}: {len(docs)} documents, {len(gold)} gold mentions, "
          f"{len(set(gold.values()))} gold clusters ({result['path']})")
    print(HEADER)
    for label, enabled in RUNS:
        pred = predicted_clusters(docs, enabled)
        result["gold_mentions_run"][label] = s = score(gold, pred)
        print(row(f"gold mentions {label}", s))
        if errors and enabled:
            show_errors(gold, pred, texts)
    if nlp is not None:
        e2e = result["predicted_mentions_run"] = end_to_end(docs, *run_pipeline(nlp, docs))
        for label, _ in RUNS:
            print(row(f"predicted {label}", e2e[label]))
        for label, _ in RUNS:
            print(row(f"matched only {label}", e2e[f"{label}_matched"]))
        rec, gr = e2e["recognised"], e2e["in_graph"]
        print(f"predicted mentions: the recogniser found {rec['matched']} of {rec['gold']} gold "
              f"(recall {rec['recall']:.3f}; {rec['twinless_found']} of its {rec['found']} "
              f"entities match none); {e2e['records']} records bring {gr['matched']} to the "
              f"graph (mention recall {gr['recall']:.3f}; {gr['twinless_found']} of its "
              f"{gr['found']} mentions match none)")
    return result


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


def cost(n: int, seed: int) -> dict:
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
    return {"records": n, "seed": seed, **rows}


def rounded(value: Any) -> Any:
    """``value`` with its floats to 4 decimals (the JSON is read by people and diffs)."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="synthetic records for the cost "
                    "(0: skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--errors", action="store_true", help="list false merges and splits")
    ap.add_argument("--model", help="also score end to end: mentions and records predicted by "
                    "this pipeline (name or path)")
    ap.add_argument("--output", type=Path, help="also write the figures here (JSON)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--enabled", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.out, args.enabled == "1")
        return
    nlp = None
    if args.model:
        from kgx.batch import load_model

        nlp = load_model(args.model)
    result: dict[str, Any] = {"model": args.model, "sets": {}}
    for name, path in GOLD.items():
        result["sets"][name] = quality(name, path, args.errors, nlp)
    if args.n:
        result["cost"] = cost(args.n, args.seed)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(rounded(result), indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
