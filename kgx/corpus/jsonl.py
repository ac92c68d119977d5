"""The JSONL formats: kgx's own (character offsets) and Prodigy's ``rel.manual``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from spacy.language import Language
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


def _jsonl_records(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                yield n, CorpusError(path, str(n), f"not valid JSON: {e.msg}")
                continue
            yield n, CorpusError(path, str(n), _SURROGATE_MESSAGE) if _has_surrogate(rec) else rec


def _kgx_doc(nlp: Language, rec: Any, path: Path, where: str,
             stats: ConvertStats | None = None) -> Doc:
    _require(isinstance(rec, dict), path, where, "record is not a JSON object")
    text = rec.get("text")
    _require(isinstance(text, str), path, where, "missing or non-string 'text'")
    ents, rels = rec.get("entities", []), rec.get("relations", [])
    _require(isinstance(ents, list) and isinstance(rels, list), path, where,
             "'entities' and 'relations' must be lists")
    doc = nlp(text)
    spans: list[Span] = []
    for k, ent in enumerate(ents):
        ok = (isinstance(ent, dict) and _is_int(ent.get("start")) and _is_int(ent.get("end"))
              and isinstance(ent.get("label"), str))
        _require(ok, path, where, f"entity {k} needs integer 'start'/'end' and a string 'label'")
        start, end = ent["start"], ent["end"]
        _require(0 <= start < end <= len(text), path, where,
                 f"entity {k} [{start}, {end}) is outside the text ({len(text)} characters)")
        span = doc.char_span(start, end, label=ent["label"], alignment_mode="strict")
        if span is None:
            span = doc.char_span(start, end, label=ent["label"], alignment_mode="expand")
            log.warning("%s:%s: entity %r does not match token boundaries; expanded to %r",
                        path, where, text[start:end], span.text if span else None)
        _require(span is not None, path, where, f"entity {k} {text[start:end]!r} has no tokens")
        spans.append(span)  # type: ignore[arg-type]
    triples = _relation_triples(rels, len(spans), "label", path, where)
    doc = _finish_doc(doc, spans, triples, path, where, stats)
    if rec.get("id") is not None:
        doc.user_data["kgx_id"] = str(rec["id"])
    return doc


def _prodigy_doc(vocab: Vocab, rec: Any, path: Path, where: str,
                 stats: ConvertStats | None = None) -> Doc:
    _require(isinstance(rec, dict), path, where, "record is not a JSON object")
    text, tokens = rec.get("text"), rec.get("tokens")
    _require(isinstance(text, str) and isinstance(tokens, list) and tokens, path, where,
             "a rel.manual record needs 'text' and 'tokens'")
    try:
        words = [t["text"] for t in tokens]
        spaces = [bool(t.get("ws", True)) for t in tokens]
    except (TypeError, KeyError) as e:
        raise CorpusError(path, where, f"malformed token: {e}") from e
    doc = Doc(vocab, words=words, spaces=spaces)
    _require(doc.text == text, path, where, "the tokens do not reproduce 'text'")
    spans: list[Span] = []
    by_chars: dict[tuple[int, int], int] = {}
    for k, sp in enumerate(rec.get("spans", [])):
        ok = isinstance(sp, dict) and _is_int(sp.get("start")) and _is_int(sp.get("end")) \
            and isinstance(sp.get("label"), str)
        _require(ok, path, where, f"span {k} needs integer 'start'/'end' and a string 'label'")
        _require(0 <= sp["start"] < sp["end"] <= len(text), path, where,
                 f"span {k} [{sp['start']}, {sp['end']}) is outside the text")
        span = doc.char_span(sp["start"], sp["end"], label=sp["label"])
        _require(span is not None, path, where,
                 f"span {k} {text[sp['start']:sp['end']]!r} does not match token boundaries")
        by_chars[(sp["start"], sp["end"])] = len(spans)
        spans.append(span)  # type: ignore[arg-type]
    triples = []
    for k, rel in enumerate(rec.get("relations", [])):
        try:
            head = by_chars[(rel["head_span"]["start"], rel["head_span"]["end"])]
            tail = by_chars[(rel["child_span"]["start"], rel["child_span"]["end"])]
            label = rel["label"]
        except (KeyError, TypeError) as e:
            raise CorpusError(path, where, f"relation {k} does not point at a span ({e})") from e
        _require(isinstance(label, str), path, where, f"relation {k} has no string 'label'")
        triples.append((head, tail, label))
    doc = _finish_doc(doc, spans, triples, path, where, stats)
    if "_input_hash" in rec:
        doc.user_data["kgx_id"] = str(rec["_input_hash"])
    return doc


def _read_jsonl(path: Path, make: Callable[[Any, str], Doc], strict: bool, stats: ConvertStats,
                prodigy: bool = False) -> Iterator[Doc]:
    for n, rec in _jsonl_records(path):
        where = f"{n}"
        try:
            if isinstance(rec, CorpusError):
                raise rec
            if prodigy and isinstance(rec, dict) and rec.get("answer", "accept") != "accept":
                stats.rejected += 1
                continue
            yield make(rec, where)
        except CorpusError as e:
            if strict:
                raise
            log.warning("skipped: %s", e)
            stats.skipped.append(str(e))
