"""The encoder's runtime (issue 16): words/s and peak memory of one trained pipeline with its
transformer as spacy-transformers runs it (``kgx.TransformerModel.v1``: one padded batch),
in length-sorted buckets (``v2``, float32) and in buckets with dynamic int8 (``v2``,
``quantize = "int8"``, what ``kgx quantize`` writes). Same weights; the variants alternate round
by round in one process, so the ratios are the figures that matter. Peak RSS is measured per
variant in a fresh child process (load, then one pass over the texts).

    python benchmarks/bench_encoder_runtime.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --rounds 3 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _variants import load_variant  # noqa: E402
from bench_inference import load_texts  # noqa: E402  (the benchmarks' one text reader)

VARIANTS = {
    "v1 (one padded batch)": {"@architectures": "kgx.TransformerModel.v1"},
    "v2 float32 (buckets)": {"@architectures": "kgx.TransformerModel.v2", "quantize": None},
    "v2 int8 (buckets)": {"@architectures": "kgx.TransformerModel.v2", "quantize": "int8"},
}
def child(args: argparse.Namespace) -> None:
    """One variant in a fresh process: its peak RSS after loading and one pass."""
    import torch

    torch.set_num_threads(args.threads)
    texts = load_texts(args.texts, documents=args.documents)
    nlp = load_variant(args.model, VARIANTS[args.child])
    list(nlp.pipe(texts, batch_size=args.batch_size))
    print(json.dumps({"maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5, help="sentences a document (SpERT)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return

    import torch

    torch.set_num_threads(args.threads)
    texts = load_texts(args.texts, documents=args.documents)
    words = sum(len(t.split()) for t in texts)
    pipelines = {name: load_variant(args.model, s) for name, s in VARIANTS.items()}
    for nlp in pipelines.values():
        list(nlp.pipe(texts[:8]))  # warm-up (int8: quantizes here)
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    found: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, nlp in pipelines.items():
            start = time.perf_counter()
            docs = list(nlp.pipe(texts, batch_size=args.batch_size))
            times[name].append(time.perf_counter() - start)
            found[name] = sum(len(d._.kgx_relations or []) for d in docs)
    rss = {}
    for name in pipelines:
        out = subprocess.run([sys.executable, __file__, "--model", args.model, "--texts",
                              str(args.texts), "--documents", str(args.documents),
                              "--threads", str(args.threads), "--child", name],
                             capture_output=True, text=True, check=True)
        rss[name] = json.loads(out.stdout.strip().splitlines()[-1])["maxrss_mb"]
    print(f"model: {args.model}  texts: {args.texts} ({len(texts)} documents, {words} words)  "
          f"threads: {args.threads}  rounds: {args.rounds}")
    median = {name: statistics.median(t) for name, t in times.items()}
    base = median["v1 (one padded batch)"]
    for name, t in median.items():
        print(f"{name:<24} {words / t:8.0f} words/s  x{base / t:4.2f}  peak RSS "
              f"{rss[name]:6.0f} MB  (runs {', '.join(f'{x:.2f}' for x in times[name])} s)  "
              f"relations: {found[name]}")
    fp32, int8 = median["v2 float32 (buckets)"], median["v2 int8 (buckets)"]
    print(f"int8 / float32 speed: {fp32 / int8:.2f}x; peak RSS int8 / float32: "
          f"{rss['v2 int8 (buckets)'] / rss['v2 float32 (buckets)']:.2f}")


if __name__ == "__main__":
    main()
