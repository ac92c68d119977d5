"""Per-label decision thresholds tuned on a dev set, end to end (on predicted entities).

For each label the candidate pairs are sorted by probability and the threshold that maximises
that label's strict F1 is chosen, with every gold relation in the denominator of recall (gold
relations whose entities were missed can never be recovered by a threshold, but they still
count). The threshold is placed halfway between the last accepted and the first rejected
probability, so that it generalises rather than sitting on a training point; it is chosen among
thresholds inside [0.05, 0.95], rounded as saved, and the F1 reported is the one the saved
threshold gives on dev. A label with no gold relation in dev keeps its threshold: there is
nothing to tune it on (it used to be switched off at 0.95).
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

import numpy
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


def _as_saved(threshold: float) -> float:
    """The threshold as the component will compare it: rounded to 4 places, float32."""
    return float(numpy.float32(round(threshold, 4)))


def best_threshold(scored: list[tuple[float, bool]], n_gold: int,
                   floor: float = 0.05, ceiling: float = 0.95) -> tuple[float, float]:
    """(threshold, F1) maximising F1 over ``(probability, correct)`` candidates, the threshold
    inside ``[floor, ceiling]`` and the F1 exactly the one that threshold gives (a candidate is
    accepted when its probability is at least the threshold, as the component decides)."""
    probs = sorted(p for p, _ in scored)
    right = sorted(p for p, c in scored if c)

    def f1_at(t: float) -> float:
        accepted = len(probs) - bisect_left(probs, t)
        tp = len(right) - bisect_left(right, t)
        p = tp / accepted if accepted else 0.0
        r = tp / n_gold if n_gold else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    distinct = sorted(set(probs), reverse=True)
    best_t = round(ceiling, 4)
    best_f = f1_at(_as_saved(best_t))
    for prob, nxt in zip(distinct, [*distinct[1:], 0.0], strict=True):
        t = round(min(max((prob + nxt) / 2, floor), ceiling), 4)
        f = f1_at(_as_saved(t))
        if f > best_f:
            best_f, best_t = f, t
    return best_t, best_f


def tune_thresholds(
    nlp: Language, examples: Iterable[Example], component: str | None = None,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Tune and set per-label thresholds; returns ``{label: {"threshold", "f", "gold",
    "kept"}}`` (``kept``: no gold relation of the label in dev, its threshold unchanged and
    ``f`` None)."""
    name = find_component(nlp, component)
    rel: Any = nlp.get_pipe(name)
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
    thresholds: dict[str, float] = {}
    tuned_before = rel.cfg.get("thresholds") or {}
    current = rel.thresholds
    for label in rel.labels:
        if n_gold[label] == 0:
            # nothing to tune on: keep what the label had (tuned before, or the global one)
            if label in tuned_before:
                thresholds[label] = float(tuned_before[label])
            report[label] = {"threshold": current[label], "f": None, "gold": 0, "kept": True}
            log.warning("threshold %s kept at %.3f: no gold relation of it in the dev data",
                        label, current[label])
            continue
        t, f = best_threshold(scored[label], n_gold[label])
        thresholds[label] = t
        report[label] = {"threshold": t, "f": f, "gold": n_gold[label], "kept": False}
        log.info("threshold %s = %.4f (dev strict F1 %.3f, %d gold)", label, t, f, n_gold[label])
    rel.set_thresholds(thresholds)
    return report
