"""Words/s of one pipeline on the same documents laid out two ways (issue 19: reading a layout
costs at most 10% of words/s): e.g. running text (``--layout``) against hard-wrapped text
(``--against``), whose line breaks are tokens the pipeline skips (``kgx.pipeline.words``). The
layouts alternate round by round in one process; prints each one's median seconds and words/s,
their ratio, and the entities and relations each found.

    python benchmarks/bench_layout_speed.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --layout space \
        --against wrapped --rounds 5 --threads 2
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_inference import alternate, load_texts, paired_args, paired_setup  # noqa: E402


def main() -> None:
    args = paired_args(__doc__, rounds=5, extra=lambda ap: ap.add_argument(
        "--against", default="wrapped", help="the layout compared with --layout"))
    nlp, first_texts = paired_setup(args)
    first, second = args.layout, args.against
    texts = {first: first_texts,
             second: load_texts(args.texts, documents=args.documents, layout=second)}
    words = sum(len(t.split()) for t in first_texts)

    def pipeline(layout: str):
        def go() -> tuple[int, int]:
            docs = list(nlp.pipe(texts[layout], batch_size=args.batch_size))
            return (sum(len(d.ents) for d in docs),
                    sum(len(d._.kgx_relations) for d in docs))
        return go

    median, found = alternate({layout: pipeline(layout) for layout in texts}, args.rounds)
    print(f"words/s: {first} {words / median[first]:,.0f}, {second} "
          f"{words / median[second]:,.0f}; {second} / {first} "
          f"{median[first] / median[second]:.3f}")
    print(f"entities and relations: {first} {found[first]}, {second} {found[second]}")


if __name__ == "__main__":
    main()
