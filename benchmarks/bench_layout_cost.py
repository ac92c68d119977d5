"""What ``kgx_layout_boundaries`` costs in the whole pipeline (issue 19: the segmenter and any
extra work at most 10% of words/s): the same pipeline with and without it, on the same texts
laid out as paragraphs (or lines, or a list), alternating round by round in one process. A
pipeline trained before the component existed gets it added after its segmenter. Prints each
variant's median seconds and words/s, their ratio, and the sentences and relations each found.

    python benchmarks/bench_layout_cost.py --model training/conll04/pipeline \
        --texts ../shared/data/conll04/dev.json --documents 5 --layout paragraphs \
        --rounds 5 --threads 2
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_inference import alternate, paired_args, paired_setup  # noqa: E402

SEGMENTERS = ("kgx_punct_boundaries", "senter", "sentencizer")


def main() -> None:
    args = paired_args(__doc__, rounds=5)
    nlp, texts = paired_setup(args)
    if "kgx_layout_boundaries" not in nlp.pipe_names:
        after = next((n for n in SEGMENTERS if n in nlp.pipe_names), None)
        if after is None:
            sys.exit(f"{args.model}: no sentence segmenter (pipes: {nlp.pipe_names})")
        nlp.add_pipe("kgx_layout_boundaries", after=after)
    words = sum(len(t.split()) for t in texts)

    def pipeline(disable: list[str]):
        def go() -> tuple[int, int]:
            with nlp.select_pipes(disable=disable):
                docs = list(nlp.pipe(texts, batch_size=args.batch_size))
            return (sum(len(list(d.sents)) for d in docs),
                    sum(len(d._.kgx_relations) for d in docs))
        return go

    median, found = alternate({"with kgx_layout_boundaries": pipeline([]),
                               "without": pipeline(["kgx_layout_boundaries"])}, args.rounds)
    with_, without = median["with kgx_layout_boundaries"], median["without"]
    print(f"words/s: with {words / with_:,.0f}, without {words / without:,.0f}; "
          f"with / without {without / with_:.3f}")
    print(f"sentences and relations: with {found['with kgx_layout_boundaries']}, without "
          f"{found['without']}")


if __name__ == "__main__":
    main()
