"""Per-label decision thresholds tuned on a dev set, end to end (on predicted entities).

For each label the candidate pairs are sorted by probability and the threshold that maximises
that label's strict F1 is chosen, with every gold relation in the denominator of recall (gold
relations whose entities were missed can never be recovered by a threshold, but they still
count). The threshold is placed halfway between the last accepted and the first rejected
probability, so that it generalises rather than sitting on a training point.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from kgx.pipeline.scorer import relation_keys

log = logging.getLogger("kgx")

FACTORY = "kgx_relation_extractor"


def find_component(nlp: Language, name: str | None = None) -> str:
    """The name of the relation component in ``nlp`` (the only one, or ``name``)."""
    if name is not None:
        if name not in nlp.pipe_names:
            raise ValueError(f"the pipeline has no component {name!r}: {nlp.pipe_names}")
        return name
    found = [n for n in nlp.pipe_names if nlp.get_pipe_meta(n).factory == FACTORY]
    if len(found) != 1:
        raise ValueError(
            f"expected one {FACTORY} component in the pipeline, found {found or 'none'}"
        )
    return found[0]


def run_until(nlp: Language, name: str, docs: list[Doc], batch_size: int = 64) -> list[Doc]:
    """The docs through every component before ``name`` (what the relation component reads)."""
    for pipe_name, proc in nlp.pipeline:
        if pipe_name == name:
            break
        docs = list(proc.pipe(docs, batch_size=batch_size)) if hasattr(proc, "pipe") else [
            proc(d) for d in docs]
    return docs


def best_threshold(scored: list[tuple[float, bool]], n_gold: int,
                   floor: float = 0.05, ceiling: float = 0.95) -> tuple[float, float]:
    """(threshold, F1) maximising F1 over ``(probability, correct)`` candidates."""
    scored = sorted(scored, key=lambda s: -s[0])
    best_f, best_t = 0.0, ceiling
    tp = fp = 0
    for k, (prob, correct) in enumerate(scored):
        tp += int(correct)
        fp += int(not correct)
        nxt = scored[k + 1][0] if k + 1 < len(scored) else 0.0
        if nxt == prob:
            continue  # a threshold cannot separate equal probabilities
        p = tp / (tp + fp)
        r = tp / n_gold if n_gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        if f > best_f:
            best_f, best_t = f, (prob + nxt) / 2
    return min(max(best_t, floor), ceiling), best_f


def tune_thresholds(
    nlp: Language, examples: Iterable[Example], component: str | None = None,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Tune and set per-label thresholds; returns ``{label: {"threshold", "f"}}``."""
    name = find_component(nlp, component)
    rel = nlp.get_pipe(name)
    examples = list(examples)
    docs = run_until(nlp, name, [eg.predicted.copy() for eg in examples], batch_size)
    scored: dict[str, list[tuple[float, bool]]] = {label: [] for label in rel.labels}
    n_gold: dict[str, int] = dict.fromkeys(rel.labels, 0)
    for start in range(0, len(docs), batch_size):
        batch = docs[start:start + batch_size]
        cands, probs = rel.predict(batch)
        offset = 0
        for doc, eg, cand in zip(batch, examples[start:start + batch_size], cands, strict=True):
            gold = relation_keys(eg.reference, "strict")
            for key in gold:
                if key[2] in n_gold:
                    n_gold[key[2]] += 1
            ents = doc.ents
            for r, (h, t) in enumerate(cand.pairs.tolist()):
                head, tail = ents[h], ents[t]
                for c, label in enumerate(rel.labels):
                    key = ((head.start_char, head.end_char, head.label_),
                           (tail.start_char, tail.end_char, tail.label_), label)
                    scored[label].append((float(probs[offset + r, c]), key in gold))
            offset += len(cand)
    report: dict[str, Any] = {}
    thresholds = {}
    for label in rel.labels:
        t, f = best_threshold(scored[label], n_gold[label])
        thresholds[label] = round(t, 4)
        report[label] = {"threshold": thresholds[label], "f": f, "gold": n_gold[label]}
        log.info("threshold %s = %.3f (dev strict F1 %.3f, %d gold)", label, t, f, n_gold[label])
    rel.set_thresholds(thresholds)
    return report
