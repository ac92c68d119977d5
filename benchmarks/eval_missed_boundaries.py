"""What the record boundaries a segmenter misses cost on assembled documents (issue 19).

``kgx evaluate --as-documents K`` joins K gold records into one raw document; the pipeline's
own segmenter (sentencizer, or the `conll04` workflow's senter with the punctuation rules)
then has to find where each record starts. Where it misses one, the encoder reads two records
as one sentence and the relation component pairs their entities. This script scores the same
pipeline on the same documents two ways: with the sentence starts its own components set, and
with those starts plus every gold record start they missed (nothing else changed: the
segmenters keep preset starts, ``overwrite = false``). The difference is the cost of the missed
starts; it also counts the relations in the records that a missed start merged and those the
pipeline predicts across two records (wrong by construction where the corpus has no
cross-record relations).

    python benchmarks/eval_missed_boundaries.py --model training/conll04/pipeline [MODEL ...] \
        --data corpus/conll04/dev.spacy --documents 5
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_segmenter import starts  # noqa: E402  (where a sentence starts, as it counts them)
from eval_trailing_period import arguments, facts, pipelines  # noqa: E402

# a relation as eval_trailing_period.facts keys it: head span, head label, tail span, tail
# label, relation label
Key = tuple[tuple[int, int], str, tuple[int, int], str, str]


def segmenters(nlp: Any) -> list[str]:
    """The components that set sentence starts (spaCy's ``assigns`` says which)."""
    return [name for name in nlp.pipe_names
            if "token.is_sent_start" in nlp.get_pipe_meta(name).assigns]


def own_starts(nlp: Any, names: list[str], doc: Any) -> set[int]:
    """Where the segmenters ``names`` start sentences in a copy of the tokenised ``doc``."""
    with nlp.select_pipes(enable=names):
        return starts(nlp(doc.copy()))


def preset(doc: Any, chosen: set[int]) -> None:
    """Every token of ``doc`` (past the first) a sentence start exactly where ``chosen`` says."""
    for token in doc[1:]:
        token.is_sent_start = token.idx in chosen


def run_preset(nlp: Any, docs: list[Any], chosen: list[set[int]]) -> list[Any]:
    """The pipeline run over copies of ``docs`` with their sentence starts preset to
    ``chosen``; refuses where a component moved them (a segmenter with ``overwrite = true``
    would make the two rows the same and mean nothing)."""
    copies = []
    for doc, want in zip(docs, chosen, strict=True):
        copies.append(doc.copy())
        preset(copies[-1], want)
    predicted = list(nlp.pipe(copies))
    moved = sum(len(starts(doc) ^ want) for doc, want in zip(predicted, chosen, strict=True))
    if moved:
        raise SystemExit(f"a component of the pipeline moved {moved} preset sentence starts "
                         f"(a segmenter with overwrite = true?): the rows would not compare")
    return predicted


def relation_keys(doc: Any) -> set[Key]:
    return facts(doc, False)[1]


def record_of(gold_starts: list[int], char: int) -> int:
    """The index of the gold record holding ``char`` (``gold_starts`` sorted, first excluded)."""
    return bisect.bisect_right(gold_starts, char)


def merged_records(gold: set[int], own: set[int]) -> set[int]:
    """The records on either side of each gold start that ``own`` misses."""
    ordered = sorted(gold)
    out: set[int] = set()
    for start in gold - own:
        i = record_of(ordered, start)
        out |= {i - 1, i}
    return out


def tally(pairs: Iterable[tuple[set[Key], set[Key], set[int], set[int]]]) -> dict[str, int]:
    """Counts over (gold relations, predicted relations, gold starts, merged records) per doc."""
    n = dict.fromkeys(("tp", "fp", "fn", "cross", "merged_tp", "merged_fp", "merged_fn"), 0)
    for gold, pred, gold_starts, merged in pairs:
        ordered = sorted(gold_starts)
        n["cross"] += sum(record_of(ordered, k[0][0]) != record_of(ordered, k[2][0])
                          for k in pred)
        for name, keys in (("tp", pred & gold), ("fp", pred - gold), ("fn", gold - pred)):
            n[name] += len(keys)
            n["merged_" + name] += sum(record_of(ordered, k[0][0]) in merged for k in keys)
    return n


def f1(n: dict[str, int]) -> float:
    return 200 * n["tp"] / (2 * n["tp"] + n["fp"] + n["fn"]) if n["tp"] else 0.0


def main() -> None:
    args = arguments(__doc__).parse_args()
    from spacy.training import Example

    from kgx.pipeline.scorer import score_entities

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        names = segmenters(nlp)
        golds = [starts(eg.reference) for eg in examples]
        owns = [own_starts(nlp, names, eg.predicted) for eg in examples]
        merged = [merged_records(g, o) for g, o in zip(golds, owns, strict=True)]
        n_gold = sum(map(len, golds))
        n_missed = sum(len(g - o) for g, o in zip(golds, owns, strict=True))
        n_inner = sum(len(o - g) for g, o in zip(golds, owns, strict=True))
        print(f"{model} on {args.data}, documents of {args.documents} ({len(examples)}): "
              f"segmenters {', '.join(names) or 'none'}; {n_missed} of {n_gold} record "
              f"starts missed, {n_inner} starts inside records")
        print(f"{'segmentation':<34}{'NER F1':>8}{'rel F1':>8}{'tp':>6}{'fp':>6}{'fn':>6}"
              f"{'cross-record':>14}{'merged tp/fp/fn':>18}")
        for label, add_gold in (("its own", False), ("its own + the starts it missed", True)):
            chosen = [own | gold if add_gold else own
                      for gold, own in zip(golds, owns, strict=True)]
            predicted = run_preset(nlp, [eg.predicted for eg in examples], chosen)
            n = tally((relation_keys(eg.reference), relation_keys(doc), gold, m) for eg, doc,
                      gold, m in zip(examples, predicted, golds, merged, strict=True))
            ner = score_entities([Example(d, eg.reference) for d, eg in
                                  zip(predicted, examples, strict=True)])
            print(f"{label:<34}{100 * ner['ents_f']:8.2f}{f1(n):8.2f}{n['tp']:6d}"
                  f"{n['fp']:6d}{n['fn']:6d}{n['cross']:14d}"
                  f"{n['merged_tp']:>8d}/{n['merged_fp']}/{n['merged_fn']}")


if __name__ == "__main__":
    main()
