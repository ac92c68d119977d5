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
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


# what "the encoder alone" runs of a pipeline: its segmenter (the sentencizer, or a trained
# senter and the rules' boundaries added to it) and the transformer
ENCODER_PIPES = ("sentencizer", "senter", "kgx_punct_boundaries", "kgx_layout_boundaries",
                 "transformer")


def encoder_pipes(nlp) -> list[str]:
    """The pipeline's components that the encoder alone needs, in order."""
    return [name for name in nlp.pipe_names if name in ENCODER_PIPES]


def load_texts(path: Path, limit: int = 0, documents: int = 1,
               layout: str = "space") -> list[str]:
    """Texts from SpERT JSON (``documents`` sentences joined into each, laid out as
    ``kgx.corpus.LAYOUTS[layout]``), kgx JSONL or a folder of .txt files."""
    from kgx.corpus import LAYOUTS
    from kgx.corpus.documents import wrap_text

    prefix, separator = LAYOUTS[layout]
    if path.is_dir():
        texts = [p.read_text(encoding="utf-8") for p in sorted(path.rglob("*.txt"))]
    elif path.suffix == ".json":
        sents = [prefix + " ".join(d["tokens"])
                 for d in json.loads(path.read_text(encoding="utf-8"))]
        texts = [separator.join(sents[i:i + documents]) for i in range(0, len(sents), documents)]
        if layout == "wrapped":
            texts = [wrap_text(text) for text in texts]
    else:
        texts = [json.loads(line)["text"] for line in path.open(encoding="utf-8") if line.strip()]
    return texts[:limit] if limit else texts


def paired_args(doc: str, rounds: int = 7,
                extra: Callable[[argparse.ArgumentParser], Any] | None = None
                ) -> argparse.Namespace:
    """The command line of the paired component benchmarks: a model, texts in documents of K
    sentences, rounds and torch threads; ``extra`` adds a benchmark's own options."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5, help="sentences a document (SpERT)")
    ap.add_argument("--layout", default="space",
                    help="how a document's sentences are laid out (SpERT; kgx.corpus.LAYOUTS)")
    ap.add_argument("--rounds", type=int, default=rounds)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    if extra is not None:
        extra(ap)
    return ap.parse_args()


def paired_setup(args: argparse.Namespace) -> tuple:
    """torch on ``--threads`` threads, the pipeline loaded, the texts read, and a header line
    printed: what the paired benchmarks share."""
    import spacy
    import torch

    torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    texts = load_texts(args.texts, documents=args.documents, layout=args.layout)
    words = sum(len(t.split()) for t in texts)
    print(f"model: {args.model}  texts: {args.texts} ({len(texts)} documents, {words} words, "
          f"laid out as {args.layout})  "
          f"threads: {args.threads}  rounds: {args.rounds}")
    return nlp, texts


def alternate(variants: dict, rounds: int) -> tuple[dict[str, float], dict]:
    """Each variant (a callable) once a round, in turn, for ``rounds`` rounds after one
    warm-up round, so that machine noise hits them alike. Prints each variant's median and its
    runs; returns the medians and each variant's last output."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    outputs: dict = {}
    for _ in range(rounds + 1):
        for name, run in variants.items():
            start = time.perf_counter()
            outputs[name] = run()
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(t[1:]) for name, t in times.items()}
    width = max(len(name) for name in variants) + 2
    for name, t in times.items():
        print(f"{name:{width}s} {median[name]:.3f} s  "
              f"(runs {', '.join(f'{x:.3f}' for x in t[1:])})")
    return median, outputs


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
