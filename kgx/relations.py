"""The relation contract: what the pipeline writes on a ``Doc`` and the record passed downstream.

``doc._.kgx_relations`` is a list of plain dicts ``{"head", "tail", "label", "score"}`` where
``head``/``tail`` index ``doc.ents``. Plain dicts survive DocBin, msgpack (``nlp.pipe`` with
``n_process>1``) and JSON, which Span objects do not. This module imports nothing of kgx.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from spacy.tokens import Doc, Span

EXTENSION = "kgx_relations"

if not Doc.has_extension(EXTENSION):
    Doc.set_extension(EXTENSION, default=None)


@dataclass(frozen=True)
class Relation:
    """A relation between two entity spans of one document."""

    head: Span
    tail: Span
    label: str
    score: float


def raw_relations(doc: Doc) -> list[dict[str, Any]]:
    """The relation dicts on ``doc`` (an empty list when none were assigned)."""
    value = doc._.get(EXTENSION)
    return list(value) if value else []


def set_relations(doc: Doc, relations: Iterable[dict[str, Any]]) -> None:
    """Validate and store relation dicts, so a bad index fails here and not downstream."""
    n_ents = len(doc.ents)
    clean: list[dict[str, Any]] = []
    for rel in relations:
        head, tail = int(rel["head"]), int(rel["tail"])
        if not (0 <= head < n_ents and 0 <= tail < n_ents):
            raise ValueError(
                f"relation {rel!r} points outside doc.ents (the doc has {n_ents} entities)"
            )
        clean.append(
            {"head": head, "tail": tail, "label": str(rel["label"]),
             "score": float(rel.get("score", 1.0))}
        )
    doc._.set(EXTENSION, clean)


def get_relations(doc: Doc) -> list[Relation]:
    """``doc._.kgx_relations`` as :class:`Relation` objects holding the entity spans."""
    ents = doc.ents
    return [
        Relation(ents[r["head"]], ents[r["tail"]], r["label"], float(r["score"]))
        for r in raw_relations(doc)
    ]


def _span_record(span: Span, char_offset: int) -> dict[str, Any]:
    return {
        "text": span.text,
        "label": span.label_,
        "start_char": span.start_char + char_offset,
        "end_char": span.end_char + char_offset,
    }


def _sentence_bounds(head: Span, tail: Span, has_sents: bool) -> tuple[int, int]:
    """Characters of the sentence(s) holding both spans; the pair's span when unsegmented."""
    first, last = (head, tail) if head.start <= tail.start else (tail, head)
    if has_sents:
        return first.sent.start_char, last.sent.end_char
    return first.start_char, max(head.end_char, tail.end_char)


def doc_to_records(
    doc: Doc, doc_id: str, model: str = "", char_offset: int = 0
) -> Iterator[dict[str, Any]]:
    """Relation records (DESIGN.md) for one document.

    ``char_offset`` shifts every offset, for documents that were processed in pieces and
    whose records must point into the original text. ``sentence`` (the evidence text) is an
    addition to the DESIGN.md record: graph views and RDF provenance show it.
    """
    # both are O(len(doc)): computed once, not once per relation
    has_sents = doc.has_annotation("SENT_START")
    text = doc.text
    for rel in get_relations(doc):
        sent_start, sent_end = _sentence_bounds(rel.head, rel.tail, has_sents)
        yield {
            "doc_id": doc_id,
            "head": _span_record(rel.head, char_offset),
            "relation": rel.label,
            "tail": _span_record(rel.tail, char_offset),
            "score": round(rel.score, 6),
            "sent_start_char": sent_start + char_offset,
            "sent_end_char": sent_end + char_offset,
            "model": model,
            "sentence": text[sent_start:sent_end],
        }


def model_name(nlp: Any) -> str:
    """``name@version`` of a pipeline, as records cite it."""
    meta = getattr(nlp, "meta", {}) or {}
    lang = meta.get("lang", "xx")
    return f"{lang}_{meta.get('name', 'pipeline')}@{meta.get('version', '0.0.0')}"
