"""Annotated corpora: converters to spaCy ``DocBin`` and the registered reader ``kgx.Corpus.v1``.

Gold annotation on a ``Doc``: entities in ``doc.ents``, relations in ``doc._.kgx_relations``
(indices into ``doc.ents``), saved with ``DocBin(store_user_data=True)``. Formats:

- ``spert``: a JSON list of ``{"tokens", "entities": [{"type","start","end"}],
  "relations": [{"type","head","tail"}]}`` (CoNLL04, ADE, SciERC; token offsets, end exclusive).
  ``doc.ents`` cannot hold nested entities: the longest (then the first) is kept and the others
  are dropped, with their relations, and counted in the summary.
- ``prodigy``: ``rel.manual`` JSONL (``tokens``, ``spans``, ``relations`` with ``head_span`` and
  ``child_span``); only ``"answer": "accept"`` records are used.
- ``kgx``: JSONL ``{"id", "text", "entities": [{"start","end","label"}],
  "relations": [{"head","tail","label"}]}`` with character offsets; head/tail index ``entities``.

Malformed records raise :class:`CorpusError` naming the file and line (item, for a JSON list);
with ``strict=False`` they are logged, counted and skipped instead.
"""

from __future__ import annotations

from kgx.corpus.documents import LAYOUTS, assemble_documents, join_docs
from kgx.corpus.formats import FORMATS, convert, detect_format, docs_to_kgx_jsonl, read_docs
from kgx.corpus.gold import ConvertStats, CorpusError
from kgx.corpus.reader import RelationCorpus, create_corpus_reader
from kgx.corpus.spert import read_spert

__all__ = [
    "FORMATS", "LAYOUTS", "ConvertStats", "CorpusError", "RelationCorpus", "assemble_documents",
    "convert", "create_corpus_reader", "detect_format", "docs_to_kgx_jsonl", "join_docs",
    "read_docs", "read_spert",
]
