"""Inference speed of a trained pipeline with and without the relation component.

Both variants run in this one process over the same texts, interleaved round by round, so
that machine noise hits both alike; the figure that matters is the ratio.

    python benchmarks/bench_inference.py --model training/conll04/model-best \
        --texts ../shared/data/conll04/dev.json --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load_texts(path: Path, limit: int = 0, documents: int = 1) -> list[str]:
    """Texts from SpERT JSON (``documents`` sentences joined into each), kgx JSONL or a folder
    of .txt files."""
    if path.is_dir():
        texts = [p.read_text(encoding="utf-8") for p in sorted(path.rglob("*.txt"))]
    elif path.suffix == ".json":
        sents = [" ".join(d["tokens"]) for d in json.loads(path.read_text(encoding="utf-8"))]
        texts = [" ".join(sents[i:i + documents]) for i in range(0, len(sents), documents)]
    else:
        texts = [json.loads(line)["text"] for line in path.open(encoding="utf-8") if line.strip()]
    return texts[:limit] if limit else texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import spacy
    import torch

    torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    texts = load_texts(args.texts, args.limit)
    words = sum(len(t.split()) for t in texts)
    rel = [n for n in nlp.pipe_names if nlp.get_pipe_meta(n).factory == "kgx_relation_extractor"]
    variants = {"full pipeline": [], "without relations": rel}
    list(nlp.pipe(texts[:16]))  # warm-up: lazy initialisation, allocator
    times: dict[str, list[float]] = {name: [] for name in variants}
    n_rels = 0
    for _ in range(args.rounds):
        for name, disable in variants.items():
            start = time.perf_counter()
            with nlp.select_pipes(disable=disable):
                docs = list(nlp.pipe(texts, batch_size=args.batch_size))
            times[name].append(time.perf_counter() - start)
            if not disable:
                n_rels = sum(len(d._.kgx_relations or []) for d in docs)
    print(f"model: {args.model}  pipes: {nlp.pipe_names}")
    print(f"texts: {len(texts)}  words: {words}  relations found: {n_rels}  "
          f"threads: {args.threads}  rounds: {args.rounds}")
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, t in median.items():
        print(f"{name:<20} {words / t:10.0f} words/s   (median of {args.rounds}: {t:.2f} s)")
    ratio = median["without relations"] / median["full pipeline"]
    print(f"ratio full / without relations: {ratio:.3f}")


if __name__ == "__main__":
    main()
