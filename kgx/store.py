"""Triple stores: an embedded Oxigraph store on disk, and remote stores over SPARQL 1.1 protocols.

Loads are idempotent. A quad file (N-Quads, TriG, JSON-LD) holds one named graph per document
(see :mod:`kgx.rdf`); loading it first drops each of those graphs, so a document re-exported and
re-loaded is replaced, never doubled. Default-graph triples are merged (RDF set semantics make a
re-load a no-op); ``replace_default`` clears the default graph first when the file is the whole
knowledge graph.

Remote pushes use the SPARQL 1.1 Graph Store HTTP Protocol: ``PUT`` per named graph (replace),
then the default graph (``POST`` = merge, or ``PUT`` with ``replace_default``). A push that was
interrupted can therefore simply be run again and ends with exactly the file's content. The
alternative ``mode="update"`` and :meth:`RemoteStore.insert`/:meth:`RemoteStore.delete` send
batched ``INSERT DATA``/``DELETE DATA`` requests whose terms are always serialised RDF terms
(N-Triples syntax, escaped by pyoxigraph), never pasted text. Credentials come from the
environment (``KGX_STORE_TOKEN`` → bearer; ``KGX_STORE_USER``/``KGX_STORE_PASSWORD`` → basic)
and are never logged. Connection errors and 5xx answers are retried with bounded exponential
backoff; anything else raises :class:`StoreError` naming the endpoint and the HTTP status.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox

from kgx.rdf import FORMATS, format_for

log = logging.getLogger("kgx")

OX_FORMATS = {
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "ttl": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
}

FLAVORS = {
    "oxigraph": ("/store", "/update", "/query"),
    "fuseki": ("/{dataset}/data", "/{dataset}/update", "/{dataset}/query"),
}


class StoreError(RuntimeError):
    """A store operation failed; the message names the store or endpoint and the cause."""


def _rdf_format(path: Path, fmt: str | None) -> tuple[str, Any]:
    name = format_for(path, fmt)
    return name, OX_FORMATS[name]


def _parse(path: Path, fmt: str | None) -> Iterator[ox.Quad]:
    name, oxfmt = _rdf_format(path, fmt)
    if not path.is_file():
        raise StoreError(f"no such RDF file: {path}")
    try:
        yield from ox.parse(path=str(path), format=oxfmt)
    except SyntaxError as e:
        raise StoreError(f"{path} is not valid {name}: {e}") from e


# --- embedded store --------------------------------------------------------------------------


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
    _, oxfmt = _rdf_format(path, fmt)
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


def _cell(binding: dict[str, Any] | None, prefixes: dict[str, str]) -> str:
    if binding is None:
        return ""
    value = binding["value"]
    if binding["type"] == "uri":
        for name, ns in prefixes.items():
            if value.startswith(ns) and len(value) > len(ns):
                return f"{name}:{value[len(ns):]}"
        return f"<{value}>"
    return value


def format_results(results: dict[str, Any], fmt: str = "table",
                   prefixes: dict[str, str] | None = None) -> str:
    """SPARQL JSON results as an aligned text table, JSON, or CSV."""
    if fmt == "json":
        return json.dumps(results, indent=2, ensure_ascii=False)
    if "triples" in results:
        return "\n".join(results["triples"])
    if "boolean" in results:
        return "true" if results["boolean"] else "false"
    variables = results["head"].get("vars", [])
    rows = results["results"]["bindings"]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow([row[v]["value"] if v in row else "" for v in variables])
        return buf.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"unknown result format {fmt!r} (use table, json or csv)")
    control = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})
    cells = [[_cell(row.get(v), prefixes or {}).translate(control) for v in variables]
             for row in rows]
    widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(variables)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


# --- remote stores ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoints:
    """Where a remote store answers: Graph Store Protocol, SPARQL Update and SPARQL Query."""

    store_url: str | None = None
    update_url: str | None = None
    query_url: str | None = None

    @classmethod
    def build(cls, endpoint: str | None = None, flavor: str | None = None,
              dataset: str = "ds", store_url: str | None = None,
              update_url: str | None = None, query_url: str | None = None) -> Endpoints:
        """Explicit URLs win; otherwise ``endpoint`` (the server root) plus the flavor's paths."""
        derived: list[str | None] = [None, None, None]
        if endpoint:
            flavor = flavor or "oxigraph"
            if flavor not in FLAVORS:
                raise ValueError(f"unknown store flavor {flavor!r} (use {', '.join(FLAVORS)})")
            root = endpoint.rstrip("/")
            derived = [root + p.format(dataset=dataset) for p in FLAVORS[flavor]]
        elif flavor:
            raise ValueError("--flavor needs --endpoint (the server's root URL)")
        result = cls(store_url or derived[0], update_url or derived[1], query_url or derived[2])
        for url in (result.store_url, result.update_url, result.query_url):
            if url and urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return result


def _safe_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@dataclass
class PushResult:
    graphs: int
    quads: int
    requests: int


class RemoteStore:
    """A remote SPARQL store reached with ``requests``; see the module docstring."""

    def __init__(self, endpoints: Endpoints, *, retries: int = 5, backoff: float = 0.5,
                 max_backoff: float = 30.0, timeout: float = 120.0,
                 env: dict[str, str] | None = None) -> None:
        import requests

        self.endpoints = endpoints
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.requests = 0
        self.session = requests.Session()
        env = os.environ if env is None else env
        token = env.get("KGX_STORE_TOKEN")
        user, password = env.get("KGX_STORE_USER"), env.get("KGX_STORE_PASSWORD")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        elif user:
            self.session.auth = (user, password or "")
        self.auth_kind = "bearer" if token else "basic" if user else "none"

    def _need(self, url: str | None, what: str) -> str:
        if not url:
            raise StoreError(f"no {what} URL configured (give --endpoint with --flavor, or "
                             f"--{what}-url)")
        return url

    def request(self, method: str, url: str, **kwargs: Any):
        """One HTTP request with bounded retries on connection errors and 5xx answers."""
        import requests

        safe = _safe_url(url)
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                log.warning("%s %s: %s; retry %d/%d in %.1fs", method, safe, last, attempt,
                            self.retries, delay)
                time.sleep(delay)
            self.requests += 1
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as e:
                last = f"connection error ({type(e).__name__})"
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code} {response.reason}"
                continue
            if response.status_code >= 400:
                body = response.text[:300].strip()
                raise StoreError(f"{method} {safe} failed: HTTP {response.status_code} "
                                 f"{response.reason}" + (f": {body}" if body else ""))
            return response
        raise StoreError(f"{method} {safe} failed after {self.retries + 1} attempts: {last}")

    # Graph Store HTTP Protocol

    def _graph_params(self, graph: str | None) -> dict[str, str]:
        return {"default": ""} if graph is None else {"graph": graph}

    def put_graph(self, graph: str | None, ntriples: bytes) -> None:
        """Replace one graph (``None`` = the default graph) with N-Triples content."""
        url = self._need(self.endpoints.store_url, "store")
        self.request("PUT", url, params=self._graph_params(graph), data=ntriples,
                     headers={"Content-Type": "application/n-triples"})

    def post_graph(self, graph: str | None, ntriples: bytes) -> None:
        """Merge N-Triples content into one graph."""
        url = self._need(self.endpoints.store_url, "store")
        self.request("POST", url, params=self._graph_params(graph), data=ntriples,
                     headers={"Content-Type": "application/n-triples"})

    def dump(self) -> bytes:
        """The whole dataset as N-Quads (GET on the graph store without a graph parameter)."""
        url = self._need(self.endpoints.store_url, "store")
        return self.request("GET", url, headers={"Accept": "application/n-quads"}).content

    # SPARQL Query and Update

    def query(self, sparql: str) -> dict[str, Any]:
        """SPARQL JSON results of a SELECT/ASK query."""
        url = self._need(self.endpoints.query_url, "query")
        response = self.request(
            "POST", url, data=sparql.encode("utf-8"),
            headers={"Content-Type": "application/sparql-query",
                     "Accept": "application/sparql-results+json"})
        try:
            return response.json()
        except ValueError as e:
            raise StoreError(f"POST {_safe_url(url)}: the answer is not SPARQL JSON") from e

    def count(self) -> int:
        """Number of quads in all graphs, default graph included."""
        result = self.query("SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION "
                            "{ GRAPH ?g { ?s ?p ?o } } }")
        return int(result["results"]["bindings"][0]["n"]["value"])

    def update(self, sparql: str) -> None:
        url = self._need(self.endpoints.update_url, "update")
        self.request("POST", url, data=sparql.encode("utf-8"),
                     headers={"Content-Type": "application/sparql-update"})

    def _data_blocks(self, quads: Iterable[ox.Quad], batch_size: int) -> Iterator[str]:
        """``{ ... }`` blocks of at most ``batch_size`` quads, terms serialised by pyoxigraph."""
        batch: list[ox.Quad] = []

        def block() -> str:
            default = [q for q in batch if isinstance(q.graph_name, ox.DefaultGraph)]
            by_graph: dict[str, list[ox.Quad]] = {}
            for q in batch:
                if not isinstance(q.graph_name, ox.DefaultGraph):
                    by_graph.setdefault(str(q.graph_name), []).append(q)
            parts = [f"{q.subject} {q.predicate} {q.object} ." for q in default]
            for g, qs in by_graph.items():
                inner = "\n".join(f"  {q.subject} {q.predicate} {q.object} ." for q in qs)
                parts.append(f"GRAPH {g} {{\n{inner}\n}}")
            return "{\n" + "\n".join(parts) + "\n}"

        for q in quads:
            if not isinstance(q, ox.Quad):
                raise TypeError(f"expected pyoxigraph.Quad, got {type(q).__name__}")
            batch.append(q)
            if len(batch) >= batch_size:
                yield block()
                batch = []
        if batch:
            yield block()

    def _batched(self, operation: str, quads: Iterable[ox.Quad], batch_size: int) -> int:
        n = 0
        for data in self._data_blocks(quads, batch_size):
            self.update(f"{operation} {data}")
            n += 1
        return n

    def insert(self, quads: Iterable[ox.Quad], batch_size: int = 5000) -> int:
        """Add quads with batched ``INSERT DATA``; returns the number of requests."""
        return self._batched("INSERT DATA", quads, batch_size)

    def delete(self, quads: Iterable[ox.Quad], batch_size: int = 5000) -> int:
        """Remove quads with batched ``DELETE DATA``; returns the number of requests."""
        return self._batched("DELETE DATA", quads, batch_size)

    def replace_graph(self, graph: str, quads: Iterable[ox.Quad], batch_size: int = 5000) -> None:
        """Replace one named graph through SPARQL Update (drop it, then insert in batches)."""
        self.update(f"DROP SILENT GRAPH {ox.NamedNode(graph)}")
        self.insert(quads, batch_size)


def _ntriples_chunks(quads: Iterable[ox.Quad], size: int) -> Iterator[bytes]:
    """N-Triples bodies of at most ``size`` triples (terms serialised by pyoxigraph)."""
    lines: list[str] = []
    for q in quads:
        lines.append(f"{q.subject} {q.predicate} {q.object} .\n")
        if len(lines) >= size:
            yield "".join(lines).encode("utf-8")
            lines = []
    if lines:
        yield "".join(lines).encode("utf-8")


def push_file(
    remote: RemoteStore,
    path: str | Path,
    fmt: str | None = None,
    *,
    mode: str = "gsp",
    replace_default: bool = False,
    batch_size: int = 5000,
    default_chunk: int = 100_000,
    progress: Callable[[str | None, int], None] | None = None,
) -> PushResult:
    """Push an RDF file: every named graph replaced, then the default graph merged (or replaced).

    ``mode="gsp"`` uses Graph Store Protocol PUT/POST; ``mode="update"`` uses SPARQL Update.
    The file is first bulk-loaded into a temporary on-disk Oxigraph store, which groups its
    quads by graph without holding them in Python; each document graph goes in one request, the
    default graph in chunks of ``default_chunk`` triples (the first one a PUT when replacing).
    ``progress(graph, quads)`` is called after each graph (``None`` = default graph).
    """
    if mode not in ("gsp", "update"):
        raise ValueError(f"unknown push mode {mode!r} (use gsp or update)")
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"no such RDF file: {path}")
    name_fmt, oxfmt = _rdf_format(path, fmt)
    before = remote.requests
    with tempfile.TemporaryDirectory(prefix="kgx-push-") as tmp:
        staging = ox.Store(tmp)
        try:
            staging.bulk_load(path=str(path), format=oxfmt)
        except SyntaxError as e:
            raise StoreError(f"{path} is not valid {name_fmt}: {e}") from e
        quads = len(staging)
        graphs: list[ox.NamedNode | ox.DefaultGraph] = sorted(
            staging.named_graphs(), key=lambda g: g.value)
        graphs.append(ox.DefaultGraph())
        for g in graphs:
            is_default = isinstance(g, ox.DefaultGraph)
            name = None if is_default else g.value
            members = staging.quads_for_pattern(None, None, None, g)
            if mode == "gsp" and not is_default:
                remote.put_graph(name, staging.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g))
            elif mode == "gsp":
                sent = 0
                for body in _ntriples_chunks(members, default_chunk):
                    if sent == 0 and replace_default:
                        remote.put_graph(None, body)
                    else:
                        remote.post_graph(None, body)
                    sent += 1
                if sent == 0 and replace_default:
                    remote.put_graph(None, b"")
            elif is_default:
                if replace_default:
                    remote.update("DROP SILENT DEFAULT")
                remote.insert(members, batch_size)
            else:
                remote.replace_graph(name, members, batch_size)
            n_graph = sum(1 for _ in staging.quads_for_pattern(None, None, None, g))
            log.debug("pushed graph %s (%d quads)", name or "default", n_graph)
            if progress is not None:
                progress(name, n_graph)
        del staging
    n_named = len(graphs) - 1
    log.info("pushed %s: %d quads, %d named graphs, %d requests", path, quads, n_named,
             remote.requests - before)
    return PushResult(n_named, quads, remote.requests - before)


__all__ = [
    "FORMATS", "Endpoints", "LoadResult", "PushResult", "RemoteStore", "StoreError",
    "format_results", "load_file", "open_store", "parse_param", "push_file", "query_store",
]
