"""Relation records → a NetworkX ``MultiDiGraph`` (DESIGN.md, "Graph").

``schema`` says what a kgx graph holds (and reads it back as records), ``normalize`` and
``aliases`` how names are compared, ``iris`` how entity IRIs are minted, ``resolve`` which node
a mention belongs to, ``builder`` merges records incrementally and idempotently, ``documents``
keeps what documents say of themselves (title, author, dates), ``build`` is ``kgx graph``
(records in, saved graph out), ``io`` saves and loads, ``stats`` and ``ranking`` answer
questions about a graph. This layer reads records and run directories through
:mod:`kgx.records` and :mod:`kgx.rundir`, never through :mod:`kgx.batch`, and imports nothing
of the RDF and store layers above it.
"""

from __future__ import annotations

from kgx.graph.aliases import AliasTable
from kgx.graph.build import BuildResult, build_graph
from kgx.graph.builder import GraphBuilder
from kgx.graph.candidates import explain_entity
from kgx.graph.documents import DOC_META, attach_fields, document_fields
from kgx.graph.io import load_graph, save_graph
from kgx.graph.iris import DEFAULT_BASE, entity_iri, normalize_base
from kgx.graph.kb import KnowledgeBase
from kgx.graph.normalize import NormalizationConfig, explain_normalization, normalize_name
from kgx.graph.ranking import match_entities, personalized_pagerank, related
from kgx.graph.resolve import EntityResolver, ResolutionConfig
from kgx.graph.schema import (
    DOC_INDEX,
    NORM_KEY,
    aggregate_score,
    evidence_items,
    graph_records,
    new_graph,
)
from kgx.graph.stats import format_stats, graph_stats

__all__ = [
    "DEFAULT_BASE", "DOC_INDEX", "DOC_META", "NORM_KEY", "AliasTable", "BuildResult",
    "EntityResolver", "GraphBuilder", "KnowledgeBase", "NormalizationConfig", "ResolutionConfig",
    "aggregate_score", "attach_fields", "build_graph", "document_fields", "entity_iri",
    "evidence_items", "explain_entity", "explain_normalization", "format_stats", "graph_records",
    "graph_stats", "load_graph", "match_entities", "new_graph", "normalize_base", "normalize_name",
    "personalized_pagerank", "related", "save_graph",
]
