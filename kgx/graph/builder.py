"""Relation records → the graph: entity resolution and incremental, idempotent updates.

Entity merging
    Mentions resolve to nodes through :mod:`kgx.graph.resolve` (a document's mentions together),
    then :meth:`GraphBuilder.resolve_across_documents`; every decision is in the merge log.

Incremental, idempotent updates
    Records are added per call of :meth:`GraphBuilder.add_records`; a document already in the
    graph before the call is *replaced* by that call's records of it (its old evidence, mentions
    and aliases go; nodes and edges supported only by it disappear). Adding the same records
    twice therefore changes nothing, and evidence repeated inside one call is counted once. The
    per-document index (:data:`kgx.graph.schema.DOC_INDEX`) makes this possible and survives
    save/load. Evidence already in the graph (a document reopened within one call, evidence kept
    by :meth:`GraphBuilder.filter_min_score`) is moved as evidence, never turned back into records.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import networkx as nx

from kgx.graph.aliases import AliasTable
from kgx.graph.candidates import apply_merges, cross_document_merges
from kgx.graph.io import atomic_write
from kgx.graph.kb import KnowledgeBase
from kgx.graph.normalize import IGNORABLE, NormalizationConfig, display_name
from kgx.graph.resolve import (
    EntityResolver,
    ResolutionConfig,
    doc_chunks,
    mentions_of,
)
from kgx.graph.schema import (
    DOC_INDEX,
    NORM_KEY,
    EvidenceItem,
    aggregate_score,
    evidence_items,
    evidence_sort_key,
    open_graph,
)
from kgx.graph.stats import graph_stats
from kgx.records import EVIDENCE_FIELDS, Record, RecordError, to_evidence, validate_record

log = logging.getLogger("kgx")

# what the merge loop takes: (doc_id, score, payload), and how a payload is added
Row = tuple[str, float, Any]


class _DocBatch:
    """What one call of add_records collected for one document."""

    __slots__ = ("spans", "nodes", "evidence", "sentences")

    def __init__(self) -> None:
        self.sentences: dict[str, str] = {}
        self.spans: set[tuple[int, int, str]] = set()
        self.nodes: dict[str, dict[str, int]] = defaultdict(dict)
        self.evidence: dict[tuple, dict[str, Any]] = {}


class GraphBuilder:
    """Merges relation records into a ``MultiDiGraph`` following the graph contract.

    ``graph`` continues an existing graph (e.g. from :func:`kgx.graph.io.load_graph`); its base
    IRI and stored normalisation settings are kept unless given here. ``min_score`` ignores
    records below it.
    """

    def __init__(
        self,
        graph: nx.MultiDiGraph | None = None,
        *,
        base: str | None = None,
        config: NormalizationConfig | None = None,
        aliases: AliasTable | None = None,
        min_score: float = 0.0,
        resolution: ResolutionConfig | None = None,
        kb: KnowledgeBase | None = None,
    ) -> None:
        graph, config, resolution = open_graph(graph, base, config, resolution)
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        self.G = graph
        self.base: str = graph.graph["base"]
        self.config = config or NormalizationConfig()
        self.G.graph[NORM_KEY] = self.config.to_dict()
        self.aliases = aliases
        self.resolution = resolution
        self.resolver = EntityResolver(graph, self.base, self.config, aliases, resolution, kb)
        self.min_score = min_score
        self._strings: dict[str, str] = {}
        self.counters: Counter[str] = Counter()
        self._forms = self._node_forms()
        if min_score > 0:
            self.filter_min_score(min_score)

    @property
    def graph(self) -> nx.MultiDiGraph:
        return self.G

    @property
    def _index(self) -> dict[str, dict[str, Any]]:
        return self.G.graph[DOC_INDEX]

    def _node_forms(self) -> dict[str, dict[str, int]]:
        """Node → surface form → mentions over all documents, kept up to date as documents come
        and go, so that replacing or removing a document costs its own size, not the size of the
        busiest node it mentions. Also sorts each node's ``docs`` once (kept sorted by bisection).
        """
        forms: dict[str, dict[str, int]] = {}
        for entry in self._index.values():
            for iri, counts in entry["nodes"].items():
                node_forms = forms.setdefault(iri, {})
                for form, n in counts.items():
                    node_forms[form] = node_forms.get(form, 0) + n
        for _, data in self.G.nodes(data=True):
            docs = data.get("docs")
            if isinstance(docs, list):
                unique = sorted(set(docs))
                if unique != docs:
                    data["docs"] = unique
        return forms

    # --- entity resolution (kgx.graph.resolve)

    def resolve(self, text: str, type: str) -> str:
        """The node IRI a mention (surface form, entity type) belongs to; logs new decisions."""
        return self.resolver.resolve(text, type)

    def merge_log(self) -> list[dict[str, Any]]:
        """Every surface form seen by this builder → its node (:meth:`EntityResolver.merge_log`)."""
        return self.resolver.merge_log()

    def write_merge_log(self, path: str | Path) -> None:
        """The merge log as JSONL."""
        atomic_write(
            Path(path),
            "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self.resolver.merge_log()),
        )

    # --- adding and removing documents

    def add_records(self, records: Iterable[Record], *, validate: bool = True) -> dict[str, int]:
        """Merge records; documents already in the graph are replaced by this call's records.

        Records of one document may be spread over the iterable (they are merged, and evidence
        repeated inside the call counts once). Records below ``min_score`` are ignored (a
        document whose records are all below it still replaces its old version). Invalid ones
        are logged, counted and skipped; ``validate=False`` skips the check for records that
        were already validated (:mod:`kgx.rundir`'s readers do). Returns this call's counters.

        Memory stays bounded by the graph: a document's records are folded into the graph when
        the next document starts; a document that comes back later in the call is continued.
        """
        counts: Counter[str] = Counter()

        def rows() -> Iterator[Row]:
            for rec in records:
                counts["records"] += 1
                if validate:
                    try:
                        validate_record(rec)
                    except RecordError as e:
                        counts["invalid"] += 1
                        log.warning("skipping an invalid record (%s): %.200r", e, rec)
                        continue
                yield rec["doc_id"], float(rec["score"]), rec

        return self._merge(rows(), self._add_record, counts)

    def _merge(self, rows: Iterable[Row], add: Callable[[Any, _DocBatch], bool],
               counts: Counter[str]) -> dict[str, int]:
        """The loop of :meth:`add_records`: documents opened, replaced, reopened and flushed;
        ``add(payload, state)`` folds one row into its document's pending state."""
        seen: set[str] = set()
        touched_nodes: set[str] = set()
        touched_edges: set[tuple[str, str, str]] = set()
        intern = self._intern
        min_score = self.min_score
        doc_id: str | None = None
        state: _DocBatch | None = None
        for rec_doc, chunk in doc_chunks(rows):
            if state is not None:
                self._flush(doc_id, state, touched_nodes, touched_edges)
            doc_id = intern(rec_doc)
            state = _DocBatch()
            reopened: list[tuple[EvidenceItem, str, str]] = []
            if doc_id in seen:
                counts["reopened_documents"] += 1
                if doc_id in self._index:
                    reopened = self._typed_items([doc_id])
                    self._remove_doc(doc_id, touched_nodes, touched_edges)
            else:
                seen.add(doc_id)
                if doc_id in self._index:
                    self._remove_doc(doc_id, touched_nodes, touched_edges)
                    counts["replaced_documents"] += 1
            # the document's mentions first: a short form resolves against its whole document
            self.resolver.begin_document(doc_id, mentions_of(
                [*reopened, *(p for _, s, p in chunk if s >= min_score)]))
            for item in reopened:
                self._add_item(item, state)
            for _, score, payload in chunk:
                if score < min_score:
                    counts["below_min_score"] += 1
                    continue
                if add(payload, state):
                    counts["added"] += 1
                else:
                    counts["duplicate_evidence"] += 1
        if state is not None:
            self._flush(doc_id, state, touched_nodes, touched_edges)
        counts["documents"] = len(seen)
        self._refresh(touched_nodes, touched_edges)
        self.counters.update(counts)
        return dict(counts)

    def _intern(self, text: str) -> str:
        """One shared string object per distinct value (doc ids, texts, models repeat a lot)."""
        return self._strings.setdefault(text, text)

    def _add_record(self, rec: Record, state: _DocBatch) -> bool:
        """Fold one record into its document's pending state; False for repeated evidence."""
        head, tail = rec["head"], rec["tail"]
        h = self.resolve(head["text"], head["label"])
        t = self.resolve(tail["text"], tail["label"])
        return self._add_evidence(state, h, head["label"], t, tail["label"],
                                  self._intern(rec["relation"]), to_evidence(rec, self._intern))

    def _add_item(self, item: tuple[EvidenceItem, str, str], state: _DocBatch) -> bool:
        """Fold one evidence item taken from the graph (with its nodes' types) back in."""
        (h, t, label, old), h_type, t_type = item
        intern = self._intern
        if self.resolution.enabled:  # resolved again: its document or the merges changed
            h = self.resolve(old["head_text"], h_type)
            t = self.resolve(old["tail_text"], t_type)
        ev = {k: old[k] for k in EVIDENCE_FIELDS}
        ev["score"] = float(ev["score"])
        for key in ("doc_id", "head_text", "tail_text"):
            ev[key] = intern(ev[key])
        ev["model"] = intern(str(ev["model"]))
        if isinstance(old.get("sentence"), str):
            ev["sentence"] = old["sentence"]
        return self._add_evidence(state, h, h_type, t, t_type, label, ev)

    def _add_evidence(self, state: _DocBatch, h: str, h_type: str, t: str, t_type: str,
                      label: str, ev: dict[str, Any]) -> bool:
        G = self.G
        hs, he, ts, te = ev["head_start"], ev["head_end"], ev["tail_start"], ev["tail_end"]
        ekey = (h, label, t, hs, he, ts, te)
        old = state.evidence.get(ekey)
        if old is not None:
            if ev["score"] > old["score"]:
                old["score"] = ev["score"]
            return False
        for iri, start, end, text, type_ in ((h, hs, he, ev["head_text"], h_type),
                                             (t, ts, te, ev["tail_text"], t_type)):
            skey = (start, end, iri)
            if skey not in state.spans:
                state.spans.add(skey)
                forms = state.nodes[iri]
                forms[text] = forms.get(text, 0) + 1
                if iri not in G:
                    G.add_node(iri, label=self._intern(type_), name=text, aliases=[],
                               mentions=0, docs=[])
                    kb_id = self.resolver.kb_ids.get(iri)
                    if kb_id is not None:
                        G.nodes[iri]["kb_id"] = kb_id
        sentence = ev.get("sentence")
        if isinstance(sentence, str):
            ev["sentence"] = state.sentences.setdefault(sentence, sentence)
        state.evidence[ekey] = ev
        return True

    def _flush(
        self, doc_id: str | None, state: _DocBatch, touched_nodes: set[str],
        touched_edges: set[tuple[str, str, str]],
    ) -> None:
        """Move a document's pending evidence and mentions into the graph and the index."""
        if doc_id is None or not state.nodes:
            return
        adj = self.G._adj  # the MultiDiGraph's successor dicts: u -> v -> key -> data
        edges: set[tuple[str, str, str]] = set()
        for (h, label, t, *_), ev in state.evidence.items():
            keydict = adj[h].get(t)
            data = keydict.get(label) if keydict is not None else None
            if data is not None:
                data["evidence"].append(ev)
            else:
                self.G.add_edge(h, t, key=label, score=0.0, count=0, evidence=[ev])
            edges.add((h, label, t))
        touched_edges |= edges
        nodes = self.G.nodes
        all_forms = self._forms
        for iri, counts in state.nodes.items():
            docs = nodes[iri]["docs"]
            i = bisect_left(docs, doc_id)
            if i == len(docs) or docs[i] != doc_id:
                docs.insert(i, doc_id)
            node_forms = all_forms.setdefault(iri, {})
            for form, n in counts.items():
                node_forms[form] = node_forms.get(form, 0) + n
            touched_nodes.add(iri)
        self._index[doc_id] = {
            "nodes": dict(state.nodes),
            "edges": sorted([h, label, t] for h, label, t in edges),
        }

    def _typed_items(self, doc_ids: Iterable[str]) -> list[tuple[EvidenceItem, str, str]]:
        """The documents' evidence in the graph, each with its head and tail types."""
        nodes = self.G.nodes
        return [(item, nodes[item[0]]["label"], nodes[item[1]]["label"])
                for item in evidence_items(self.G, doc_ids)]

    def remove_document(self, doc_id: str) -> bool:
        """Remove a document's evidence and mentions; False when it is not in the graph."""
        if doc_id not in self._index:
            return False
        nodes: set[str] = set()
        edges: set[tuple[str, str, str]] = set()
        self._remove_doc(doc_id, nodes, edges)
        self._refresh(nodes, edges)
        return True

    def documents(self) -> list[str]:
        """The documents in the graph."""
        return sorted(self._index)

    def _remove_doc(self, doc_id: str, nodes: set[str], edges: set[tuple[str, str, str]]) -> None:
        entry = self._index.pop(doc_id)
        G = self.G
        adj, node_data = G._adj, G._node  # direct access: this runs once per replaced document
        for h, label, t in entry["edges"]:
            data = adj.get(h, {}).get(t, {}).get(label)
            if data is not None:
                data["evidence"] = [ev for ev in data["evidence"] if ev["doc_id"] != doc_id]
                edges.add((h, label, t))
        all_forms = self._forms
        for iri, counts in entry["nodes"].items():
            data = node_data.get(iri)
            if data is None:
                continue
            docs = data["docs"]
            i = bisect_left(docs, doc_id)
            if i < len(docs) and docs[i] == doc_id:
                del docs[i]
            node_forms = all_forms.get(iri, {})
            for form, n in counts.items():
                left = node_forms.get(form, 0) - n
                if left > 0:
                    node_forms[form] = left
                else:
                    node_forms.pop(form, None)
            nodes.add(iri)

    def _refresh(self, nodes: set[str], edges: set[tuple[str, str, str]]) -> None:
        """Recompute aggregates of touched edges and nodes; drop those left unsupported."""
        G = self.G
        for h, label, t in edges:
            if not G.has_edge(h, t, key=label):
                continue
            data = G.edges[h, t, label]
            evidence = data["evidence"]
            if not evidence:
                G.remove_edge(h, t, key=label)
                continue
            evidence.sort(key=evidence_sort_key)
            data["score"] = aggregate_score(evidence)
            data["count"] = len(evidence)
        removed: set[str] = set()
        for iri in nodes:
            if iri not in G:
                continue
            data = G.nodes[iri]
            forms = self._forms.get(iri)
            if not data["docs"] or not forms:
                G.remove_node(iri)
                self._forms.pop(iri, None)
                removed.add(iri)
                continue
            type_, full = data["label"], self.resolver.fullness  # the fullest name, if resolving
            on = self.resolution.enabled
            # then one as a reader sees it (no invisible characters, line breaks or words
            # broken at a line end: display_name), the most frequent, the longest; shown tidied
            name = min(forms, key=lambda f: (-on * full(f, type_),
                                             bool(IGNORABLE.search(f)) or display_name(f) != f,
                                             -forms[f], -on * len(f), f))
            data["name"] = display_name(name) or name
            data["aliases"] = sorted(f for f in forms if f != data["name"])
            data["mentions"] = sum(forms.values())
        if removed:
            self.resolver.forget(removed)

    def resolve_across_documents(self) -> int:
        """Merge nodes across documents (:mod:`kgx.graph.candidates`: acronyms defined in a
        document, names equal up to diacritics, scored against the threshold), resolve the
        documents that mention a merged node again, and keep the merges in the graph
        (:func:`kgx.graph.candidates.apply_merges`). Returns the number of keys merged."""
        mapping = cross_document_merges(self.G, self.resolver)
        if mapping:
            affected = apply_merges(self.G, self.resolver, mapping)
            items = sorted(self._typed_items(affected), key=lambda it: it[0][3]["doc_id"])
            counters = self.counters.copy()
            self._merge(((it[0][3]["doc_id"], float(it[0][3]["score"]), it) for it in items),
                        self._add_item, Counter())
            self.counters = counters
            log.info("resolution: %d keys merged, %d documents again", len(mapping), len(affected))
        return len(mapping)

    # --- filtering and statistics

    def filter_min_score(self, min_score: float) -> int:
        """Drop evidence below ``min_score`` from the graph, as if those records had been ignored.

        Affected documents are rebuilt from their remaining evidence, so mentions, aliases and
        nodes left without support follow. Returns the number of evidence items dropped.
        """
        G = self.G
        low_docs: set[str] = set()
        for _, _, data in G.edges(data=True):
            for ev in data["evidence"]:
                if ev["score"] < min_score:
                    low_docs.add(ev["doc_id"])
        if not low_docs:
            return 0
        kept: list[tuple[EvidenceItem, str, str]] = []
        dropped = 0
        for item in self._typed_items(low_docs):
            if item[0][3]["score"] < min_score:
                dropped += 1
            else:
                kept.append(item)
        nodes: set[str] = set()
        edges: set[tuple[str, str, str]] = set()
        for doc_id in low_docs:
            self._remove_doc(doc_id, nodes, edges)
        self._refresh(nodes, edges)
        previous, self.min_score = self.min_score, 0.0
        counts: Counter[str] = Counter()

        def rows() -> Iterator[Row]:
            for item in kept:
                counts["records"] += 1
                ev = item[0][3]
                yield ev["doc_id"], float(ev["score"]), item

        try:
            self._merge(rows(), self._add_item, counts)
        finally:
            self.min_score = previous
        log.info("min-score %.3f: dropped %d evidence items from %d documents",
                 min_score, dropped, len(low_docs))
        return dropped

    def stats(self, top: int = 10) -> dict[str, Any]:
        """Graph statistics plus this builder's record counters."""
        result = graph_stats(self.G, top=top)
        result["records"] = dict(sorted(self.counters.items()))
        result["surface_forms"] = len(self.resolver.merge_log())
        return result
