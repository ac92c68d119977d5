"""End-to-end evaluation: NER and relation scores, and what the relation errors are.

The confusion summary classifies every strict error, because "F1 went down" says little:
a missed entity, a wrong entity type, a pair that was found with the wrong label or the wrong
direction, a spurious relation between correct entities, and a relation the classifier did not
propose although both entities were right, each call for a different fix. With
``gold_entities`` the relation component reads the gold entities instead of the recogniser's:
the gap to the end-to-end score is what entity errors cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, cast

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example

from kgx.pipeline.scorer import score_entities, score_relations
from kgx.pipeline.thresholds import find_component, run_until
from kgx.relations import raw_relations


def _ent_keys(doc: Any) -> dict[tuple[int, int], str]:
    return {(e.start_char, e.end_char): e.label_ for e in doc.ents}


def _rel_map(doc: Any) -> dict[tuple[tuple[int, int], tuple[int, int]], set[str]]:
    ents = doc.ents
    out: dict[tuple[tuple[int, int], tuple[int, int]], set[str]] = {}
    for rel in raw_relations(doc):
        h, t = ents[rel["head"]], ents[rel["tail"]]
        key = ((h.start_char, h.end_char), (t.start_char, t.end_char))
        out.setdefault(key, set()).add(rel["label"])
    return out


def relation_errors(examples: Iterable[Example]) -> dict[str, Counter]:
    """Error categories and the most frequent (gold label -> predicted label) confusions."""
    kinds: Counter = Counter()
    confusions: Counter = Counter()
    for eg in examples:
        pred_ents, gold_ents = _ent_keys(eg.predicted), _ent_keys(eg.reference)
        pred, gold = _rel_map(eg.predicted), _rel_map(eg.reference)
        for pair, labels in gold.items():
            found = pred.get(pair, set())
            reverse = pred.get((pair[1], pair[0]), set())
            for label in labels:
                typed = all(pred_ents.get(s) == gold_ents.get(s) for s in pair)
                if label in found and typed:
                    continue
                if any(s not in pred_ents for s in pair):
                    kinds["missed: entity not found"] += 1
                    confusions[(label, "(entity missed)")] += 1
                elif not typed:
                    kinds["missed: entity type wrong"] += 1
                    confusions[(label, "(type wrong)")] += 1
                elif label in reverse:
                    kinds["wrong direction"] += 1
                    confusions[(label, f"{label} (reversed)")] += 1
                elif found:
                    kinds["wrong label"] += 1
                    for other in sorted(found - labels):
                        confusions[(label, other)] += 1
                else:
                    kinds["missed: not proposed"] += 1
                    confusions[(label, "(none)")] += 1
        for pair, labels in pred.items():
            for label in labels - gold.get(pair, set()):
                if pair in gold or (pair[1], pair[0]) in gold:
                    continue  # counted above as wrong label / direction
                if all(s in gold_ents for s in pair):
                    kinds["spurious: entities right"] += 1
                else:
                    kinds["spurious: entity wrong"] += 1
                confusions[("(none)", label)] += 1
    return {"kinds": kinds, "confusions": confusions}


def evaluate(nlp: Language, examples: Iterable[Example], batch_size: int = 64,
             gold_entities: bool = False) -> dict[str, Any]:
    """Run ``nlp`` over the examples' texts and score NER and relations end to end."""
    examples = list(examples)
    docs: Iterable[Doc]
    if gold_entities:
        docs = _relations_on_gold_entities(nlp, examples, batch_size)
    else:
        docs = nlp.pipe((eg.predicted.copy() for eg in examples), batch_size=batch_size)
    scored = [Example(doc, eg.reference) for doc, eg in zip(docs, examples, strict=True)]
    result: dict[str, Any] = {"n_docs": len(scored), "gold_entities": gold_entities}
    result.update(score_entities(scored))
    result.update(score_relations(scored))
    errors = relation_errors(scored)
    result["relation_errors"] = dict(errors["kinds"].most_common())
    result["relation_confusions"] = [
        {"gold": g, "predicted": p, "count": n}
        for (g, p), n in errors["confusions"].most_common(10)
    ]
    return result


def evaluate_data(nlp: Language, examples: Callable[[bool, int], list[Example]], *,
                  gold_tokens: bool = False, documents: int = 1, layout: str = "space",
                  compare: bool = False, gold_entities: bool = False
                  ) -> dict[str, dict[str, Any]]:
    """What ``kgx evaluate`` scores: the data read one way (``""``), or with ``compare`` three
    ways side by side (corpus-token sentences, raw sentences, raw documents of ``documents``,
    default 5). ``examples(gold_tokens, documents)`` reads the gold data that way; each result
    says in ``input`` how it was read."""
    if compare:
        k = documents if documents > 1 else 5
        settings = {"sentences_gold_tokens": (True, 1), "sentences_raw": (False, 1),
                    f"documents_raw_{k}" + (f"_{layout}" if layout != "space" else ""):
                    (False, k)}
    else:
        settings = {"": (gold_tokens, documents)}
    results = {}
    for name, (tokens, size) in settings.items():
        result = evaluate(nlp, examples(tokens, size), gold_entities=gold_entities)
        result["input"] = {"gold_tokens": tokens, "documents_of": size,
                           "layout": layout if size > 1 else None}
        results[name] = result
    return results


def _relations_on_gold_entities(nlp: Language, examples: list[Example],
                                batch_size: int) -> list[Doc]:
    """The pipeline up to the relation component, then the gold entities, then relations."""
    name = find_component(nlp)
    docs = run_until(nlp, name, [eg.predicted.copy() for eg in examples], batch_size)
    for doc, eg in zip(docs, examples, strict=True):
        spans = [doc.char_span(e.start_char, e.end_char, label=e.label_)
                 for e in eg.reference.ents]
        if any(span is None for span in spans):
            raise ValueError(
                f"a gold entity does not fall on token boundaries in {doc.text[:60]!r}; "
                "evaluate pre-tokenised data with gold tokens"
            )
        doc.ents = cast(list[Span], spans)
    rel: Any = nlp.get_pipe(name)
    return list(rel.pipe(docs, batch_size=batch_size))


def format_report(result: dict[str, Any]) -> str:
    """The evaluation as plain-text tables."""
    ner = "NER (gold entities given)" if result.get("gold_entities") else "NER"
    source = result.get("input") or {}
    how = ""
    if source:
        how = (" (" + ("the corpus's tokens" if source.get("gold_tokens") else "raw text")
               + (f", {source['documents_of']} records joined into each" if
                  source.get("documents_of", 1) > 1 else "")
               + (f", laid out as {source['layout']}" if
                  source.get("layout") not in (None, "space") else "") + ")")
    lines = [f"documents: {result['n_docs']}{how}", "",
             f"{ner:<28}{'P':>8}{'R':>8}{'F':>8}",
             f"{'  all (micro)':<28}{100 * result['ents_p']:8.2f}"
             f"{100 * result['ents_r']:8.2f}{100 * result['ents_f']:8.2f}"]
    for label, s in sorted((result.get("ents_per_type") or {}).items()):
        lines.append(f"  {label:<26}{100 * s['p']:8.2f}{100 * s['r']:8.2f}{100 * s['f']:8.2f}")
    for mode in ("strict", "boundaries"):
        lines += ["", f"{'relations, ' + mode:<28}{'P':>8}{'R':>8}{'F':>8}"]
        for avg in ("micro", "macro"):
            lines.append(
                f"  {avg:<26}" + "".join(
                    f"{100 * result[f'rel_{mode}_{avg}_{k}']:8.2f}" for k in "prf")
            )
        for label, s in sorted(result[f"rel_{mode}_per_type"].items()):
            lines.append(f"  {label:<26}{100 * s['p']:8.2f}{100 * s['r']:8.2f}{100 * s['f']:8.2f}")
    if result["relation_errors"]:
        lines += ["", "relation errors (strict)"]
        lines += [f"  {kind:<34}{n:>6}" for kind, n in result["relation_errors"].items()]
        lines += ["", "most frequent confusions (gold -> predicted)"]
        lines += [f"  {c['gold']:<22} -> {c['predicted']:<24}{c['count']:>6}"
                  for c in result["relation_confusions"]]
    return "\n".join(lines)


def format_comparison(results: dict[str, dict[str, Any]]) -> str:
    """One row per way of feeding the data (gold tokens, raw sentences, raw documents)."""
    head = f"{'input':<26}{'docs':>6}{'NER P':>8}{'R':>7}{'F':>7}{'rel P':>8}{'R':>7}{'F':>7}"
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        lines.append(
            f"{name:<26}{r['n_docs']:>6}{100 * r['ents_p']:8.2f}{100 * r['ents_r']:7.2f}"
            f"{100 * r['ents_f']:7.2f}{100 * r['rel_strict_micro_p']:8.2f}"
            f"{100 * r['rel_strict_micro_r']:7.2f}{100 * r['rel_strict_micro_f']:7.2f}")
    lines.append("(relations: strict micro; entities and relations matched by character offsets)")
    return "\n".join(lines)
