"""Writing a graph as an RDF file in any registered format (``kgx export``)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from kgx.rdf.formats import format_for, get_format
from kgx.rdf.quads import doc_ids
from kgx.rdf.vocabulary import Vocabulary

log = logging.getLogger("kgx")


@dataclass
class ExportResult:
    path: str
    format: str
    statements: int
    documents: int


def export(
    G: nx.MultiDiGraph,
    path: str | Path,
    fmt: str | None = None,
    *,
    vocab: Vocabulary | None = None,
    lang: str = "en",
) -> ExportResult:
    """Write the RDF view of ``G`` to ``path`` (atomically: a ``.tmp`` file, then renamed) in
    the format ``fmt`` (default: from the suffix; :data:`kgx.rdf.formats.FORMATS`)."""
    path = Path(path)
    fmt = format_for(path, fmt)
    vocab = vocab if vocab is not None else Vocabulary.default()
    writer = get_format(fmt)()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        n = writer.write(G, tmp, vocab, lang)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    n_docs = len(doc_ids(G))
    log.debug("exported %d statements (%d documents) to %s as %s", n, n_docs, path, fmt)
    return ExportResult(str(path), fmt, n, n_docs)


def export_path(directory: str | Path, fmt: str, stem: str = "graph") -> Path:
    """``directory/stem.<the format's first suffix>`` (``kgx extract --then-export``)."""
    return Path(directory) / f"{stem}{get_format(fmt).suffixes[0]}"
