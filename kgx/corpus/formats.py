"""Format detection, reading any annotated format into gold ``Doc``s, and conversion to a
``DocBin`` (``kgx convert``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from kgx.corpus.gold import ConvertStats, CorpusError
from kgx.corpus.jsonl import _kgx_doc, _prodigy_doc, _read_jsonl
from kgx.corpus.spert import read_spert
from kgx.relations import raw_relations

log = logging.getLogger("kgx")


FORMATS = ("spert", "prodigy", "kgx", "docbin")



def detect_format(path: Path) -> str:
    """``spert``, ``prodigy``, ``kgx`` or ``docbin``, from the suffix and the first record."""
    if path.suffix == ".spacy":
        return "docbin"
    with path.open(encoding="utf-8") as f:
        head = f.read(4096).lstrip()
    if head.startswith("["):
        return "spert"
    first = next((line for line in head.splitlines() if line.strip()), "")
    try:
        rec = json.loads(first)
    except json.JSONDecodeError:
        rec = {}
        if '"spans"' in first:
            return "prodigy"
    if isinstance(rec, dict) and "spans" in rec:
        return "prodigy"
    if isinstance(rec, dict) and "text" in rec:
        return "kgx"
    raise CorpusError(path, "1", "cannot tell the format (expected a SpERT JSON list, Prodigy "
                                 "rel.manual JSONL or kgx JSONL); pass --format")


def _sentencizing(lang: str, vocab: Vocab | None) -> Language:
    nlp = spacy.blank(lang, vocab=vocab) if vocab is not None else spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    return nlp


def read_docs(path: Path | str, vocab: Vocab | None = None, fmt: str = "auto", lang: str = "en",
              strict: bool = True, stats: ConvertStats | None = None) -> Iterator[Doc]:
    """Gold docs from any supported file (entities, relations, sentence starts)."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(path, "0", "no such file")
    stats = stats if stats is not None else ConvertStats()
    fmt = detect_format(path) if fmt == "auto" else fmt
    nlp = _sentencizing(lang, vocab)
    if fmt == "docbin":
        docs: Iterable[Doc] = DocBin(store_user_data=True).from_disk(path).get_docs(nlp.vocab)
    elif fmt == "spert":
        docs = read_spert(path, nlp.vocab, strict, stats)
    elif fmt == "kgx":
        docs = _read_jsonl(path, lambda r, w: _kgx_doc(nlp, r, path, w, stats), strict, stats)
    elif fmt == "prodigy":
        docs = _read_jsonl(path, lambda r, w: _prodigy_doc(nlp.vocab, r, path, w, stats), strict,
                           stats, prodigy=True)
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS} or 'auto'")
    for doc in docs:
        stats.docs += 1
        stats.entities += len(doc.ents)
        stats.relations += len(raw_relations(doc))
        yield doc


def convert(input_path: Path | str, output_path: Path | str, fmt: str = "auto", lang: str = "en",
            strict: bool = True) -> ConvertStats:
    """Write the gold docs of ``input_path`` to a ``.spacy`` DocBin (relations kept)."""
    stats = ConvertStats()
    db = DocBin(store_user_data=True)
    for doc in read_docs(input_path, fmt=fmt, lang=lang, strict=strict, stats=stats):
        db.add(doc)
    out = Path(output_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(out)
    log.debug("%s -> %s: %s", input_path, out, stats.summary())
    return stats


def docs_to_kgx_jsonl(docs: Iterable[Doc]) -> Iterator[dict[str, Any]]:
    """Gold docs back to kgx JSONL records (for round trips and exporting corpora)."""
    for i, doc in enumerate(docs):
        yield {
            "id": doc.user_data.get("kgx_id", str(i)),
            "text": doc.text,
            "entities": [{"start": e.start_char, "end": e.end_char, "label": e.label_}
                         for e in doc.ents],
            "relations": [{"head": r["head"], "tail": r["tail"], "label": r["label"]}
                          for r in raw_relations(doc)],
        }
