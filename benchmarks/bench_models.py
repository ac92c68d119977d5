"""Words/s of several trained pipelines side by side, and of each one's encoder alone: the
pipelines alternate round by round in one process (median of the rounds), so their ratios hold
on a noisy machine. For comparing architectures that need their own training (issue 16: the
span recogniser's max over projections, ``kgx.SpanCategorizer.v2``), where a same-weights
variant (``bench_speed.py``) cannot be built. ``--int8`` adds each pipeline with its encoder
quantized as ``kgx quantize`` does.

    python benchmarks/bench_models.py --model training/a/model-last training/b/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --rounds 5 --threads 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _variants import load_variant  # noqa: E402
from bench_inference import load_texts  # noqa: E402
from bench_speed import INT8  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, nargs="+")
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5, help="sentences a document (SpERT)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--int8", action="store_true")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    texts = load_texts(args.texts, documents=args.documents)
    words = sum(len(t.split()) for t in texts)
    runs = {}
    for model in args.model:
        runs[model] = load_variant(model)
        if args.int8:
            runs[f"{model} (int8)"] = load_variant(model, INT8)
    encoder_only = {f"{name}: encoder alone": nlp for name, nlp in runs.items()}
    times: dict[str, list[float]] = {name: [] for name in [*runs, *encoder_only]}
    for nlp in runs.values():
        list(nlp.pipe(texts[:8]))  # warm-up
    for _ in range(args.rounds):
        for name, nlp in runs.items():
            start = time.perf_counter()
            list(nlp.pipe(texts, batch_size=args.batch_size))
            times[name].append(time.perf_counter() - start)
        for name, nlp in encoder_only.items():
            last = nlp.pipe_names.index("transformer")
            start = time.perf_counter()
            with nlp.select_pipes(enable=nlp.pipe_names[:last + 1]):
                list(nlp.pipe(texts, batch_size=args.batch_size))
            times[name].append(time.perf_counter() - start)
    print(f"texts: {args.texts} ({len(texts)} documents, {words} words)  threads: "
          f"{args.threads}  rounds: {args.rounds}")
    first = statistics.median(times[next(iter(runs))])
    for name, t in times.items():
        m = statistics.median(t)
        print(f"{name:<70} {words / m:8.0f} words/s  x{first / m:5.2f} the first")
    for name in runs:
        ratio = statistics.median(times[f"{name}: encoder alone"]) / statistics.median(times[name])
        print(f"{name:<70} pipeline / encoder alone {ratio:.2f}")


if __name__ == "__main__":
    main()
