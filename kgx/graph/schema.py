"""What a kgx graph holds (DESIGN.md, "Graph"), and reading it back as records.

A ``networkx.MultiDiGraph``: one node per real-world entity keyed by its IRI
(:func:`kgx.graph.iris.entity_iri`; attributes ``label``, ``name``, ``aliases``, ``mentions``,
``docs``), one edge per (head, relation, tail) keyed by the relation label, with ``score``,
``count`` and ``evidence``: the evidence items of :func:`kgx.records.to_evidence`, kept sorted
so that the graph does not depend on the order in which records arrive. Graph attributes:
``base``, ``kgx_version``, :data:`NORM_KEY` (the normalisation settings) and :data:`DOC_INDEX`
(document → the nodes it mentions with their surface-form counts, and the edges it supports),
which makes replacing a document possible after save and load.

Score aggregation
    An edge's ``score`` is a noisy-or over *documents*: for each document take the maximum score
    of its evidence for that edge (several mentions in one document are not independent
    observations: the same author, often the same sentence paraphrased), then
    ``score = 1 - prod(1 - s_doc)``. One confident document gives its own score; independent
    documents agreeing raise it towards 1; it never exceeds 1 and never falls below the best
    single document. ``count`` is the number of evidence items (distinct head/tail spans).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

import networkx as nx

from kgx import __version__ as KGX_VERSION
from kgx.graph.iris import normalize_base
from kgx.graph.normalize import NormalizationConfig
from kgx.graph.resolve import RESOLUTION_KEY, ResolutionConfig
from kgx.records import Record, from_evidence

DOC_INDEX = "kgx_doc_index"
NORM_KEY = "kgx_normalization"
JSON_ATTRS_KEY = "kgx_json_attributes"

# (head IRI, tail IRI, relation label, evidence item)
EvidenceItem = tuple[str, str, str, dict[str, Any]]


def new_graph(base: str | None = None) -> nx.MultiDiGraph:
    """An empty graph carrying the contract's graph attributes."""
    G = nx.MultiDiGraph()
    G.graph.update({"base": normalize_base(base), "kgx_version": KGX_VERSION, DOC_INDEX: {}})
    return G


log = logging.getLogger("kgx")

# a hashed entity slug as earlier kgx minted it (12 hex digits after a '-', not '_')
_OLD_HASHED_SLUG = re.compile(r"/entity/[^/]+/[a-z0-9-]*-[0-9a-f]{12}$")


def open_graph(graph: nx.MultiDiGraph | None, base: str | None,
               config: NormalizationConfig | None, resolution: ResolutionConfig | None
               ) -> tuple[nx.MultiDiGraph, NormalizationConfig | None, ResolutionConfig]:
    """A new graph, or an existing one checked (base IRI, IRIs of an earlier kgx) with its
    stored normalisation and resolution settings (used unless others are given; a graph built
    before resolution existed keeps it off)."""
    if graph is None:
        graph = new_graph(base)
    else:
        if not isinstance(graph, nx.MultiDiGraph):
            raise TypeError("GraphBuilder needs a networkx.MultiDiGraph")
        existing = graph.graph.get("base")
        if base is not None and existing and normalize_base(base) != existing:
            raise ValueError(
                f"the graph's base IRI is {existing}, not {normalize_base(base)}: entity IRIs "
                "would not match; rebuild the graph to change the base"
            )
        graph.graph["base"] = normalize_base(existing or base)
        if any(_OLD_HASHED_SLUG.search(str(n)) for n in graph.nodes):
            log.warning("the graph was built by an earlier kgx, whose IRIs of names that "
                        "need a hash could collide (issue 13): those entities get new IRIs "
                        "now; rebuild the graph from its records")
        graph.graph.setdefault("kgx_version", KGX_VERSION)
        graph.graph.setdefault(DOC_INDEX, {})
        stored = graph.graph.get(NORM_KEY)
        if isinstance(stored, dict):
            if config is None:
                config = NormalizationConfig.from_dict(stored)
            elif NormalizationConfig.from_dict(stored) != config:
                log.warning("the graph was built with other normalisation settings (%s); "
                            "entities already in it keep their old IRIs", stored)
    if resolution is None:
        stored_res = graph.graph.get(RESOLUTION_KEY)
        resolution = (ResolutionConfig.from_dict(stored_res) if isinstance(stored_res, dict)
                      else ResolutionConfig() if not graph.graph.get(DOC_INDEX)
                      else ResolutionConfig(enabled=False))
    graph.graph[RESOLUTION_KEY] = resolution.to_dict()
    return graph, config, resolution


def evidence_sort_key(ev: dict[str, Any]) -> tuple:
    return (ev["doc_id"], ev["head_start"], ev["head_end"], ev["tail_start"], ev["tail_end"],
            -ev["score"], ev["model"])


def aggregate_score(evidence: Iterable[dict[str, Any]]) -> float:
    """Noisy-or over documents of the per-document maximum evidence score (module docstring)."""
    best: dict[str, float] = {}
    for ev in evidence:
        s = float(ev["score"])
        if s > best.get(ev["doc_id"], -1.0):
            best[ev["doc_id"]] = s
    miss = 1.0
    for doc_id in sorted(best):
        miss *= 1.0 - best[doc_id]
    return round(1.0 - miss, 9)


def evidence_items(G: nx.MultiDiGraph, doc_ids: Iterable[str] | None = None
                   ) -> Iterator[EvidenceItem]:
    """``(head, tail, relation, evidence)`` of every edge (all documents, or ``doc_ids``)."""
    wanted = None if doc_ids is None else set(doc_ids)
    index = G.graph.get(DOC_INDEX, {})
    if wanted is None:
        edge_keys: Iterable = ((h, t, k) for h, t, k in G.edges(keys=True))
    else:
        edge_keys = sorted({(h, t, k) for d in wanted if d in index
                            for h, k, t in index[d]["edges"]})
    for h, t, label in edge_keys:
        if not G.has_edge(h, t, key=label):
            continue
        for ev in G.edges[h, t, label]["evidence"]:
            if wanted is None or ev["doc_id"] in wanted:
                yield h, t, label, ev


def graph_records(G: nx.MultiDiGraph, doc_ids: Iterable[str] | None = None) -> Iterator[Record]:
    """Relation records rebuilt from the graph's evidence (all documents, or ``doc_ids``)."""
    nodes = G.nodes
    for h, t, label, ev in evidence_items(G, doc_ids):
        yield from_evidence(ev, label, nodes[h]["label"], nodes[t]["label"])
