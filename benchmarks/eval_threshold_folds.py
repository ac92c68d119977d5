"""Do per-label thresholds tuned on dev carry over to data they were not tuned on?

Dev documents (raw text, K sentences each) are split into two halves by alternation; thresholds
tuned on one half (``kgx tune-thresholds``' procedure) are scored on the other, beside the global
threshold on the same half. Tuning and scoring on one half is printed too: the optimism that
choosing on the scored set adds. Relations strict micro, pooled over both halves.

    python benchmarks/eval_threshold_folds.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5)
    args = ap.parse_args()

    import spacy
    from spacy.training import Example
    from spacy.util import registry

    from kgx.pipeline.scorer import count_relations
    from kgx.pipeline.thresholds import find_component, tune_thresholds

    nlp = spacy.load(args.model)
    rel = nlp.get_pipe(find_component(nlp))
    examples = list(registry.readers.get("kgx.Corpus.v1")(
        path=args.data, documents=args.documents)(nlp))
    halves = [examples[0::2], examples[1::2]]

    def counts(part: list) -> tuple[int, int, int]:
        docs = list(nlp.pipe(eg.predicted.copy() for eg in part))
        c = count_relations([Example(d, eg.reference) for d, eg in zip(docs, part, strict=True)],
                            "strict")
        return tuple(sum(per_label[k] for per_label in c.values()) for k in ("tp", "fp", "fn"))

    def f1(tp: int, fp: int, fn: int) -> float:
        return 200 * tp / (2 * tp + fp + fn) if tp else 0.0

    totals = {"global threshold": [0, 0, 0], "tuned on the other half": [0, 0, 0],
              "tuned on the scored half": [0, 0, 0]}
    for k in (0, 1):
        scored, other = halves[k], halves[1 - k]
        rel.set_thresholds({})
        for name, tune_on in (("global threshold", None), ("tuned on the other half", other),
                              ("tuned on the scored half", scored)):
            rel.set_thresholds({})
            if tune_on is not None:
                tune_thresholds(nlp, tune_on)
            for i, v in enumerate(counts(scored)):
                totals[name][i] += v
    print(f"model: {args.model}  data: {args.data}  documents of {args.documents}: "
          f"{len(examples)}  global threshold {rel.cfg['threshold']}")
    for name, (tp, fp, fn) in totals.items():
        print(f"{name:<28} relations strict micro F1 {f1(tp, fp, fn):6.2f}  (tp {tp}, fp {fp}, "
              f"fn {fn})")


if __name__ == "__main__":
    main()
