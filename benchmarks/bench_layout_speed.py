"""Words/s of one pipeline on the same documents laid out two ways (issue 19: reading a layout
costs at most 10% of words/s): e.g. running text against hard-wrapped text, whose line breaks
are tokens the pipeline skips (``kgx.pipeline.words``). The layouts alternate round by round in
one process; prints each one's median seconds and words/s, their ratio, and the entities and
relations each found.

    python benchmarks/bench_layout_speed.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --layouts space wrapped \
        --rounds 5 --threads 2
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_inference import alternate, load_texts  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5)
    ap.add_argument("--layouts", nargs=2, default=["space", "wrapped"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()

    import spacy
    import torch

    torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    texts = {layout: load_texts(args.texts, documents=args.documents, layout=layout)
             for layout in args.layouts}
    words = sum(len(t.split()) for t in texts[args.layouts[0]])
    print(f"model: {args.model}  texts: {args.texts} ({len(texts[args.layouts[0]])} documents, "
          f"{words} words)  threads: {args.threads}  rounds: {args.rounds}")

    def pipeline(layout: str):
        def go() -> tuple[int, int]:
            docs = list(nlp.pipe(texts[layout], batch_size=args.batch_size))
            return (sum(len(d.ents) for d in docs),
                    sum(len(d._.kgx_relations) for d in docs))
        return go

    median, found = alternate({layout: pipeline(layout) for layout in args.layouts},
                              args.rounds)
    first, second = args.layouts
    print(f"words/s: {first} {words / median[first]:,.0f}, {second} "
          f"{words / median[second]:,.0f}; {second} / {first} "
          f"{median[first] / median[second]:.3f}")
    print(f"entities and relations: {first} {found[first]}, {second} {found[second]}")


if __name__ == "__main__":
    main()
