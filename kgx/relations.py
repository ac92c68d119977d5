"""The relation contract in the ``Doc``: what the pipeline writes on it.

``doc._.kgx_relations`` is a list of plain dicts ``{"head", "tail", "label", "score"}`` where
``head``/``tail`` index ``doc.ents``. Plain dicts survive DocBin, msgpack (``nlp.pipe`` with
``n_process>1``) and JSON, which Span objects do not. The record passed downstream is
:mod:`kgx.records`'s. This module imports nothing of kgx.
"""

from __future__ import annotations

from collections.abc import Iterable
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
