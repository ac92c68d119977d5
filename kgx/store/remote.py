"""Remote stores over SPARQL 1.1 protocols, pushed idempotently.

A pushed file is a whole kgx graph, and afterwards the server answers exactly as one loaded
from scratch with it (as :mod:`kgx.store.embedded` does on disk): the documents the server's
default graph lists (``kgx:Document``) are found first; each named graph of the file is replaced
(Graph Store HTTP Protocol ``PUT``), the document graphs of documents no longer in the file are
deleted, and the default graph, the merged view, is replaced (``PUT``, then ``POST`` of the
further chunks). A push that was interrupted can simply be run again and ends with exactly the
file's content. ``replace_default=False`` (``--merge-default``) merges the default graph and
leaves other documents alone. The alternative ``mode="update"`` and
:meth:`RemoteStore.insert`/:meth:`RemoteStore.delete` send batched ``INSERT DATA``/``DELETE
DATA`` requests whose terms are always serialised RDF terms (N-Triples syntax, escaped by
pyoxigraph), never pasted text; a graph whose name is too long for a URL goes that way too.

The store's answers are checked: redirects are never followed on writes (a login page is not a
store), a write must be answered 200, 201 or 204 and not with an HTML page, and after the push
the store's counts (the default graph and the document graphs) must equal the file's.
Credentials come from the environment (``KGX_STORE_TOKEN`` → bearer;
``KGX_STORE_USER``/``KGX_STORE_PASSWORD`` → basic) and are never logged, nor echoed from a
server's answer. Connection errors and 5xx answers are retried with bounded exponential backoff;
an answer that does not come within ``timeout`` seconds is not waited for again; anything else
raises :class:`StoreError` naming the endpoint and the HTTP status. Where the endpoints are
comes from :class:`kgx.store.flavors.Endpoints`.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pyoxigraph as ox

from kgx.rdf.terms import KGX
from kgx.store.embedded import KGX_DOCUMENT, RDF_TYPE, StoreError, rdf_format
from kgx.store.flavors import Endpoints

log = logging.getLogger("kgx")

#: seconds to wait for an answer (``--timeout``): a hanging endpoint fails in this time
DEFAULT_TIMEOUT = 60.0
#: a graph name longer than this (URL-encoded) is not sent in a Graph Store URL (servers
#: answer 400 or 414) but through SPARQL Update, where it travels in the body
MAX_GRAPH_IN_URL = 2000
_WRITE_OK = (200, 201, 204)
_CREDENTIAL_LINE = re.compile(r"((?:proxy-)?authorization|cookie|x-api-key)(\s*[:=]\s*)[^\r\n]*",
                              re.IGNORECASE)

DOCUMENTS_QUERY = f"SELECT DISTINCT ?d WHERE {{ ?d a <{KGX}Document> }}"
COUNT_DEFAULT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
COUNT_DOCUMENTS = (f"SELECT (COUNT(*) AS ?n) WHERE {{ ?d a <{KGX}Document> . "
                   "GRAPH ?d { ?s ?p ?o } }")


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
    dropped: int = 0  # document graphs of documents no longer in the file, deleted


class RemoteStore:
    """A remote SPARQL store reached with ``requests``; see the module docstring."""

    def __init__(self, endpoints: Endpoints, *, retries: int = 5, backoff: float = 0.5,
                 max_backoff: float = 30.0, timeout: float = DEFAULT_TIMEOUT,
                 env: Mapping[str, str] | None = None) -> None:
        import requests

        if not timeout > 0:
            raise ValueError(f"the timeout must be a positive number of seconds, got {timeout}")
        self.endpoints = endpoints
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.requests = 0
        self.session = requests.Session()
        environ: Mapping[str, str] = os.environ if env is None else env
        token = environ.get("KGX_STORE_TOKEN")
        user, password = environ.get("KGX_STORE_USER"), environ.get("KGX_STORE_PASSWORD")
        self._secrets: list[str] = []
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
            self._secrets.append(token)
        elif user:
            self.session.auth = (user, password or "")
            basic = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self._secrets += [s for s in (password, basic) if s]
        self.auth_kind = "bearer" if token else "basic" if user else "none"

    def redact(self, text: str) -> str:
        """``text`` (a server's answer) without credentials: header lines that carry them
        (a server echoing the request) and the credentials themselves, wherever they are."""
        text = _CREDENTIAL_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "[redacted]")
        return text

    def _need(self, url: str | None, what: str) -> str:
        if not url:
            raise StoreError(f"no {what} URL configured (give --endpoint with --flavor, or "
                             f"--{what}-url)")
        return url

    def request(self, method: str, url: str, **kwargs: Any):
        """One HTTP request with bounded retries on connection errors and 5xx answers.

        Writes follow no redirect and must be answered 200, 201 or 204 with something that is
        not an HTML page; an answer that does not come within ``timeout`` is an error at once.
        """
        import requests

        safe = _safe_url(url)
        write = method != "GET"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                log.warning("%s %s: %s; retry %d/%d in %.1fs", method, safe, last, attempt,
                            self.retries, delay)
                time.sleep(delay)
            self.requests += 1
            try:
                response = self.session.request(method, url, timeout=self.timeout,
                                                allow_redirects=not write, **kwargs)
            except requests.ReadTimeout:
                raise StoreError(f"{method} {safe}: no answer within {self.timeout:g} s "
                                 "(--timeout)") from None
            except (requests.ConnectionError, requests.Timeout) as e:
                last = f"connection error ({type(e).__name__})"
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code} {response.reason}"
                continue
            if response.status_code >= 400:
                body = self.redact(response.text[:300].strip())
                raise StoreError(f"{method} {safe} failed: HTTP {response.status_code} "
                                 f"{response.reason}" + (f": {body}" if body else ""))
            self._check_answer(method, safe, response, write)
            return response
        raise StoreError(f"{method} {safe} failed after {self.retries + 1} attempts: {last}")

    @staticmethod
    def _check_answer(method: str, safe: str, response: Any, write: bool) -> None:
        """A store answers a write (any method but GET) with 200, 201 or 204; a redirect (to a
        login page, say) means that nothing was stored, and an HTML page, for a write or a
        read, is not a triple store's answer."""
        status = response.status_code
        if write and 300 <= status < 400:
            where = _safe_url(response.headers.get("Location", "")) or "elsewhere"
            raise StoreError(f"{method} {safe}: the server redirects to {where} (HTTP {status}); "
                             "nothing was stored (a login page? check the URL and credentials)")
        if write and status not in _WRITE_OK:
            raise StoreError(f"{method} {safe}: unexpected answer HTTP {status} "
                             f"{response.reason}; a store answers 200, 201 or 204")
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind in ("text/html", "application/xhtml+xml"):
            raise StoreError(f"{method} {safe}: the server answered with an HTML page, not as a "
                             "triple store does" + ("; nothing is known to be stored" if write
                                                    else ""))

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

    def delete_graph(self, graph: str) -> None:
        """Remove one named graph (Graph Store ``DELETE``, or ``DROP SILENT`` through Update
        when there is no Graph Store URL or the name is too long for one); absent is fine."""
        if self.endpoints.store_url and not _too_long(graph):
            try:
                self.request("DELETE", self.endpoints.store_url,
                             params=self._graph_params(graph))
            except StoreError as e:
                if "HTTP 404" not in str(e):
                    raise
            return
        self.update(f"DROP SILENT GRAPH {ox.NamedNode(graph)}")

    def get_graph(self, graph: str | None) -> bytes:
        """One graph as N-Triples (``None`` = the default graph)."""
        url = self._need(self.endpoints.store_url, "store")
        return self.request("GET", url, params=self._graph_params(graph),
                            headers={"Accept": "application/n-triples"}).content

    def documents(self) -> set[str]:
        """The IRIs the store's default graph lists as ``kgx:Document`` (the document graphs a
        push replaces): asked through SPARQL Query, or read from the default graph."""
        if self.endpoints.query_url:
            rows = self.query(DOCUMENTS_QUERY)["results"]["bindings"]
            return {r["d"]["value"] for r in rows if r.get("d", {}).get("type") == "uri"}
        data = self.get_graph(None)
        try:
            triples = ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
            return {t.subject.value for t in triples if t.predicate == RDF_TYPE
                    and t.object == KGX_DOCUMENT and isinstance(t.subject, ox.NamedNode)}
        except SyntaxError as e:
            raise StoreError("the store's default graph is not N-Triples: cannot tell which "
                             f"documents it holds ({e})") from e

    def counts(self) -> tuple[int, int]:
        """``(default graph triples, document graph quads)`` as the store counts them."""
        return (self._count(COUNT_DEFAULT), self._count(COUNT_DOCUMENTS))

    def _count(self, sparql: str) -> int:
        try:
            return int(self.query(sparql)["results"]["bindings"][0]["n"]["value"])
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise StoreError(f"the store's answer to a count is not a count ({e})") from e

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
        return self._count("SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION "
                           "{ GRAPH ?g { ?s ?p ?o } } }")

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


def _too_long(graph: str) -> bool:
    return len(quote(graph, safe="")) > MAX_GRAPH_IN_URL


def _staged_counts(staging: ox.Store) -> tuple[int, int]:
    """:meth:`RemoteStore.counts` of the file itself (what the store must answer after it)."""
    counts = []
    for sparql in (COUNT_DEFAULT, COUNT_DOCUMENTS):
        rows = list(staging.query(sparql))  # type: ignore[arg-type]
        counts.append(int(rows[0]["n"].value))
    return counts[0], counts[1]


def push_file(
    remote: RemoteStore,
    path: str | Path,
    fmt: str | None = None,
    *,
    mode: str = "gsp",
    replace_default: bool = True,
    batch_size: int = 5000,
    default_chunk: int = 100_000,
    progress: Callable[[str | None, int], None] | None = None,
    verify: bool = True,
) -> PushResult:
    """Push an RDF file holding a whole kgx graph: afterwards the store answers as one loaded
    from scratch with it (module docstring). ``replace_default=False`` merges instead.

    ``mode="gsp"`` uses Graph Store Protocol PUT/POST/DELETE; ``mode="update"`` uses SPARQL
    Update. The file is first bulk-loaded into a temporary on-disk Oxigraph store, which groups its
    quads by graph without holding them in Python; each document graph goes in one request, the
    default graph in chunks of ``default_chunk`` triples (the first one a PUT when replacing).
    ``progress(graph, quads)`` is called after each graph (``None`` = default graph). With
    ``verify`` (and a query URL), the store's counts are compared with the file's at the end.
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
        named = sorted((g for g in staging.named_graphs() if isinstance(g, ox.NamedNode)),
                       key=lambda g: g.value)
        stale = remote.documents() - {g.value for g in named} if replace_default else set()
        for g in named:
            if mode == "gsp" and not _too_long(g.value):
                body = staging.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g) or b""
                remote.put_graph(g.value, body)
            else:
                with closing(_graph_quads(staging, g)) as members:
                    remote.replace_graph(g.value, members, batch_size)
            _progress(progress, staging, g)
        for doc in sorted(stale):
            remote.delete_graph(doc)
        default = ox.DefaultGraph()
        with closing(_graph_quads(staging, default)) as members:
            if mode == "gsp":
                sent = 0
                for body in _ntriples_chunks(members, default_chunk):
                    if sent == 0 and replace_default:
                        remote.put_graph(None, body)
                    else:
                        remote.post_graph(None, body)
                    sent += 1
                if sent == 0 and replace_default:
                    remote.put_graph(None, b"")
            else:
                if replace_default:
                    remote.update("DROP SILENT DEFAULT")
                remote.insert(members, batch_size)
        _progress(progress, staging, default)
        expected = _staged_counts(staging)
        del staging
    query_url = remote.endpoints.query_url
    if verify and query_url:
        got = remote.counts()
        if got != expected and not (not replace_default and got[0] >= expected[0]
                                    and got[1] >= expected[1]):
            raise StoreError(
                f"the store does not hold what was pushed: {got[0]} default-graph triples and "
                f"{got[1]} document-graph quads, expected {expected[0]} and {expected[1]} "
                f"(it answered every request as stored: check that {_safe_url(query_url)} and "
                "the write URLs are one store)")
    log.debug("pushed %s: %d quads, %d named graphs, %d dropped, %d requests", path, quads,
              len(named), len(stale), remote.requests - before)
    return PushResult(len(named), quads, remote.requests - before, len(stale))


def _graph_quads(staging: ox.Store, g: ox.NamedNode | ox.DefaultGraph
                 ) -> Generator[ox.Quad, None, None]:
    """The quads of one staged graph, for ``with closing(...)``: closing the generator drops
    its pyoxigraph iterator on this thread however the block ends.

    pyoxigraph's iterators may only be dropped on the thread that made them; a failed request
    would otherwise leave one in its traceback's frames, to be dropped wherever the exception
    ends up (``kgx serve`` pushes on a worker thread) or wherever garbage collection runs. The
    iterator is made at the first quad asked for, inside the generator's frame.
    """
    yield from staging.quads_for_pattern(None, None, None, g)


def _progress(progress: Callable[[str | None, int], None] | None, staging: ox.Store,
              g: ox.NamedNode | ox.DefaultGraph) -> None:
    n_graph = sum(1 for _ in staging.quads_for_pattern(None, None, None, g))
    name = g.value if isinstance(g, ox.NamedNode) else None
    log.debug("pushed graph %s (%d quads)", name or "default", n_graph)
    if progress is not None:
        progress(name, n_graph)
