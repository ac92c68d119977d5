"""Entity and relation scores, end to end: predictions against gold by character offsets.

Relations are compared as character-offset tuples, so the score is independent of the
tokenisation and of which entities the pipeline found: a gold relation whose entities were
missed, or that was never proposed, is a false negative (the spaCy tutorial component
iterated over predicted pairs only and so overstated recall). Two modes:

- *strict*: head span and type, tail span and type, and the label all right;
- *boundaries*: head and tail spans and the label right, entity types ignored.

Micro scores pool all labels; macro scores average the per-label F1 (and P, R) over the
labels that occur in gold or in predictions.

Entities are compared the same way, (start char, end char, label). spaCy's span scorer maps
the predicted spans onto the reference tokens and leaves out a span that does not fall on their
boundaries; on raw text (the pipeline's tokens, not the corpus's) that is a wrong entity
("Texas" where the gold token is "Texas.") counted neither right nor wrong, so its precision
was higher than the relations', which count it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from kgx.relations import raw_relations

MODES = ("strict", "boundaries")


def relation_keys(doc: Doc, mode: str) -> set[tuple[Any, ...]]:
    """The relations of ``doc`` as comparable tuples for a scoring mode."""
    ents = doc.ents
    keys: set[tuple[Any, ...]] = set()
    for rel in raw_relations(doc):
        head, tail = ents[rel["head"]], ents[rel["tail"]]
        if mode == "strict":
            keys.add(((head.start_char, head.end_char, head.label_),
                      (tail.start_char, tail.end_char, tail.label_), rel["label"]))
        elif mode == "boundaries":
            keys.add(((head.start_char, head.end_char),
                      (tail.start_char, tail.end_char), rel["label"]))
        else:
            raise ValueError(f"unknown scoring mode {mode!r}; use one of {MODES}")
    return keys


def score_entities(examples: Iterable[Example], **_: Any) -> dict[str, Any]:
    """``ents_p``, ``ents_r``, ``ents_f`` and ``ents_per_type``, as spaCy's NER scorer names
    them, every predicted and gold entity counted by its character offsets and label. As in
    spaCy's, a reference without entity annotation (not even "no entity") is left out."""
    def keys(doc: Doc) -> set[tuple[int, int, str]]:
        return {(e.start_char, e.end_char, e.label_) for e in doc.ents}

    counts = _count((keys(eg.predicted), keys(eg.reference)) for eg in examples
                    if eg.reference.has_annotation("ENT_IOB"))
    total: Counter[str] = Counter()
    for c in counts.values():
        total.update(c)
    micro = _prf(total["tp"], total["fp"], total["fn"])
    return {"ents_p": micro["p"], "ents_r": micro["r"], "ents_f": micro["f"],
            "ents_per_type": {label: _prf(c["tp"], c["fp"], c["fn"])
                              for label, c in sorted(counts.items())}}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f": f}


def count_relations(examples: Iterable[Example], mode: str) -> dict[str, Counter]:
    """Per-label true positive, false positive and false negative counts."""
    return _count((relation_keys(eg.predicted, mode), relation_keys(eg.reference, mode))
                  for eg in examples)


def _count(pairs: Iterable[tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]]
           ) -> dict[str, Counter]:
    """Per-label tp/fp/fn over (predicted, gold) sets of keys whose third item is the label."""
    counts: dict[str, Counter] = {}
    for pred, gold in pairs:
        for key in pred | gold:
            c = counts.setdefault(key[2], Counter())
            c["tp" if key in pred and key in gold else "fp" if key in pred else "fn"] += 1
    return counts


def score_relations(examples: Iterable[Example], **_: Any) -> dict[str, Any]:
    """``rel_{mode}_{micro|macro}_{p|r|f}`` and ``rel_{mode}_per_type`` for both modes."""
    examples = list(examples)
    scores: dict[str, Any] = {}
    for mode in MODES:
        counts = count_relations(examples, mode)
        total: Counter[str] = Counter()
        per_type: dict[str, dict[str, float]] = {}
        for label, c in sorted(counts.items()):
            total.update(c)
            per_type[label] = _prf(c["tp"], c["fp"], c["fn"])
        micro = _prf(total["tp"], total["fp"], total["fn"])
        for k in ("p", "r", "f"):
            scores[f"rel_{mode}_micro_{k}"] = micro[k]
            scores[f"rel_{mode}_macro_{k}"] = (
                sum(s[k] for s in per_type.values()) / len(per_type) if per_type else 0.0
            )
        scores[f"rel_{mode}_per_type"] = per_type
    return scores


@registry.scorers("kgx.rel_scorer.v1")
def make_rel_scorer() -> Callable[..., dict[str, Any]]:
    """Relation P/R/F, strict and boundaries, micro and macro, per label, every gold relation
    counted (takes no arguments)."""
    return score_relations


@registry.scorers("kgx.ner_scorer.v1")
def make_ner_scorer() -> Callable[..., dict[str, Any]]:
    """Entity P/R/F by character offsets and label, micro and per label, every predicted and
    gold entity counted (spaCy's ``ner_scorer`` leaves out a predicted span off the
    reference's tokens, so on raw text it overstated precision)."""
    return score_entities
