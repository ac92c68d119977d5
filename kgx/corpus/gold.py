"""What every format's reader shares: the error that names the file and record, the
conversion summary, the checks of a record and the gold ``Doc`` built from it."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spacy.tokens import Doc, Span

from kgx.relations import set_relations

log = logging.getLogger("kgx")


class CorpusError(ValueError):
    """A malformed record, located by file and line (or item index)."""

    def __init__(self, path: Path | str, where: str, message: str) -> None:
        super().__init__(f"{path}:{where}: {message}")
        self.path, self.where, self.message = str(path), where, message


@dataclass
class ConvertStats:
    docs: int = 0
    entities: int = 0
    relations: int = 0
    skipped: list[str] = field(default_factory=list)
    dropped_entities: int = 0
    dropped_relations: int = 0
    blank_entities: int = 0  # entities covering no text but whitespace, dropped
    blank_relations: int = 0  # the relations of those, dropped with them
    rejected: int = 0  # prodigy answers other than accept

    def summary(self) -> str:
        parts = [f"{self.docs} docs", f"{self.entities} entities", f"{self.relations} relations"]
        if self.dropped_entities:
            parts.append(f"{self.dropped_entities} nested/overlapping entities dropped "
                         f"(with {self.dropped_relations} relations)")
        if self.blank_entities:
            parts.append(f"{self.blank_entities} entities without text dropped "
                         f"(with {self.blank_relations} relations)")
        if self.rejected:
            parts.append(f"{self.rejected} records not accepted (answer != accept)")
        if self.skipped:
            parts.append(f"{len(self.skipped)} malformed records skipped")
        return ", ".join(parts)


def _require(cond: Any, path: Path, where: str, message: str) -> None:
    if not cond:
        raise CorpusError(path, where, message)


def _has_surrogate(obj: Any) -> bool:
    """Whether parsed JSON holds a lone surrogate (``"\\ud800"``): not text, no DocBin holds it."""
    return any("\ud800" <= ch <= "\udfff" for ch in json.dumps(obj, ensure_ascii=False))


_SURROGATE_MESSAGE = "the record holds a lone surrogate (a \\ud800-\\udfff escape, not text)"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _relation_triples(rels: list[Any], n_ents: int, label_key: str, path: Path,
                      where: str) -> list[tuple[int, int, str]]:
    """Validated ``(head, tail, label)`` of relations whose head/tail index the entities."""
    triples = []
    for k, rel in enumerate(rels):
        ok = (isinstance(rel, dict) and _is_int(rel.get("head")) and _is_int(rel.get("tail"))
              and isinstance(rel.get(label_key), str))
        _require(ok, path, where,
                 f"relation {k} needs integer 'head'/'tail' and a string '{label_key}'")
        _require(0 <= rel["head"] < n_ents and 0 <= rel["tail"] < n_ents, path, where,
                 f"relation {k} points outside the {n_ents} entities")
        triples.append((rel["head"], rel["tail"], rel[label_key]))
    return triples


def _finish_doc(doc: Doc, spans: list[Span], rels: list[tuple[int, int, str]],
                path: Path, where: str, stats: ConvertStats | None = None) -> Doc:
    """Set entities and relations; ``rels`` index ``spans`` (the record's order).

    An entity that covers no text but whitespace (``doc.ents`` cannot hold it) is dropped with
    every relation that names it, counted and logged; the other relations keep pointing at
    their own entities."""
    blank = {i for i, span in enumerate(spans) if not span.text.strip()}
    if blank:
        lost = [r for r in rels if r[0] in blank or r[1] in blank]
        log.warning("%s:%s: %d entities without text dropped (%s), with %d relations", path,
                    where, len(blank), ", ".join(repr(spans[i].text) for i in sorted(blank)),
                    len(lost))
        if stats is not None:
            stats.blank_entities += len(blank)
            stats.blank_relations += len(lost)
        keep = [i for i in range(len(spans)) if i not in blank]
        index = {old: new for new, old in enumerate(keep)}
        spans = [spans[i] for i in keep]
        rels = [(index[h], index[t], label) for h, t, label in rels
                if h in index and t in index]
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start, spans[i].end))
    for a, b in zip(order, order[1:], strict=False):
        if spans[b].start < spans[a].end:
            raise CorpusError(path, where, f"overlapping entities {spans[a].text!r} "
                                           f"and {spans[b].text!r}")
    doc.ents = [spans[i] for i in order]
    if len(doc.ents) != len(spans):  # never silently shift the relations' indices
        raise CorpusError(path, where, f"{len(spans)} entities given, doc.ents kept "
                                       f"{len(doc.ents)}")
    position = {old: new for new, old in enumerate(order)}
    set_relations(doc, [{"head": position[h], "tail": position[t], "label": label, "score": 1.0}
                        for h, t, label in rels])
    return doc
