"""Remote stores over SPARQL 1.1 protocols, pushed idempotently.

Pushes use the SPARQL 1.1 Graph Store HTTP Protocol: ``PUT`` per named graph (replace), then the
default graph (``POST`` = merge, or ``PUT`` with ``replace_default``). A push that was
interrupted can therefore simply be run again and ends with exactly the file's content. The
alternative ``mode="update"`` and :meth:`RemoteStore.insert`/:meth:`RemoteStore.delete` send
batched ``INSERT DATA``/``DELETE DATA`` requests whose terms are always serialised RDF terms
(N-Triples syntax, escaped by pyoxigraph), never pasted text. Credentials come from the
environment (``KGX_STORE_TOKEN`` → bearer; ``KGX_STORE_USER``/``KGX_STORE_PASSWORD`` → basic)
and are never logged. Connection errors and 5xx answers are retried with bounded exponential
backoff; anything else raises :class:`StoreError` naming the endpoint and the HTTP status.
Where the endpoints are comes from :class:`kgx.store.flavors.Endpoints`.
"""

from __future__ import annotations

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

from kgx.store.embedded import StoreError, rdf_format
from kgx.store.flavors import Endpoints

log = logging.getLogger("kgx")


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
    name_fmt, oxfmt = rdf_format(path, fmt)
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
