"""Cross-validation on train+dev folds (issue 19): what a threshold chosen on held-out
predictions is worth, with five times the data a dev set gives.

``split`` pools a corpus's train and dev records and cuts them into K contiguous folds; for
each fold it writes the other K-1 folds as a training set and the fold itself as held-out data.
Train one model a fold with the shipped config (the command is printed). ``score`` then runs
each fold's model on its own held-out fold (raw documents of N sentences, as ``kgx evaluate
--as-documents N`` does) and reports, over all the records, predicted only by a model that
never saw them:

- NER F1 and relation strict micro F1 per fold and pooled, at the config's threshold;
- the relations' F1 at each global threshold of ``--grid`` (every label alike);
- leave one fold out: a global threshold (from the grid) or per-label thresholds (``kgx
  tune-thresholds``' procedure) chosen on the other folds' held-out predictions, scored on the
  fold left out; pooled over the folds;
- with ``--entity-grid`` / ``--type-constraints``: decision rules on the same predictions'
  weights, the recogniser's ``entity_threshold`` against its argmax and the relation
  component's ``type_constraints`` on and off, chosen and scored leave one fold out too.

    python benchmarks/eval_train_dev_folds.py split --train corpus/conll04/train.spacy \
        --dev corpus/conll04/dev.spacy --folds 4 --output training/cv
    python benchmarks/eval_train_dev_folds.py score --fold training/cv/m0/model-last \
        training/cv/fold0_heldout.spacy --fold ... --documents 5 --output metrics/cv.json

``--output`` also writes the figures as JSON (the ``conll04-cv`` and ``ade-cv`` commands of
project.yml run the whole procedure).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

GRID = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]


def split(args: argparse.Namespace) -> None:
    import spacy
    from spacy.tokens import DocBin

    vocab = spacy.blank("en").vocab
    docs = [d for path in (args.train, args.dev) for d in DocBin().from_disk(path).get_docs(vocab)]
    args.output.mkdir(parents=True, exist_ok=True)
    n, k_folds = len(docs), args.folds
    for k in range(k_folds):
        lo, hi = k * n // k_folds, (k + 1) * n // k_folds
        DocBin(docs=docs[lo:hi], store_user_data=True).to_disk(
            args.output / f"fold{k}_heldout.spacy")
        DocBin(docs=docs[:lo] + docs[hi:], store_user_data=True).to_disk(
            args.output / f"fold{k}_train.spacy")
        print(f"fold {k}: {hi - lo} held out, {n - (hi - lo)} to train on:\n"
              f"  python -m spacy train configs/kgx_trf.cfg --output {args.output}/m{k} "
              f"--paths.train {args.output}/fold{k}_train.spacy "
              f"--paths.dev {args.output}/fold{k}_heldout.spacy")


def counts(scored: list[Any], n_gold: list[Any], thresholds: dict[str, float]
           ) -> tuple[int, int, int]:
    """(true positives, predicted, gold) over all labels: what ``kgx tune-thresholds``'
    cross-validation counts."""
    from kgx.pipeline.thresholds import _micro_f1

    return _micro_f1(scored, n_gold, thresholds)


def f1(c: tuple[int, int, int]) -> float:
    from kgx.pipeline.thresholds import _f1

    return 100 * _f1(*c)


def add(*cs: tuple[int, int, int]) -> tuple[int, int, int]:
    return (sum(c[0] for c in cs), sum(c[1] for c in cs), sum(c[2] for c in cs))


def score(args: argparse.Namespace) -> None:
    import spacy
    from spacy.util import registry

    from kgx.pipeline.evaluate import evaluate
    from kgx.pipeline.thresholds import _fitted, candidate_scores, find_component

    folds = []
    for model, data in args.fold:
        nlp = spacy.load(model)
        examples = list(registry.readers.get("kgx.Corpus.v1")(
            path=Path(data), documents=args.documents)(nlp))
        result = evaluate(nlp, examples)
        rel = nlp.get_pipe(find_component(nlp))
        scored, n_gold = candidate_scores(nlp, examples)
        folds.append({"model": model, "nlp": nlp, "examples": examples,
                      "scored": scored, "gold": n_gold,
                      "labels": list(rel.labels), "current": dict(rel.thresholds),
                      "ner": 100 * result["ents_f"], "rel": 100 * result["rel_strict_micro_f"]})
        print(f"{model}: {len(examples)} documents, NER F1 {folds[-1]['ner']:.2f}, relations "
              f"F1 {folds[-1]['rel']:.2f} (evaluate) / "
              f"{f1(counts(scored, n_gold, rel.thresholds)):.2f} (candidates)", flush=True)
    grid = args.grid
    print("\nrelations strict micro F1, each fold's model on its own held-out fold")
    print(f"{'fold':>6} {'NER':>6} " + " ".join(f"{t:>6}" for t in grid))
    at: dict[float, list[tuple[int, int, int]]] = {t: [] for t in grid}
    for k, fold in enumerate(folds):
        for t in grid:
            at[t].append(counts(fold["scored"], fold["gold"], dict.fromkeys(fold["labels"], t)))
        print(f"{k:>6} {fold['ner']:6.2f} " + " ".join(f"{f1(at[t][k]):6.2f}" for t in grid))
    print(f"{'pooled':>6} {sum(f['ner'] for f in folds) / len(folds):6.2f} "
          + " ".join(f"{f1(add(*at[t])):6.2f}" for t in grid) + "   (NER: mean of folds)")

    chosen_global, chosen_labels = [], []
    for k, fold in enumerate(folds):
        others = [f for j, f in enumerate(folds) if j != k]
        best = max(grid, key=lambda t: (f1(add(*(at[t][j] for j in range(len(folds))
                                                  if j != k))), -abs(t - 0.5)))
        chosen_global.append((best, at[best][k]))
        # each label's best threshold on the other folds (a label without gold keeps the
        # config's): kgx tune-thresholds' own fit
        tuned = _fitted([d for f in others for d in f["scored"]],
                        [g for f in others for g in f["gold"]], fold["current"])
        chosen_labels.append((tuned, counts(fold["scored"], fold["gold"], tuned)))
    base = add(*(counts(f["scored"], f["gold"], f["current"]) for f in folds))
    global_f1 = f1(add(*(c for _, c in chosen_global)))
    loo = {"config": round(f1(base), 2),
           "global": round(global_f1, 2), "global_chosen": [t for t, _ in chosen_global],
           "per_label": round(f1(add(*(c for _, c in chosen_labels))), 2),
           "per_label_chosen": [tuned for tuned, _ in chosen_labels]}
    print(f"\nleave one fold out, pooled: config's thresholds {f1(base):.2f}; "
          f"a global threshold chosen on the other folds {global_f1:.2f}"
          f" (chosen: {', '.join(str(t) for t, _ in chosen_global)}); per-label thresholds "
          f"tuned on the other folds {f1(add(*(c for _, c in chosen_labels))):.2f}")
    for k, (tuned, _) in enumerate(chosen_labels):
        print(f"  fold {k} per-label: " + ", ".join(f"{label} {t:.2f}"
                                                   for label, t in tuned.items()))
    rules = (decision_grid(folds, args.entity_grid or [], args.type_constraints)
             if args.entity_grid or args.type_constraints else None)
    if args.output is not None:
        report = {
            "documents": args.documents,
            "folds": [{"model": f["model"], "data": data, "ner_f": round(f["ner"], 2),
                       "rel_f": round(f["rel"], 2),
                       "rel_f_at": {str(t): round(f1(at[t][k]), 2) for t in grid},
                       # (true positives, predicted, gold): folds scored in separate runs pool
                       "rel_counts_at": {str(t): list(at[t][k]) for t in grid}}
                      for k, (f, (_, data)) in enumerate(zip(folds, args.fold, strict=True))],
            "pooled_rel_f_at": {str(t): round(f1(add(*at[t])), 2) for t in grid},
            "leave_one_fold_out": loo,
        }
        if rules is not None:
            report["decision_rules"] = rules
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def decision_grid(folds: list[dict[str, Any]], grid: list[float],
                  types: bool) -> dict[str, Any]:
    """Decision rules on held-out folds, the same weights: the recogniser's argmax ("argmax")
    against ``entity_threshold`` values (a span is an entity when 1 - P(no entity) reaches the
    value), each with and without the relation component's ``type_constraints`` ("+types")
    when ``types``; NER and relation F1 per fold, pooled, and the rule chosen on the other
    folds (leave one fold out, by relation F1) scored on the fold left out."""
    from kgx.pipeline.component import RelationExtractor
    from kgx.pipeline.evaluate import evaluate
    from kgx.pipeline.scorer import relation_keys
    from kgx.pipeline.span_ner import SpanEntityRecognizer

    settings = [(t, typed) for typed in ([False, True] if types else [False])
                for t in [None, *grid]]
    names = [("argmax" if t is None else str(t)) + ("+types" if typed else "")
             for t, typed in settings]
    ner: dict[str, list[float]] = {n: [] for n in names}
    rel: dict[str, list[tuple[int, int, int]]] = {n: [] for n in names}
    for fold in folds:
        nlp, examples = fold["nlp"], fold["examples"]
        pipes = {kind: next((p for _, p in nlp.pipeline if isinstance(p, kind)), None)
                 for kind in (SpanEntityRecognizer, RelationExtractor)}
        span_ner, relations = pipes[SpanEntityRecognizer], pipes[RelationExtractor]
        if relations is None or (span_ner is None and grid):
            raise SystemExit(f"{fold['model']}: needs kgx_relation_extractor (and kgx_span_ner "
                             "for --entity-grid)")
        if types and not relations.cfg.get("signatures"):
            raise SystemExit(f"{fold['model']}: no type signatures saved (trained before kgx "
                             "learned them)")
        saved = (span_ner.entity_threshold if span_ner else None,
                 relations.type_constraints)
        gold_rels = sum(len(relation_keys(eg.reference, "strict")) for eg in examples)
        for name, (t, typed) in zip(names, settings, strict=True):
            if (t, typed) == saved:  # the model as saved: score() has run it already
                ner[name].append(fold["ner"])
                rel[name].append(counts(fold["scored"], fold["gold"], fold["current"]))
                continue
            if span_ner is not None:
                span_ner.entity_threshold = t
            relations.type_constraints = typed
            result = evaluate(nlp, examples)
            ner[name].append(100 * result["ents_f"])
            # the counts behind the relation figures (kgx's scorer counts relation_keys)
            tp = round(result["rel_strict_micro_r"] * gold_rels)
            p = result["rel_strict_micro_p"]
            rel[name].append((tp, round(tp / p) if p else 0, gold_rels))
        if span_ner is not None:
            span_ner.entity_threshold = saved[0]
        relations.type_constraints = saved[1]
    print("\ndecision rules: NER F1 / relations F1 (relation threshold as configured; pooled "
          "NER: mean of folds)")
    mean = {n: sum(v) / len(v) for n, v in ner.items()}
    print(f"{'rule':>16} " + " ".join(f"{'fold ' + str(k):>13}" for k in range(len(folds)))
          + f" {'pooled':>13}")
    for n in names:
        print(f"{n:>16} " + " ".join(f"{ner[n][k]:6.2f}/{f1(rel[n][k]):6.2f}"
                                     for k in range(len(folds)))
              + f" {mean[n]:6.2f}/{f1(add(*rel[n])):6.2f}")
    chosen = []
    for k in range(len(folds)):
        chosen.append(max(names, key=lambda n: f1(add(*(rel[n][j] for j in range(len(folds))
                                                       if j != k)))))
    loo_rel = f1(add(*(rel[n][k] for k, n in enumerate(chosen))))
    loo_ner = sum(ner[n][k] for k, n in enumerate(chosen)) / len(folds)
    print(f"leave one fold out, pooled: NER {loo_ner:.2f} / relations {loo_rel:.2f} "
          f"(chosen: {', '.join(chosen)}); argmax {mean['argmax']:.2f} / "
          f"{f1(add(*rel['argmax'])):.2f}")
    return {"folds": [{n: [round(ner[n][k], 2), round(f1(rel[n][k]), 2)] for n in names}
                      for k in range(len(folds))],
            "pooled": {n: [round(mean[n], 2), round(f1(add(*rel[n])), 2)] for n in names},
            "leave_one_fold_out": {"ner": round(loo_ner, 2), "rel": round(loo_rel, 2),
                                   "chosen": chosen}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("split")
    s.add_argument("--train", type=Path, required=True)
    s.add_argument("--dev", type=Path, required=True)
    s.add_argument("--folds", type=int, default=4)
    s.add_argument("--output", type=Path, required=True)
    c = sub.add_parser("score")
    c.add_argument("--fold", nargs=2, action="append", required=True, metavar=("MODEL", "DATA"))
    c.add_argument("--documents", type=int, default=5)
    c.add_argument("--grid", type=float, nargs="+", default=GRID)
    c.add_argument("--entity-grid", type=float, nargs="*", default=None,
                   help="also score the recogniser's entity_threshold at these values "
                        "against its argmax")
    c.add_argument("--type-constraints", action="store_true",
                   help="also score each rule with the relation component's type_constraints")
    c.add_argument("--output", type=Path, default=None, help="the figures as JSON")
    args = ap.parse_args()
    split(args) if args.command == "split" else score(args)


if __name__ == "__main__":
    main()
