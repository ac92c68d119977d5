"""Do per-label thresholds tuned on dev carry over to data they were not tuned on?

Dev documents (raw text, K sentences each) go through the pipeline once; then, for each number
of folds and each random split, thresholds tuned on all folds but one (``kgx tune-thresholds``'
procedure) score the fold left out (``kgx.pipeline.thresholds.cross_validate_thresholds``, what
``kgx tune-thresholds --folds N`` reports). Printed beside the current thresholds' F1 and the
in-sample F1 (tuned and scored on all the documents: the optimism of choosing on the scored
set). Relations strict micro F1; the evaluation's own F1 of the same pipeline is printed as a
check that the candidates' scores reproduce it. ``--curve`` adds the F1 of one global threshold
for every label at each value given (what a single, lower threshold would do).

    python benchmarks/eval_threshold_folds.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, nargs="+")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5)
    ap.add_argument("--folds", type=int, nargs="+", default=[2, 5, 10])
    ap.add_argument("--splits", type=int, default=5, help="random splits for each fold count")
    ap.add_argument("--curve", type=float, nargs="*", default=[])
    args = ap.parse_args()

    import spacy
    from spacy.util import registry

    from kgx.pipeline.evaluate import evaluate
    from kgx.pipeline.thresholds import (
        candidate_scores,
        cross_validate_thresholds,
        find_component,
        thresholds_f1,
    )

    for model in args.model:
        nlp = spacy.load(model)
        rel = nlp.get_pipe(find_component(nlp))
        examples = list(registry.readers.get("kgx.Corpus.v1")(
            path=args.data, documents=args.documents)(nlp))
        scored, n_gold = candidate_scores(nlp, examples, rel.name)
        pipeline_f = evaluate(nlp, examples)["rel_strict_micro_f"]
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)}  thresholds {rel.thresholds}")
        print(f"  the evaluation's relations strict micro F1: {100 * pipeline_f:.2f}")
        if args.curve:
            curve = [f"{t}: {100 * thresholds_f1(scored, n_gold, dict.fromkeys(rel.labels, t)):.2f}"
                     for t in args.curve]
            print("  one global threshold: " + ", ".join(curve))
        for folds in args.folds:
            runs = [cross_validate_thresholds(scored, n_gold, rel.thresholds, folds, seed)
                    for seed in range(args.splits)]
            cv = [100 * r["cross_validated"] for r in runs]
            print(f"  {folds:>2} folds x {args.splits} splits: current "
                  f"{100 * runs[0]['current']:.2f}  cross-validated mean "
                  f"{statistics.mean(cv):.2f} (min {min(cv):.2f}, max {max(cv):.2f})  "
                  f"in-sample {100 * runs[0]['in_sample']:.2f}")


if __name__ == "__main__":
    main()
