"""Time of the span recogniser's model at inference (issue 16): thinc's chain of its layers
(the span Maxout in torch, then thinc's numpy LayerNorm and Softmax) against the one torch pass
that ``kgx.SpanCategorizer.v1`` now runs at inference (Maxout, LayerNorm and Softmax per block of
token rows). The same docs and candidate spans (the pipeline run up to the recogniser once),
the same process; the two paths alternate round by round. Prints seconds per pass, the ratio,
the largest difference of their scores and whether every span gets the same best label.

    python benchmarks/bench_recogniser.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --rounds 7 --threads 2
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

from bench_inference import load_texts  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5, help="sentences a document (SpERT)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()

    import numpy
    import spacy
    import torch
    from thinc.layers.chain import forward as chain_forward

    torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    texts = load_texts(args.texts, documents=args.documents)
    ner = nlp.get_pipe("ner")
    model = ner.model
    docs = list(nlp.pipe(texts, disable=["ner", "kgx_relation_extractor"]))
    batches = []
    for i in range(0, len(docs), args.batch_size):
        batch = docs[i:i + args.batch_size]
        batches.append((batch, ner.suggester(batch, ops=model.ops)))

    variants = {
        "thinc's chain (numpy LayerNorm, Softmax)":
            lambda b: chain_forward(model, b, False)[0],
        "one torch pass (now)": model.predict,
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    scores: dict[str, list] = {}
    for _ in range(args.rounds + 1):  # the first round warms up
        for name, run in variants.items():
            start = time.perf_counter()
            scores[name] = [run(b) for b in batches]
            times[name].append(time.perf_counter() - start)
    words = sum(len(t.split()) for t in texts)
    spans = sum(len(s.dataXd) for _, s in batches)
    print(f"model: {args.model}  texts: {args.texts} ({len(texts)} documents, {words} words, "
          f"{spans} candidate spans)  threads: {args.threads}  rounds: {args.rounds}")
    median = {name: statistics.median(t[1:]) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:42s} {median[name]:.3f} s  (runs {', '.join(f'{x:.3f}' for x in t[1:])})")
    old, new = (numpy.concatenate(s) for s in scores.values())
    print(f"x faster: {median[next(iter(median))] / median['one torch pass (now)']:.2f}; "
          f"largest score difference {numpy.abs(old - new).max():.1e}; the same best label for "
          f"every span: {bool((old.argmax(1) == new.argmax(1)).all())}")


if __name__ == "__main__":
    main()
