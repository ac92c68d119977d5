"""The relation record: the one unit that batch, graph and distributed pass on (DESIGN.md).

One JSON object a line::

    {"doc_id": "…", "head": {"text": "…", "label": "PER", "start_char": 0, "end_char": 10},
     "relation": "Work_For",
     "tail": {"text": "…", "label": "ORG", "start_char": 25, "end_char": 34}, "score": 0.93,
     "sent_start_char": 0, "sent_end_char": 80, "model": "name@version",
     "sentence": "…"}

This module owns the record: its type (:class:`Record`), its validation
(:func:`validate_record`), how a processed ``Doc`` becomes records (:func:`doc_to_records`),
and the one other shape a record takes, the compact *evidence* item a graph edge keeps
(:func:`to_evidence`, :func:`from_evidence`): a flat dict, because a graph holds millions of them
and saved graphs (node-link JSON, GraphML) and the RDF evidence IRIs are built on its keys.

It imports neither spaCy nor torch (``doc_to_records`` reads the Doc it is given through
:mod:`kgx.relations`, imported when it is called), so reading and checking records is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span


class SpanRecord(TypedDict):
    """An entity mention: its text, type and character offsets in the source document."""

    text: str
    label: str
    start_char: int
    end_char: int


class Record(TypedDict):
    """A relation record (module docstring). ``sentence`` is an addition to DESIGN.md: the
    evidence text between ``sent_start_char`` and ``sent_end_char``."""

    doc_id: str
    head: SpanRecord
    relation: str
    tail: SpanRecord
    score: float
    sent_start_char: NotRequired[int]
    sent_end_char: NotRequired[int]
    model: NotRequired[str]
    sentence: NotRequired[str]


class RecordError(ValueError):
    """A relation record that does not follow the contract (DESIGN.md)."""


# --- validation ------------------------------------------------------------------------------


#: offsets at or above this are not offsets into a real document (and leave the range of
#: integers that JSON tools, GraphML readers and triple stores keep exactly)
MAX_OFFSET = 2**53
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: Any, what: str, *, allow_blank: bool = False) -> str:
    """A string that is text: a lone surrogate (``"\\ud800"`` in JSON) is not."""
    if not isinstance(value, str) or not (allow_blank or value.strip()):
        raise RecordError(f"'{what}' must be a non-empty string")
    if _SURROGATE.search(value):
        raise RecordError(f"'{what}' holds a lone surrogate (not text)")
    return value


def _offset(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"'{what}' must be an integer, got {type(value).__name__}")
    if not 0 <= value < MAX_OFFSET:
        raise RecordError(f"'{what}' must be an offset in [0, 2^53), got {value}")
    return value


def _check_span(rec: dict[str, Any], side: str) -> None:
    span = rec.get(side)
    if not isinstance(span, dict):
        raise RecordError(f"'{side}' must be an object with text, label, start_char, end_char")
    _text(span.get("text"), f"{side}.text")
    _text(span.get("label"), f"{side}.label")
    start = _offset(span.get("start_char"), f"{side}.start_char")
    end = _offset(span.get("end_char"), f"{side}.end_char")
    if end <= start:
        raise RecordError(f"'{side}': end_char {end} must be after start_char {start}")


def validate_record(rec: Any) -> Record:
    """Check one relation record and return it; raise :class:`RecordError` saying what is wrong.

    Strings must be text (no lone surrogates), offsets integers in ``[0, 2^53)`` with each
    span's end after its start, the score a number in ``[0, 1]``."""
    if not isinstance(rec, dict):
        raise RecordError(f"a record must be a JSON object, got {type(rec).__name__}")
    _text(rec.get("doc_id"), "doc_id", allow_blank=True)
    if not rec["doc_id"]:
        raise RecordError("'doc_id' must be a non-empty string")
    _text(rec.get("relation"), "relation")
    _check_span(rec, "head")
    _check_span(rec, "tail")
    score = rec.get("score")
    if (isinstance(score, bool) or not isinstance(score, int | float)
            or not 0.0 <= score <= 1.0):
        raise RecordError(f"'score' must be a number in [0, 1], got {score!r}")
    for key in ("sent_start_char", "sent_end_char"):
        if key in rec:
            _offset(rec[key], key)
    if rec.get("sent_end_char", MAX_OFFSET) < rec.get("sent_start_char", 0):
        raise RecordError("'sent_end_char' must not be before 'sent_start_char'")
    for key in ("model", "sentence"):
        if key in rec and rec[key] is not None:
            _text(rec[key], key, allow_blank=True)
    return rec  # type: ignore[return-value]


# --- records ↔ evidence ----------------------------------------------------------------------

#: The keys of an evidence item, in the order they are written (``sentence`` follows when the
#: record had one). ``head_start`` is the record's ``head.start_char``, ``sent_start`` its
#: ``sent_start_char``, and so on; the entity types and the relation are the edge's.
EVIDENCE_FIELDS = (
    "doc_id", "head_start", "head_end", "tail_start", "tail_end", "sent_start", "sent_end",
    "score", "model", "head_text", "tail_text",
)


def _same(text: str) -> str:
    return text


def to_evidence(rec: Record, intern: Callable[[str], str] = _same) -> dict[str, Any]:
    """The evidence item a graph edge keeps for ``rec`` (a record without sentence bounds gets
    the span of the pair). ``intern`` may share one string object per repeated value."""
    head, tail = rec["head"], rec["tail"]
    hs, he, ts, te = head["start_char"], head["end_char"], tail["start_char"], tail["end_char"]
    ev: dict[str, Any] = {
        "doc_id": intern(rec["doc_id"]),
        "head_start": hs, "head_end": he, "tail_start": ts, "tail_end": te,
        "sent_start": rec.get("sent_start_char", min(hs, ts)),
        "sent_end": rec.get("sent_end_char", max(he, te)),
        "score": float(rec["score"]),
        "model": intern(str(rec.get("model", ""))),
        "head_text": intern(head["text"]), "tail_text": intern(tail["text"]),
    }
    sentence = rec.get("sentence")
    if isinstance(sentence, str):
        ev["sentence"] = sentence
    return ev


def from_evidence(ev: dict[str, Any], relation: str, head_label: str, tail_label: str) -> Record:
    """The record an evidence item of the edge ``(head) -[relation]-> (tail)`` came from."""
    rec: dict[str, Any] = {
        "doc_id": ev["doc_id"],
        "head": {"text": ev["head_text"], "label": head_label,
                 "start_char": ev["head_start"], "end_char": ev["head_end"]},
        "relation": relation,
        "tail": {"text": ev["tail_text"], "label": tail_label,
                 "start_char": ev["tail_start"], "end_char": ev["tail_end"]},
        "score": ev["score"],
        "sent_start_char": ev["sent_start"], "sent_end_char": ev["sent_end"],
        "model": ev["model"],
    }
    if "sentence" in ev:
        rec["sentence"] = ev["sentence"]
    return rec  # type: ignore[return-value]


# --- a processed Doc → records ---------------------------------------------------------------


def _span_record(span: Span, char_offset: int) -> SpanRecord:
    return {
        "text": span.text,
        "label": span.label_,
        "start_char": span.start_char + char_offset,
        "end_char": span.end_char + char_offset,
    }


def _sentence_bounds(head: Span, tail: Span, has_sents: bool, text: str) -> tuple[int, int]:
    """Characters of the sentence(s) holding both spans, without the whitespace at their edges
    (a paragraph's blank line belongs to a sentence's tokens, not to its text); the pair's
    span when unsegmented."""
    first, last = (head, tail) if head.start <= tail.start else (tail, head)
    if not has_sents:
        return first.start_char, max(head.end_char, tail.end_char)
    start, end = first.sent.start_char, last.sent.end_char
    while start < first.start_char and text[start].isspace():
        start += 1
    while end > last.end_char and text[end - 1].isspace():
        end -= 1
    return start, end


def doc_to_records(
    doc: Doc, doc_id: str, model: str = "", char_offset: int = 0
) -> Iterator[Record]:
    """The relation records of one processed document (``doc._.kgx_relations``).

    ``char_offset`` shifts every offset, for documents that were processed in pieces and
    whose records must point into the original text.
    """
    from kgx.relations import get_relations

    # both are O(len(doc)): computed once, not once per relation
    has_sents = doc.has_annotation("SENT_START")
    text = doc.text
    for rel in get_relations(doc):
        sent_start, sent_end = _sentence_bounds(rel.head, rel.tail, has_sents, text)
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
    """``lang_name@version`` of a pipeline, as records cite it."""
    meta = getattr(nlp, "meta", {}) or {}
    lang = meta.get("lang", "xx")
    return f"{lang}_{meta.get('name', 'pipeline')}@{meta.get('version', '0.0.0')}"
