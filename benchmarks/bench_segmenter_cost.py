"""What a trained senter costs in the whole pipeline (issue 19: the segmenter and any extra
work at most 10% of words/s): a pipeline assembled with ``configs/kgx_trf_senter.cfg`` (the
senter, then the rules' boundaries added) run as it is, and the same pipeline with spaCy's
rule-based sentencizer in their place, on the same texts, alternating round by round in one
process. Prints each one's median seconds and words/s, their ratio, and the relations each
found.

    python benchmarks/bench_segmenter_cost.py --model training/conll04/pipeline \
        --texts ../shared/data/conll04/dev.json --documents 5 --rounds 5 --threads 2
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_inference import alternate, paired_args, paired_setup  # noqa: E402


def main() -> None:
    args = paired_args(__doc__, rounds=5)
    nlp, texts = paired_setup(args)
    if "senter" not in nlp.pipe_names:
        sys.exit(f"{args.model}: no senter component (pipes: {nlp.pipe_names})")
    nlp.add_pipe("sentencizer", before="senter")
    words = sum(len(t.split()) for t in texts)

    learnt = [n for n in ("senter", "kgx_punct_boundaries") if n in nlp.pipe_names]

    def pipeline(disable: list[str]):
        def go() -> int:
            with nlp.select_pipes(disable=disable):
                return sum(len(d._.kgx_relations)
                           for d in nlp.pipe(texts, batch_size=args.batch_size))
        return go

    def segment_only(segmenter: list[str]):
        def go() -> int:
            with nlp.select_pipes(enable=segmenter):
                return sum(len(list(d.sents)) for d in nlp.pipe(texts))
        return go

    median, found = alternate({"pipeline, trained senter": pipeline(["sentencizer"]),
                               "pipeline, sentencizer": pipeline(learnt),
                               "senter alone": segment_only(learnt),
                               "sentencizer alone": segment_only(["sentencizer"])},
                              args.rounds)
    senter, rules = median["pipeline, trained senter"], median["pipeline, sentencizer"]
    print(f"words/s: trained senter {words / senter:,.0f}, sentencizer {words / rules:,.0f}; "
          f"senter / sentencizer {rules / senter:.3f}; segmenters alone "
          f"{words / median['senter alone']:,.0f} and {words / median['sentencizer alone']:,.0f} "
          f"words/s")
    print(f"relations: trained senter {found['pipeline, trained senter']}, sentencizer "
          f"{found['pipeline, sentencizer']}; sentences: {found['senter alone']} and "
          f"{found['sentencizer alone']}")


if __name__ == "__main__":
    main()
