"""The live graph: ingested documents merged into a graph, and the store kept equal to it.

The server holds the knowledge graph of every ingested document (:class:`kgx.graph.GraphBuilder`:
a document's records replace its old ones; a document without records leaves the graph) and,
after each change, makes the store hold exactly that graph's RDF, through the same path as a
batch run: :func:`kgx.rdf.export` to N-Quads, then :func:`kgx.store.load_file` (embedded
Oxigraph) or :func:`kgx.store.push_file` (a remote SPARQL store), which replace the document
graphs and the merged default graph (README, "Guarantees"). The store therefore answers as after
``kgx extract`` + ``kgx graph`` + ``kgx export`` + ``kgx load`` over all ingested documents.

Concurrent ingests are coalesced: every change waits for a store write that includes it, and
one write covers all the changes made before it started. The graph is saved (node-link JSON,
atomically) beside the store after each write, and read back at start, so a restarted server
continues where it stopped. The cost of a write grows with the graph (the whole RDF view is
written): the service suits live upkeep of graphs up to some hundred thousand facts; batch
backfills stay with ``kgx extract`` (and Dask).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import networkx as nx

from kgx.graph import GraphBuilder, attach_fields, load_graph, related, save_graph
from kgx.rdf import export
from kgx.records import Record
from kgx.store.embedded import load_file, open_store, query_store
from kgx.store.flavors import Endpoints
from kgx.store.remote import RemoteStore, push_file

log = logging.getLogger("kgx")


class LiveGraph:
    """The graph of the ingested documents and the store it is written to (module docstring).

    Give ``store`` (an embedded store's folder) or ``endpoints`` (a remote store); ``state`` is
    where the graph is saved (default: ``<store>.graph.json`` beside an embedded store; none for
    a remote store unless given: the graph then starts empty).
    """

    def __init__(self, *, store: str | Path | None = None, endpoints: Endpoints | None = None,
                 state: str | Path | None = None, base: str | None = None) -> None:
        if (store is None) == (endpoints is None):
            raise ValueError("give exactly one of a store folder or remote endpoints")
        self.store = open_store(store) if store is not None else None
        self.remote = RemoteStore(endpoints) if endpoints is not None else None
        if state is None and store is not None:
            state = Path(store).with_name(Path(store).name + ".graph.json")
        self.state = Path(state) if state is not None else None
        graph = load_graph(self.state) if self.state is not None and self.state.exists() else None
        self.builder = GraphBuilder(graph, base=base)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="kgx-store")
        self._sync_lock = asyncio.Lock()
        self.version = 0
        self.synced = 0

    @property
    def graph(self) -> nx.MultiDiGraph:
        return self.builder.graph

    @property
    def kind(self) -> str:
        return "embedded" if self.store is not None else "remote"

    # --- changes (each run on the store thread, so the graph is never read half-changed) ---

    def _upsert(self, docs: list[tuple[str, list[Record]]],
                fields: dict[str, dict[str, str]]) -> None:
        for doc_id, records in docs:
            self.builder.remove_document(doc_id)
            if records:
                self.builder.add_records(records)
        attach_fields(self.builder.graph, [(doc_id, fields.get(doc_id, {})) for doc_id, _ in docs])
        self.version += 1

    def _delete(self, doc_id: str) -> bool:
        found = self.builder.remove_document(doc_id)
        if found:
            attach_fields(self.builder.graph, [])
            self.version += 1
        return found

    def _write(self) -> None:
        with tempfile.TemporaryDirectory(prefix="kgx-serve-") as tmp:
            path = Path(tmp) / "graph.nq"
            export(self.graph, path, "nq")
            if self.store is not None:
                load_file(self.store, path, "nq")
            else:
                assert self.remote is not None
                push_file(self.remote, path, "nq")
        if self.state is not None:
            save_graph(self.graph, self.state)

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _commit(self) -> None:
        """Return once the store holds every change made before the call."""
        wanted = self.version
        async with self._sync_lock:
            if self.synced >= wanted:
                return
            version = self.version
            await self._run(self._write)
            self.synced = max(self.synced, version)

    async def upsert(self, docs: list[tuple[str, list[Record]]],
                     fields: dict[str, dict[str, str]] | None = None) -> None:
        """Replace each document's facts by ``records`` (none: the document leaves), and what
        it says of itself by ``fields`` (``kgx.graph.documents``; none: nothing)."""
        await self._run(self._upsert, docs, fields or {})
        await self._commit()

    async def delete(self, doc_id: str) -> bool:
        """Remove a document's facts; False when it was not in the graph."""
        found = await self._run(self._delete, doc_id)
        if found:
            await self._commit()
        return found

    # --- reads ---

    async def related(self, entity: str, top: int) -> list[dict[str, Any]]:
        return await self._run(related, self.graph, entity, top)

    async def query(self, sparql: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.store is not None:
            return await self._run(query_store, self.store, sparql, params)
        assert self.remote is not None
        return await self._run(self.remote.query, bind_values(sparql, params))

    def documents(self) -> int:
        return len(self.builder.documents())

    async def close(self) -> None:
        async with self._sync_lock:
            pass
        self._executor.shutdown(wait=True)
        if self.store is not None:
            self.store.flush()


def bind_values(sparql: str, params: dict[str, Any]) -> str:
    """``sparql`` with ``params`` (pyoxigraph terms) bound by a trailing ``VALUES`` block: each
    value is a serialised RDF term (escaped by pyoxigraph), never pasted text. For a remote
    store, which has no parameter binding."""
    if not params:
        return sparql
    names = " ".join(f"?{k}" for k in params)
    values = " ".join(str(v) for v in params.values())
    return f"{sparql}\nVALUES ({names}) {{ ({values}) }}"
