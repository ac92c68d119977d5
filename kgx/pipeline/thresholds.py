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
    for prob, nxt in zip(distinct, [*distinct[1:], 0.0][:len(distinct)], strict=True):
        t = round(min(max((prob + nxt) / 2, floor), ceiling), 4)
        f = f1_at(_as_saved(t))
        if f > best_f:
            best_f, best_t = f, t
    return best_t, best_f


Scored = dict[str, list[tuple[float, bool]]]


def candidate_scores(
    nlp: Language, examples: list[Example], component: str | None = None, batch_size: int = 64,
) -> tuple[list[Scored], list[dict[str, int]]]:
    """For each example, every candidate pair's ``(probability, correct)`` per label and the
    number of gold relations per label: all that tuning and cross-validating thresholds read,
    from one pass of the pipeline."""
    name = find_component(nlp, component)
    rel: Any = nlp.get_pipe(name)
    docs = run_until(nlp, name, [eg.predicted.copy() for eg in examples], batch_size)
    scored: list[Scored] = []
    n_gold: list[dict[str, int]] = []
    for start in range(0, len(docs), batch_size):
        batch = docs[start:start + batch_size]
        cands, probs = rel.predict(batch)
        offset = 0
        for doc, eg, cand in zip(batch, examples[start:start + batch_size], cands, strict=True):
            gold = relation_keys(eg.reference, "strict")
            counts = dict.fromkeys(rel.labels, 0)
            for key in gold:
                if key[2] in counts:
                    counts[key[2]] += 1
            mine: Scored = {label: [] for label in rel.labels}
            ents = doc.ents
            for r, (h, t) in enumerate(cand.pairs.tolist()):
                head, tail = ents[h], ents[t]
                for c, label in enumerate(rel.labels):
                    key = ((head.start_char, head.end_char, head.label_),
                           (tail.start_char, tail.end_char, tail.label_), label)
                    mine[label].append((float(probs[offset + r, c]), key in gold))
            offset += len(cand)
            scored.append(mine)
            n_gold.append(counts)
    return scored, n_gold


def _pooled(scored: list[Scored], n_gold: list[dict[str, int]], label: str
            ) -> tuple[list[tuple[float, bool]], int]:
    return ([x for s in scored for x in s[label]], sum(g[label] for g in n_gold))


def tune_thresholds(
    nlp: Language, examples: Iterable[Example], component: str | None = None,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Tune and set per-label thresholds; returns ``{label: {"threshold", "f", "gold",
    "kept"}}`` (``kept``: no gold relation of the label in dev, its threshold unchanged and
    ``f`` None)."""
    name = find_component(nlp, component)
    scored, n_gold = candidate_scores(nlp, list(examples), name, batch_size)
    return set_tuned_thresholds(nlp.get_pipe(name), scored, n_gold)


def set_tuned_thresholds(rel: Any, scored: list[Scored], n_gold: list[dict[str, int]]
                         ) -> dict[str, Any]:
    """Tune each label's threshold on ``candidate_scores``' output and set them on ``rel``."""
    report: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    tuned_before = rel.cfg.get("thresholds") or {}
    current = rel.thresholds
    for label in rel.labels:
        pooled, gold = _pooled(scored, n_gold, label)
        if gold == 0:
            # nothing to tune on: keep what the label had (tuned before, or the global one)
            if label in tuned_before:
                thresholds[label] = float(tuned_before[label])
            report[label] = {"threshold": current[label], "f": None, "gold": 0, "kept": True}
            log.warning("threshold %s kept at %.3f: no gold relation of it in the dev data",
                        label, current[label])
            continue
        t, f = best_threshold(pooled, gold)
        thresholds[label] = t
        report[label] = {"threshold": t, "f": f, "gold": gold, "kept": False}
        log.info("threshold %s = %.4f (dev strict F1 %.3f, %d gold)", label, t, f, gold)
    rel.set_thresholds(thresholds)
    return report


def _micro_f1(scored: list[Scored], n_gold: list[dict[str, int]],
              thresholds: dict[str, float]) -> tuple[int, int, int]:
    """(true positives, predicted, gold) over all labels at these thresholds."""
    tp = pred = gold = 0
    for label, t in thresholds.items():
        t = _as_saved(t)
        pooled, g = _pooled(scored, n_gold, label)
        pred += sum(p >= t for p, _ in pooled)
        tp += sum(p >= t and c for p, c in pooled)
        gold += g
    return tp, pred, gold


def _f1(tp: int, pred: int, gold: int) -> float:
    return 2 * tp / (pred + gold) if pred + gold else 0.0


def thresholds_f1(scored: list[Scored], n_gold: list[dict[str, int]],
                  thresholds: dict[str, float]) -> float:
    """The relations' strict micro F1 that these per-label thresholds give on
    ``candidate_scores``' output (what the evaluation reports for the same pipeline)."""
    return _f1(*_micro_f1(scored, n_gold, thresholds))


def _fitted(scored: list[Scored], n_gold: list[dict[str, int]], current: dict[str, float]
            ) -> dict[str, float]:
    """Each label's best threshold on these examples; a label without gold keeps its own."""
    fitted = {}
    for label, t in current.items():
        pooled, gold = _pooled(scored, n_gold, label)
        fitted[label] = best_threshold(pooled, gold)[0] if gold else t
    return fitted


def cross_validate_thresholds(
    scored: list[Scored], n_gold: list[dict[str, int]], current: dict[str, float],
    folds: int = 5, seed: int = 0,
) -> dict[str, float]:
    """Whether tuning thresholds on this data would pay on unseen data: the examples are split
    into ``folds`` at random, thresholds tuned on all folds but one score the one left out, and
    the left-out scores are pooled (micro F1 over labels). Returns that ``"cross_validated"``
    F1 next to the ``"current"`` thresholds' F1 and the ``"in_sample"`` F1 of thresholds tuned
    and scored on all the data (what ``tune-thresholds`` reports, optimistic by construction)."""
    if len(scored) != len(n_gold):
        raise ValueError(f"{len(scored)} examples scored but {len(n_gold)} gold counts")
    if folds < 2 or folds > len(scored):
        raise ValueError(f"folds must be between 2 and the number of examples ({len(scored)}),"
                         f" not {folds}")
    order = numpy.random.default_rng(seed).permutation(len(scored))
    parts = numpy.array_split(order, folds)
    totals = numpy.zeros(3, dtype="int64")
    for k, held_out in enumerate(parts):
        train = numpy.concatenate([p for j, p in enumerate(parts) if j != k])
        tuned = _fitted([scored[i] for i in train], [n_gold[i] for i in train], current)
        totals += _micro_f1([scored[i] for i in held_out], [n_gold[i] for i in held_out],
                            tuned)
    in_sample = _fitted(scored, n_gold, current)
    return {"current": thresholds_f1(scored, n_gold, current),
            "cross_validated": _f1(*(int(x) for x in totals)),
            "in_sample": thresholds_f1(scored, n_gold, in_sample),
            "folds": folds}


def format_tuning(report: dict[str, Any], cv: dict[str, float] | None = None) -> str:
    """``tune-thresholds``' table: each label's threshold and dev F1, then the cross-validation
    estimate when there is one."""
    lines = []
    for label, r in report.items():
        score = ("kept: no gold relation in the dev data" if r["kept"]
                 else f"dev strict F1 {100 * r['f']:6.2f}   ({r['gold']} gold)")
        lines.append(f"{label:<24} threshold {r['threshold']:.4f}   {score}")
    if cv is not None:
        lines.append(f"relation micro F1: thresholds before {100 * cv['current']:.2f}, tuned and"
                     f" scored on all {100 * cv['in_sample']:.2f}, {cv['folds']}-fold "
                     f"cross-validated {100 * cv['cross_validated']:.2f}")
    return "\n".join(lines)
