"""What averaging several trained pipelines buys on raw documents (issue 19).

Pipelines trained alike with different seeds differ by a point or two of relation F1 on the
same held-out documents. An ensemble of them is the usual upper end of what more training
compute gives one model family: this script averages the recognisers' span probabilities (over
the candidate spans every pipeline keeps), decides the entities once, then averages the
relation components' pair probabilities on those entities, and scores raw documents of K
records by character offsets, beside each pipeline alone. An ensemble of N costs N encoder
passes at inference and N trainings, so kgx does not ship one; the figure says how far the
model family is from a target, not what to deploy.

    python benchmarks/eval_seed_ensemble.py --data training/cv/fold0_heldout.spacy \
        --documents 5 --model seed0/model-last seed1/model-last seed2/model-last

The pipelines must share their labels (in any order: columns are matched by name) and the
first one's segmenters, the components before its transformer, split every pipeline's docs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy
from eval_trailing_period import arguments, facts, pipelines, scores

from kgx.pipeline.thresholds import run_until

RELATIONS = "kgx_relation_extractor"


def aligned(scores: numpy.ndarray, labels: Sequence[str],
            reference: Sequence[str]) -> numpy.ndarray:
    """``scores``' label columns in the order of ``reference``; columns past the labels (the
    recogniser's "no entity") stay where they are."""
    if sorted(labels) != sorted(reference):
        raise SystemExit(f"the pipelines' labels differ: {sorted(labels)} and "
                         f"{sorted(reference)}")
    order = [list(labels).index(label) for label in reference]
    order += list(range(len(labels), scores.shape[1]))
    return scores[:, order]


def shared_candidates(ners: Sequence[Any], docs: list) -> Any:
    """The candidate spans of each doc that every recogniser keeps (their filters learned
    their words from training, and a span one of them never scores is left out)."""
    from thinc.api import Ragged

    kept = [ner.candidate_spans(docs) for ner in ners]
    rows = [numpy.asarray(r.dataXd).reshape(-1, 2) for r in kept]
    ends = [numpy.cumsum(numpy.asarray(r.lengths)) for r in kept]
    data: list[tuple[int, int]] = []
    lengths = []
    for i in range(len(docs)):
        spans = [{(int(a), int(b)) for a, b in own[(end[i - 1] if i else 0):end[i]]}
                 for own, end in zip(rows, ends, strict=True)]
        common = sorted(set.intersection(*spans))
        data.extend(common)
        lengths.append(len(common))
    ops = ners[0].model.ops
    return Ragged(ops.asarray2i(numpy.asarray(data, dtype="int32").reshape(-1, 2)),
                  ops.asarray1i(numpy.asarray(lengths, dtype="int32")))


def predicted(nlps: Sequence[Any], docs: list) -> tuple[list[list], list]:
    """``facts`` of each pipeline's docs alone, and of the ensemble's, from copies of
    ``docs``."""
    first = nlps[0]
    # split into sentences by the first pipeline's components before its transformer
    base = run_until(first, "transformer", [doc.copy() for doc in docs])
    spans = shared_candidates([nlp.get_pipe("ner") for nlp in nlps], base)
    entity_labels = first.get_pipe("ner").labels
    encoded, span_scores = [], []
    for nlp in nlps:
        own = list(nlp.get_pipe("transformer").pipe([doc.copy() for doc in base]))
        ner = nlp.get_pipe("ner")
        raw = numpy.asarray(ner.model.ops.to_numpy(ner.model.predict((own, spans))))
        span_scores.append(aligned(raw, ner.labels, entity_labels))
        encoded.append(own)
    alone = []
    for nlp, own, raw in zip(nlps, encoded, span_scores, strict=True):
        # each alone first, on its own docs; the ensemble's entities replace its entities after
        ner = nlp.get_pipe("ner")
        ner.set_annotations(own, (spans, aligned(raw, entity_labels, ner.labels)))
        relations = nlp.get_pipe(RELATIONS)
        relations.set_annotations(own, relations.predict(own))
        alone.append([facts(doc, False) for doc in own])
        for doc in own:
            doc.ents = []
    mean_spans = sum(span_scores) / len(span_scores)
    relation_labels = first.get_pipe(RELATIONS).labels
    pair_probs, candidates = [], None
    for nlp, own in zip(nlps, encoded, strict=True):
        ner = nlp.get_pipe("ner")
        ner.set_annotations(own, (spans, aligned(mean_spans, entity_labels, ner.labels)))
        relations = nlp.get_pipe(RELATIONS)
        cands, probs = relations.predict(own)
        if candidates is None:
            candidates = cands
        elif any(not numpy.array_equal(a.pairs, b.pairs)
                 for a, b in zip(cands, candidates, strict=True)):
            raise SystemExit("the pipelines' relation candidates differ on the same entities "
                             "(different candidates settings)")
        pair_probs.append(aligned(probs, relations.labels, relation_labels))
    first.get_pipe(RELATIONS).set_annotations(
        encoded[0], (candidates, sum(pair_probs) / len(pair_probs)))
    return alone, [facts(doc, False) for doc in encoded[0]]


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--batch", type=int, default=16, help="documents a batch")
    args = ap.parse_args()
    loaded = list(pipelines(args))
    nlps = [nlp for nlp, _ in loaded]
    examples = loaded[0][1]
    gold = [facts(eg.reference, False) for eg in examples]
    alone: list[list] = [[] for _ in nlps]
    together: list = []
    for b in range(0, len(examples), args.batch):
        each, both = predicted(nlps, [eg.predicted for eg in examples[b:b + args.batch]])
        for found, own in zip(alone, each, strict=True):
            found.extend(own)
        together.extend(both)
    print(f"data: {args.data}  documents of {args.documents}: {len(examples)}")
    for model, found in zip(args.model, alone, strict=True):
        print(f"  alone     {scores(gold, found)}  {model}")
    print(f"  ensemble  {scores(gold, together)}  ({len(nlps)} pipelines)")


if __name__ == "__main__":
    main()
