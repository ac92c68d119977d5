"""Entity resolution: a mention (surface form, entity type, document) → the IRI of its node.

A mention resolves in four steps, each recorded in the merge log (:meth:`EntityResolver.merge_log`):

1. its *key*: the normalisation (:mod:`kgx.graph.normalize`), an optional alias table
   (:mod:`kgx.graph.aliases`) or knowledge base (:mod:`kgx.graph.kb`), then, with resolution on
   (:class:`ResolutionConfig`), organisation designators and personal titles dropped
   (:func:`kgx.graph.names.entity_key`: "Acme Corp." and "Acme Corporation" → ``acme``);
2. within its document: a short form that one full name of the same type in that document
   explains ("Lopez" → "Maria Lopez", "Dr. Chen" → "Wei Chen", "WHO" → "World Health
   Organization") takes that name's key; a short form two full names share stays itself;
3. across documents: :mod:`kgx.graph.candidates` scores acronyms defined elsewhere and names
   equal up to diacritics, and the merges above the threshold go into ``global_map``;
4. the IRI: :func:`kgx.graph.iris.entity_iri` of the type and key (with ``merge_across_types``,
   a node of another type with the same key is joined).

Keys depend only on the form, its document and (step 3) on the whole set of documents, never on
the order in which records arrive, so a graph is the same however it was built.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx

from kgx.graph.aliases import AliasTable
from kgx.graph.iris import entity_iri
from kgx.graph.names import entity_key, looks_like_acronym, short_form_of
from kgx.graph.normalize import (
    WHITESPACE,
    NormalizationConfig,
    explain_normalization,
    normalize_name,
)

if TYPE_CHECKING:
    from kgx.graph.kb import KnowledgeBase

RESOLUTION_KEY = "kgx_resolution"
MERGES_KEY = "kgx_merges"  # the cross-document merges, kept in the graph


@dataclass(frozen=True)
class ResolutionConfig:
    """What entity resolution does beyond normalisation (``enabled=False``: the old behaviour,
    mentions merge only when their normalised names are equal).

    ``threshold``: a cross-document candidate pair merges when
    ``sim_weight * string similarity + (1 - sim_weight) * shared-neighbour overlap`` reaches it.
    """

    enabled: bool = True
    designators: bool = True
    titles: bool = True
    within_document: bool = True
    acronyms: bool = True
    diacritics: bool = True
    threshold: float = 0.8
    sim_weight: float = 0.6

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResolutionConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def doc_chunks(rows: Iterable[tuple[str, float, Any]]
               ) -> Iterator[tuple[str, list[tuple[str, float, Any]]]]:
    """Consecutive rows of one document, together."""
    doc: str | None = None
    chunk: list[tuple[str, float, Any]] = []
    for row in rows:
        if row[0] != doc and chunk:
            yield chunk[0][0], chunk
            chunk = []
        doc = row[0]
        chunk.append(row)
    if chunk:
        yield chunk[0][0], chunk


def mentions_of(payloads: list[Any]) -> Iterator[tuple[str, str]]:
    """``(text, type)`` of the heads and tails of records or evidence items."""
    for p in payloads:
        if isinstance(p, dict):
            yield p["head"]["text"], p["head"]["label"]
            yield p["tail"]["text"], p["tail"]["label"]
        else:
            (_, _, _, ev), h_type, t_type = p
            yield ev["head_text"], h_type
            yield ev["tail_text"], t_type


class EntityResolver:
    """Resolves mentions to node IRIs of ``graph`` (read for cross-type merging only)."""

    def __init__(self, graph: nx.MultiDiGraph, base: str, config: NormalizationConfig,
                 aliases: AliasTable | None = None, resolution: ResolutionConfig | None = None,
                 kb: KnowledgeBase | None = None) -> None:
        self.G = graph
        self.base = base
        self.config = config
        self.resolution = resolution or ResolutionConfig(enabled=False)
        self._alias_map = aliases.compiled(config) if aliases else {}
        self._kb_map = kb.compiled(config) if kb else {}
        self._local: dict[tuple[str, str], tuple[str, str]] = {}  # (text, type) -> (key, rule)
        self._designated: set[tuple[str, str]] = set()
        self._iris: dict[tuple[str, str], str] = {}  # (type, key) -> IRI
        self.node_keys: dict[str, tuple[str, str]] = {}  # IRI -> (type, key)
        self.kb_ids: dict[str, str] = {}  # IRI -> knowledge-base id
        self.global_map: dict[tuple[str, str], str] = {}  # (type, key) -> key it merged into
        self.acronyms: dict[tuple[str, str], set[str]] = defaultdict(set)  # (type, ACR) -> keys
        self._doc: str | None = None
        self._doc_map: dict[tuple[str, str], tuple[str, str]] = {}  # (type, key) -> (key, rule)
        self._logged_doc: set[tuple[str, str, str]] = set()
        self._log: list[dict[str, Any]] = []
        self.merges: list[dict[str, Any]] = []  # cross-document decisions (kgx.graph.candidates)
        self._by_norm: dict[str, str] | None = None
        for m in graph.graph.get(MERGES_KEY) or []:  # a graph continued keeps its merges
            if isinstance(m, dict) and m.get("merged"):
                self.merges.append(m)
                self.global_map[(m["type"], m["from"])] = m["key"]

    def _norm_registry(self) -> dict[str, str]:
        """Normalised name → node, for merging across types (built from the graph once)."""
        if self._by_norm is None:
            self._by_norm = {}
            for node, data in self.G.nodes(data=True):
                for form in [data.get("name", ""), *data.get("aliases", [])]:
                    if form:
                        self._by_norm.setdefault(normalize_name(form, self.config), node)
        return self._by_norm

    # --- step 1: the key of a form

    def fullness(self, text: str, type: str) -> int:
        """How full a name a form is (its key's words, one more for a designator): the fullest
        form names a node."""
        return self.local_key(text, type)[0].count(" ") + ((text, type) in self._designated)

    def local_key(self, text: str, type: str) -> tuple[str, str]:
        """``(key, rule)`` of a surface form, before its document and other documents count."""
        hit = self._local.get((text, type))
        if hit is not None:
            return hit
        norm, steps = explain_normalization(text, self.config)
        if not norm:
            norm = WHITESPACE.sub(" ", text).strip().casefold()
            steps = [*steps, "fallback"]
        rule = "normalization" if steps else "exact"
        entry: dict[str, Any] = {"surface": text, "type": type}
        canonical = self._alias_map.get((type, norm)) or self._alias_map.get((None, norm))
        if canonical is not None:
            norm = normalize_name(canonical, self.config) or canonical
            rule = "alias-table"
            entry["canonical"] = canonical
        res = self.resolution
        if res.enabled:
            key, more = entity_key(norm, type)
            more = [r for r in more if (r == "designator" and res.designators)
                    or (r == "title" and res.titles)]
            if more:
                if "designator" in more:
                    self._designated.add((text, type))
                norm, steps = key, [*steps, *more]
                rule = "normalization" if rule == "exact" else rule
            kb = self._kb_map.get((type, norm))
            if kb is not None:
                entry["kb_id"], norm, rule = kb[0], kb[1], "knowledge-base"
        self._local[(text, type)] = (norm, rule)
        self._log.append({**entry, "normalized": norm, "rule": rule, "steps": steps})
        return norm, rule

    # --- step 2: the document

    def begin_document(self, doc_id: str, mentions: Iterable[tuple[str, str]]) -> None:
        """The document whose mentions come next, with all its mentions ``(text, type)``: short
        forms explained by exactly one full name of the document take that name's key."""
        self._doc = doc_id
        self._doc_map = {}
        res = self.resolution
        if not (res.enabled and res.within_document):
            return
        by_type: dict[str, dict[str, bool]] = defaultdict(dict)  # type -> key -> written as ACR
        for text, type_ in mentions:
            key = self.local_key(text, type_)[0]
            keys = by_type[type_]
            keys[key] = keys.get(key, False) or (res.acronyms and looks_like_acronym(text))
        for type_, keys in by_type.items():
            if len(keys) < 2:
                continue
            for short, acronym in keys.items():
                found = {(long, rule) for long in keys
                         if (rule := short_form_of(short, long, type_, acronym)) is not None}
                targets = {long for long, _ in found}
                # "Chen" with "Wei Chen" and "Dr Wei Chen": the longer names are one
                targets = {t for t in targets
                           if not any(short_form_of(t, o, type_, False) for o in targets)}
                if len(targets) == 1:
                    long = targets.pop()
                    rule = next(r for lg, r in found if lg == long)
                    self._doc_map[(type_, short)] = (long, rule)
                    if rule == "acronym":
                        self.acronyms[(type_, short)].add(long)
                elif len(targets) > 1:
                    self._doc_map[(type_, short)] = (short, "ambiguous")

    # --- step 4: the IRI

    def resolve(self, text: str, type: str) -> str:
        """The node IRI a mention (surface form, entity type) of the current document belongs to."""
        key, rule = self.local_key(text, type)
        doc_hit = self._doc_map.get((type, key))
        if doc_hit is not None:
            long, doc_rule = doc_hit
            seen = (self._doc or "", text, type)
            if seen not in self._logged_doc:
                self._logged_doc.add(seen)
                self._log.append({"surface": text, "type": type, "doc_id": self._doc,
                                  "normalized": key, "rule": doc_rule, "target": long})
            key = long
        key = self.global_map.get((type, key), key)
        return self._iri(type, key)

    def _iri(self, type: str, key: str) -> str:
        iri = self._iris.get((type, key))
        if iri is not None:
            return iri
        iri = entity_iri(self.base, type, key)
        if self.config.merge_across_types:
            registry = self._norm_registry()
            existing = registry.setdefault(key, iri)
            if existing != iri:
                iri = existing
        self._iris[(type, key)] = iri
        self.node_keys.setdefault(iri, (type, key))
        kb = self._kb_map.get((type, key))
        if kb is not None:
            self.kb_ids[iri] = kb[0]
        return iri

    def forget(self, removed: Iterable[str]) -> None:
        """Nodes left the graph. Under cross-type merging a mention may have been resolved to a
        node of another type that is now gone: forget those decisions so the next mention mints
        its own node."""
        if self.config.merge_across_types:
            gone = set(removed)
            self._by_norm = None
            self._iris = {k: v for k, v in self._iris.items() if v not in gone}

    def merge_log(self) -> list[dict[str, Any]]:
        """Every surface form seen → its key, with the rule that decided it, then every
        within-document and cross-document merge.

        ``rule``: ``exact`` (the form is its own key), ``normalization`` (``steps`` lists what
        changed it: ``casefold``, ``punctuation``, ``designator``, ``title``, …), ``alias-table``
        (``canonical``), ``knowledge-base`` (``kb_id``), ``cross-type``; within a document
        (``doc_id``, ``target``): ``surname``, ``short-name``, ``acronym``, or ``ambiguous`` (a
        short form two names of the document share, kept apart); across documents (``from``,
        ``into``, ``score``, ``threshold``, ``reason``): ``acronym-defined``, ``diacritics``,
        and the candidates below the threshold or kept apart with ``merged: false``.
        """
        out = []
        for e in self._log:
            if "node" not in e and "doc_id" not in e:
                key = self.global_map.get((e["type"], e["normalized"]), e["normalized"])
                own = entity_iri(self.base, e["type"], key)
                node = self._iris.get((e["type"], key)) or own
                e = {**e, "node": node}
                if node != own:
                    e["rule"] = "cross-type"
            elif "doc_id" in e:
                key = self.global_map.get((e["type"], e["target"]), e["target"])
                e = {**e, "node": self._iri(e["type"], key)}
            out.append(e)
        return out + list(self.merges)
