"""SpERT JSON (CoNLL04, ADE, SciERC): token offsets, end exclusive."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from kgx.corpus.gold import (
    _SURROGATE_MESSAGE,
    ConvertStats,
    CorpusError,
    _finish_doc,
    _has_surrogate,
    _is_int,
    _relation_triples,
    _require,
)

log = logging.getLogger("kgx")


def _spert_doc(vocab: Vocab, item: Any, path: Path, where: str, stats: ConvertStats) -> Doc:
    _require(isinstance(item, dict), path, where, "record is not a JSON object")
    _require(not _has_surrogate(item), path, where, _SURROGATE_MESSAGE)
    tokens = item.get("tokens")
    _require(isinstance(tokens, list) and tokens and all(isinstance(t, str) and t for t in tokens),
             path, where, "'tokens' must be a non-empty list of non-empty strings")
    ents = item.get("entities", [])
    rels = item.get("relations", [])
    _require(isinstance(ents, list) and isinstance(rels, list), path, where,
             "'entities' and 'relations' must be lists")
    doc = Doc(vocab, words=tokens, spaces=[True] * (len(tokens) - 1) + [False])
    for tok in doc:
        tok.is_sent_start = tok.i == 0
    spans: list[Span] = []
    for k, ent in enumerate(ents):
        ok = (isinstance(ent, dict) and _is_int(ent.get("start")) and _is_int(ent.get("end"))
              and isinstance(ent.get("type"), str))
        _require(ok, path, where, f"entity {k} needs integer 'start'/'end' and a string 'type'")
        _require(0 <= ent["start"] < ent["end"] <= len(tokens), path, where,
                 f"entity {k} [{ent['start']}, {ent['end']}) is outside the "
                 f"{len(tokens)} tokens")
        spans.append(Span(doc, ent["start"], ent["end"], label=ent["type"]))
    # nested entities: keep the longest, then the first
    keep: list[int] = []
    for i in sorted(range(len(spans)), key=lambda i: (-(spans[i].end - spans[i].start),
                                                        spans[i].start)):
        if all(spans[i].end <= spans[j].start or spans[j].end <= spans[i].start for j in keep):
            keep.append(i)
    dropped = len(spans) - len(keep)
    new_index = {old: new for new, old in enumerate(sorted(keep))}
    triples: list[tuple[int, int, str]] = []
    for head, tail, label in _relation_triples(rels, len(spans), "type", path, where):
        if head in new_index and tail in new_index:
            triples.append((new_index[head], new_index[tail], label))
        else:
            stats.dropped_relations += 1
    if dropped:
        stats.dropped_entities += dropped
        log.warning("%s:%s: %d nested entities dropped (doc.ents cannot hold them)",
                    path, where, dropped)
    doc = _finish_doc(doc, [spans[i] for i in sorted(keep)], triples, path, where, stats)
    if "orig_id" in item:
        doc.user_data["kgx_id"] = str(item["orig_id"])
    return doc


def read_spert(path: Path, vocab: Vocab, strict: bool = True,
               stats: ConvertStats | None = None) -> Iterator[Doc]:
    stats = stats if stats is not None else ConvertStats()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CorpusError(path, f"{e.lineno}", f"not valid JSON: {e.msg}") from e
    if not isinstance(data, list):
        raise CorpusError(path, "1", "a SpERT file is a JSON list of sentences")
    for i, item in enumerate(data):
        where = f"item {i}"
        try:
            yield _spert_doc(vocab, item, path, where, stats)
        except CorpusError as e:
            if strict:
                raise
            log.warning("skipped: %s", e)
            stats.skipped.append(str(e))
