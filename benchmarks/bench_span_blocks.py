"""Words/s of the whole pipeline with the span recogniser pooling its spans at inference block
by block of N token rows (``kgx.pipeline.span_infer.INFERENCE_BLOCK_ROWS``) and in one piece.
Same pipeline, same process; the settings alternate round by round (issue 16).

    python benchmarks/bench_span_blocks.py --model training/conll04/model-last \
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

from bench_inference import load_texts  # noqa: E402

ONE_PIECE = 10 ** 9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5, help="sentences a document (SpERT)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, nargs="+", default=[512, 2048, ONE_PIECE])
    args = ap.parse_args()

    import spacy
    import torch

    from kgx.pipeline import span_infer

    torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    texts = load_texts(args.texts, documents=args.documents)
    words = sum(len(t.split()) for t in texts)
    list(nlp.pipe(texts[:8]))  # warm-up
    default = span_infer.INFERENCE_BLOCK_ROWS
    times: dict[int, list[float]] = {rows: [] for rows in args.rows}
    try:
        for _ in range(args.rounds):
            for rows in args.rows:
                span_infer.INFERENCE_BLOCK_ROWS = rows
                start = time.perf_counter()
                list(nlp.pipe(texts, batch_size=32))
                times[rows].append(time.perf_counter() - start)
    finally:
        span_infer.INFERENCE_BLOCK_ROWS = default
    print(f"model: {args.model}  texts: {args.texts} ({len(texts)} documents, {words} words)  "
          f"threads: {args.threads}  rounds: {args.rounds}")
    whole = statistics.median(times[ONE_PIECE]) if ONE_PIECE in times else None
    for rows, t in times.items():
        name = "one piece" if rows == ONE_PIECE else f"blocks of {rows} rows"
        ratio = f"  x{whole / statistics.median(t):.2f} one piece" if whole else ""
        print(f"{name:<22} {words / statistics.median(t):7.0f} words/s{ratio}  "
              f"(runs {', '.join(f'{x:.2f}' for x in t)} s)")


if __name__ == "__main__":
    main()
