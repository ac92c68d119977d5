"""Records in, a saved graph out: what ``kgx graph`` and ``kgx extract --then-graph`` both do.

Records come through :mod:`kgx.rundir`'s one reader (a malformed line is reported and
skipped), all inputs in one :meth:`GraphBuilder.add_records` call, so a document spread over
several inputs is merged, not replaced.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from kgx.graph.aliases import AliasTable
from kgx.graph.builder import GraphBuilder
from kgx.graph.documents import DOC_META, attach_fields, manifest_fields
from kgx.graph.io import load_graph, save_graph
from kgx.graph.kb import KnowledgeBase
from kgx.graph.normalize import NormalizationConfig
from kgx.graph.resolve import RESOLUTION_KEY, ResolutionConfig
from kgx.graph.schema import DOC_INDEX, NORM_KEY, graph_records
from kgx.records import Record
from kgx.rundir import ReadError, documents_without_records, iter_input_records


@dataclass
class BuildResult:
    """The builder that made the graph, where it was saved, and the malformed lines skipped."""

    builder: GraphBuilder
    path: Path
    errors: list[ReadError] = field(default_factory=list)

    @property
    def graph(self) -> nx.MultiDiGraph:
        return self.builder.graph


def build_graph(
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    update: bool = False,
    min_score: float = 0.0,
    alias_table: str | Path | None = None,
    merge_across_types: bool = False,
    base: str | None = None,
    merge_log: str | Path | None = None,
    resolution: bool | None = None,
    kb: str | Path | None = None,
) -> BuildResult:
    """Build the graph of ``inputs`` (run directories or ``.jsonl[.gz]`` files) and save it to
    ``output`` (``.json`` or ``.graphml``); with ``update``, add to the graph already there
    (its documents replaced by the inputs' versions, and documents a run directory's manifest
    now lists without records removed, so the result equals a build from scratch).
    ``merge_log`` also writes the merge log. ``resolution`` (default: on, or what an updated
    graph was built with) resolves entities beyond normalisation (:mod:`kgx.graph.resolve`);
    with it, an update rebuilds the graph from its own evidence plus the inputs, because a new
    document can merge or split entities of old ones. ``kb`` is a knowledge base
    (:mod:`kgx.graph.kb`). Raises ValueError (or OSError) with a one-line
    message when something cannot be read."""
    output = Path(output)
    aliases = AliasTable.from_file(alias_table) if alias_table else None
    knowledge = KnowledgeBase.from_file(kb) if kb else None
    existing = load_graph(output) if update and output.exists() else None
    config = None
    if merge_across_types or existing is None:
        config = NormalizationConfig(merge_across_types=merge_across_types)
    if resolution is None:
        stored = existing.graph.get(RESOLUTION_KEY) if existing is not None else None
        resolution = (existing is None or not existing.graph.get(DOC_INDEX)
                      or (isinstance(stored, dict) and bool(stored.get("enabled"))))
    res = ResolutionConfig(enabled=resolution)
    old = None
    if existing is not None and resolution:
        old, existing = existing, None
        if config is None and isinstance(old.graph.get(NORM_KEY), dict):
            config = NormalizationConfig.from_dict(old.graph[NORM_KEY])
        base = base or old.graph.get("base")
    builder = GraphBuilder(existing, base=base, config=config, aliases=aliases,
                           min_score=min_score, resolution=res, kb=knowledge)
    if old is not None:
        if base is not None and old.graph.get("base") != builder.base:
            raise ValueError(f"the graph's base IRI is {old.graph.get('base')}, not "
                             f"{builder.base}: rebuild the graph to change the base")
        old_docs = sorted(old.graph.get(DOC_INDEX, {}))
        builder.add_records((r for d in old_docs for r in graph_records(old, [d])),
                            validate=False)
        builder.counters.clear()
    for path in inputs:
        if not Path(path).exists():
            raise ValueError(f"no such input: {path}")
    errors: list[ReadError] = []
    seen: set[str] = set()

    def records() -> Iterator[Record]:
        for path in inputs:
            for rec in iter_input_records(path, errors):
                seen.add(rec["doc_id"])
                yield rec

    builder.add_records(records(), validate=False)
    if existing is not None or old is not None:
        # documents a run directory now holds no records of (re-extracted with no relation,
        # failed, emptied) lose what they had: the update equals a build from scratch
        for path in inputs:
            if Path(path).is_dir():
                for doc_id in sorted(documents_without_records(path) - seen):
                    builder.remove_document(doc_id)
    builder.resolve_across_documents()
    fields = list((old.graph.get(DOC_META) or {}).items()) if old is not None else []
    for path in inputs:
        if Path(path).is_dir():
            fields += manifest_fields(path).items()
    attach_fields(builder.graph, fields)
    save_graph(builder.graph, output)
    if merge_log is not None:
        builder.write_merge_log(merge_log)
    return BuildResult(builder, output, errors)
