"""The embedded store: an Oxigraph store on disk (pyoxigraph), loaded idempotently.

A kgx RDF file is a whole knowledge graph: the merged view in the default graph (entities,
facts, scores, counts, the list of documents as ``kgx:Document``) and, in the quad formats
(N-Quads, TriG, JSON-LD), one named graph per document. Loading one therefore makes the store
answer exactly as a store loaded from scratch with that file (docs/design-notes.md):

1. every document graph the store holds (a named graph the store's default graph lists as a
   ``kgx:Document``) and every named graph in the file is dropped, so a document that left the
   graph leaves the store;
2. the default graph (the merged view) is cleared;
3. the file is bulk-loaded.

Loading the same file twice is a no-op; a load that was killed is repaired by loading again (the
steps are in that order so that a kill between them leaves nothing that the next load does not
remove). Named graphs that are not kgx documents are left alone. ``replace_default=False``
(``kgx load --merge-default``) keeps the older merge behaviour for files that are not a whole
kgx graph (an ontology, extra triples): only the file's named graphs are replaced.

Queries bind parameters as RDF terms (SEP-0007 substitution), never by pasting text. Any
registered RDF format (:data:`kgx.rdf.formats.FORMATS`) is read through its media type.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgx.rdf.formats import format_for, get_format
from kgx.rdf.terms import KGX, RDF

log = logging.getLogger("kgx")


class StoreError(RuntimeError):
    """A store operation failed; the message names the store or endpoint and the cause."""


def rdf_format(path: Path, fmt: str | None) -> tuple[str, ox.RdfFormat]:
    """The kgx format name of an RDF file and pyoxigraph's format for it."""
    name = format_for(path, fmt)
    media_type = get_format(name).media_type
    oxfmt = ox.RdfFormat.from_media_type(media_type)
    if oxfmt is None:
        raise StoreError(f"the store cannot read {name} ({media_type})")
    return name, oxfmt


def _parse(path: Path, fmt: str | None) -> Iterator[ox.Quad]:
    name, oxfmt = rdf_format(path, fmt)
    if not path.is_file():
        raise StoreError(f"no such RDF file: {path}")
    try:
        yield from ox.parse(path=str(path), format=oxfmt)
    except SyntaxError as e:
        raise StoreError(f"{path} is not valid {name}: {e}") from e


#: what a bulk load writes into the store's folder before handing it over; a load that was
#: killed leaves them behind (hundreds of MB), and nothing else ever reads them
BULK_LEFTOVERS = "bulk-*.sst"


def open_store(location: str | Path) -> ox.Store:
    """The embedded store in ``location`` (created when missing); a clear error when locked.

    Files a killed bulk load left in the folder are removed: the store is open, so no other
    process is loading into it (Oxigraph locks its folder)."""
    location = Path(location)
    if location.exists() and not location.is_dir():
        raise StoreError(f"store location {location} exists and is not a directory")
    try:
        store = ox.Store(str(location))
    except OSError as e:
        raise StoreError(f"cannot open the store at {location}: {e}") from e
    for leftover in sorted(location.glob(BULK_LEFTOVERS)):
        log.warning("removing %s, left by an interrupted load", leftover)
        leftover.unlink(missing_ok=True)
    return store


@dataclass
class LoadResult:
    path: str
    quads: int
    graphs_replaced: int
    store_quads: int
    graphs_dropped: int = 0  # document graphs of documents no longer in the knowledge graph


KGX_DOCUMENT = ox.NamedNode(KGX + "Document")
RDF_TYPE = ox.NamedNode(RDF + "type")


def document_graphs(store: ox.Store) -> set[ox.NamedNode]:
    """The document graphs of the store: the named graphs its default graph lists as
    ``kgx:Document``."""
    listed = {q.subject for q in store.quads_for_pattern(None, RDF_TYPE, KGX_DOCUMENT,
                                                         ox.DefaultGraph())}
    return {g for g in listed
            if isinstance(g, ox.NamedNode) and store.contains_named_graph(g)}


def load_file(store: ox.Store, path: str | Path, fmt: str | None = None, *,
              replace_default: bool = True) -> LoadResult:
    """Bulk-load an RDF file holding a whole kgx graph: afterwards the store answers exactly
    as a store loaded from scratch with it (module docstring). ``replace_default=False`` only
    replaces the file's named graphs and merges its default graph into the store's."""
    path = Path(path)
    graphs: set[ox.NamedNode] = set()
    n = 0
    for q in _parse(path, fmt):  # the whole file is checked before the store is touched
        n += 1
        if isinstance(q.graph_name, ox.NamedNode):
            graphs.add(q.graph_name)
    _, oxfmt = rdf_format(path, fmt)
    stale: set[ox.NamedNode] = document_graphs(store) - graphs if replace_default else set()
    for g in sorted(graphs | stale, key=lambda g: g.value):
        if store.contains_named_graph(g):
            store.remove_graph(g)
    if replace_default:
        store.clear_graph(ox.DefaultGraph())
    try:
        store.bulk_load(path=str(path), format=oxfmt)
    except (SyntaxError, OSError) as e:
        raise StoreError(f"cannot load {path}: {e}") from e
    store.flush()
    log.debug("loaded %s: %d quads, %d named graphs replaced, %d document graphs dropped", path,
              n, len(graphs), len(stale))
    return LoadResult(str(path), n, len(graphs), len(store), len(stale))


def load_files(store: ox.Store, paths: list[Path], fmt: str | None = None, *,
               replace_default: bool = True) -> list[LoadResult]:
    """Load several files that together make one knowledge graph: the first replaces what the
    store held (as :func:`load_file`), the others are added to it (their named graphs
    replaced, their default graphs merged)."""
    return [load_file(store, p, fmt, replace_default=replace_default and i == 0)
            for i, p in enumerate(paths)]


def parse_param(spec: str) -> tuple[str, ox.NamedNode | ox.Literal]:
    """``name=value`` → a variable binding: ``<...>`` is an IRI, anything else a plain string."""
    name, sep, value = spec.partition("=")
    name = name.strip().lstrip("?$")
    if not sep or not name or not name.replace("_", "").isalnum():
        raise ValueError(f"parameter {spec!r} must look like name=value (or name=<iri>)")
    if value.startswith("<") and value.endswith(">"):
        try:
            return name, ox.NamedNode(value[1:-1])
        except ValueError as e:
            raise ValueError(f"parameter {name}: {value} is not a valid IRI: {e}") from e
    return name, ox.Literal(value)


def query_store(store: ox.Store, sparql: str,
                params: dict[str, ox.NamedNode | ox.Literal] | None = None) -> dict[str, Any]:
    """Run a query with variables bound to RDF terms (SEP-0007 substitution, not text pasting).

    Returns SPARQL 1.1 JSON results (``head``/``results`` or ``boolean``); CONSTRUCT/DESCRIBE
    give ``{"triples": [N-Triples lines]}``.
    """
    substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
        ox.Variable(k): v for k, v in (params or {}).items()}
    try:
        result = store.query(sparql, substitutions=substitutions or None)
    except SyntaxError as e:
        raise StoreError(f"invalid SPARQL: {e}") from e
    except RuntimeError as e:  # e.g. a parameter that the SELECT clause does not project
        hint = (" (Oxigraph binds parameters only when the SELECT clause lists them)"
                if substitutions else "")
        raise StoreError(f"query failed: {e}{hint}") from e
    if isinstance(result, ox.QueryBoolean):
        return {"head": {}, "boolean": bool(result)}
    if isinstance(result, ox.QueryTriples):
        return {"triples": [f"{t.subject} {t.predicate} {t.object} ." for t in result]}
    return json.loads(result.serialize(format=ox.QueryResultsFormat.JSON) or b"{}")
