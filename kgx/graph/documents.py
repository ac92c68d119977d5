"""What the graph knows of its documents beyond their evidence: title, author, dates, address.

The readers of a run keep what a document says of itself as its manifest ``meta`` (an e-mail's
subject, sender and date, a Word file's title and author, a JSONL line's other fields). A
knowledge graph's provenance is more useful with it: "which document" becomes "which report, by
whom, of when", which a SPARQL query can filter on. :data:`DOC_META` (a graph attribute, saved
with the graph) maps a document id to the fields below, picked from its ``meta`` under the
names readers and users give them; :mod:`kgx.rdf.quads` writes them on the document's IRI with
Dublin Core terms. Other fields stay in the manifest only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from kgx.graph.schema import DOC_INDEX
from kgx.rundir import read_manifest

DOC_META = "kgx_document_meta"
#: a document field → the ``meta`` keys it is taken from, first found first
FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "subject", "headline"),
    "author": ("author", "creator", "from", "byline"),
    "date": ("date", "published", "published_at", "pubdate"),
    "created": ("created",),
    "modified": ("modified", "updated"),
    "url": ("url", "link", "source_url"),
    "language": ("language", "lang"),
    "part_of": ("attached_to", "part_of", "is_part_of"),  # the document it came inside
}
_MAX_CHARS = 2000  # a field longer than this is not a title or a date


def document_fields(meta: Mapping[str, Any] | None) -> dict[str, str]:
    """The :data:`FIELDS` of one document's ``meta`` (case of the keys aside; strings and
    numbers only, spaces collapsed)."""
    if not meta:
        return {}
    lowered = {str(k).lower(): v for k, v in meta.items()}
    fields = {}
    for field, keys in FIELDS.items():
        for key in keys:
            value = lowered.get(key)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                text = " ".join(str(value).split())
                if text and len(text) <= _MAX_CHARS:
                    fields[field] = text
                    break
    return fields


def manifest_fields(run_dir: str | Path) -> dict[str, dict[str, str]]:
    """Per document of a run directory, the fields of its current manifest line's ``meta``
    (empty where it has none, so that an update drops what an earlier extraction gave)."""
    current: dict[str, dict[str, str]] = {}
    for line in read_manifest(run_dir):
        doc_id = line.get("id")
        if isinstance(doc_id, str):
            current[doc_id] = document_fields(line.get("meta"))
    return current


def attach_fields(G: nx.MultiDiGraph, found: Iterable[tuple[str, dict[str, str]]]) -> None:
    """Set the documents' fields (later ones win), and keep fields only for the documents the
    graph still has (a document removed or re-extracted without them loses them)."""
    table = dict(G.graph.get(DOC_META) or {})
    table.update(found)
    docs = G.graph.get(DOC_INDEX) or {}
    kept = {doc_id: dict(fields) for doc_id, fields in sorted(table.items())
            if doc_id in docs and fields}
    if kept:
        G.graph[DOC_META] = kept
    else:
        G.graph.pop(DOC_META, None)
