"""The embedded store: an Oxigraph store on disk (pyoxigraph), loaded idempotently.

A quad file (N-Quads, TriG, JSON-LD) holds one named graph per document (see :mod:`kgx.rdf`);
loading it first drops each of those graphs, so a document re-exported and re-loaded is
replaced, never doubled. Default-graph triples are merged (RDF set semantics make a re-load a
no-op); ``replace_default`` clears the default graph first when the file is the whole knowledge
graph. Queries bind parameters as RDF terms (SEP-0007 substitution), never by pasting text.
Any registered RDF format (:data:`kgx.rdf.formats.FORMATS`) is read through its media type.
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


def open_store(location: str | Path) -> ox.Store:
    """The embedded store in ``location`` (created when missing); a clear error when locked."""
    location = Path(location)
    if location.exists() and not location.is_dir():
        raise StoreError(f"store location {location} exists and is not a directory")
    try:
        return ox.Store(str(location))
    except OSError as e:
        raise StoreError(f"cannot open the store at {location}: {e}") from e


@dataclass
class LoadResult:
    path: str
    quads: int
    graphs_replaced: int
    store_quads: int


def load_file(store: ox.Store, path: str | Path, fmt: str | None = None, *,
              replace_default: bool = False) -> LoadResult:
    """Bulk-load an RDF file; each named graph in it replaces the store's graph of that name."""
    path = Path(path)
    graphs: set[ox.NamedNode] = set()
    n = 0
    for q in _parse(path, fmt):
        n += 1
        if not isinstance(q.graph_name, ox.DefaultGraph):
            graphs.add(q.graph_name)
    _, oxfmt = rdf_format(path, fmt)
    if replace_default:
        store.clear_graph(ox.DefaultGraph())
    for g in graphs:
        if store.contains_named_graph(g):
            store.remove_graph(g)
    try:
        store.bulk_load(path=str(path), format=oxfmt)
    except (SyntaxError, OSError) as e:
        raise StoreError(f"cannot load {path}: {e}") from e
    store.flush()
    log.info("loaded %s: %d quads, %d named graphs replaced", path, n, len(graphs))
    return LoadResult(str(path), n, len(graphs), len(store))


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
    substitutions = {ox.Variable(k): v for k, v in (params or {}).items()}
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
    return json.loads(result.serialize(format=ox.QueryResultsFormat.JSON))
