"""Entity resolution: a mention (surface form, entity type) → the IRI of its node.

A mention resolves through the normalisation (:mod:`kgx.graph.normalize`), an optional alias
table (:mod:`kgx.graph.aliases`) and, with ``merge_across_types``, a node of another type with
the same normalised name (the node then keeps the type under which it was first created).
Every decision is recorded with the rules that applied (:meth:`EntityResolver.merge_log`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from kgx.graph.aliases import AliasTable
from kgx.graph.iris import entity_iri
from kgx.graph.normalize import (
    WHITESPACE,
    NormalizationConfig,
    explain_normalization,
    normalize_name,
)


class EntityResolver:
    """Resolves mentions to node IRIs of ``graph`` (read for cross-type merging only)."""

    def __init__(self, graph: nx.MultiDiGraph, base: str, config: NormalizationConfig,
                 aliases: AliasTable | None = None) -> None:
        self.G = graph
        self.base = base
        self.config = config
        self._alias_map = aliases.compiled(config) if aliases else {}
        self._resolved: dict[tuple[str, str], str] = {}
        self._log: list[dict[str, Any]] = []
        self._by_norm: dict[str, str] | None = None

    def _norm_registry(self) -> dict[str, str]:
        """Normalised name → node, for merging across types (built from the graph once)."""
        if self._by_norm is None:
            self._by_norm = {}
            for node, data in self.G.nodes(data=True):
                for form in [data.get("name", ""), *data.get("aliases", [])]:
                    if form:
                        self._by_norm.setdefault(normalize_name(form, self.config), node)
        return self._by_norm

    def resolve(self, text: str, type: str) -> str:
        """The node IRI a mention (surface form, entity type) belongs to; logs new decisions."""
        key = (text, type)
        iri = self._resolved.get(key)
        if iri is not None:
            return iri
        norm, rules = explain_normalization(text, self.config)
        if not norm:
            norm = WHITESPACE.sub(" ", text).strip().casefold()
            rules = [*rules, "fallback"]
        rule = "normalization" if rules else "exact"
        canonical = self._alias_map.get((type, norm)) or self._alias_map.get((None, norm))
        if canonical is not None:
            norm = normalize_name(canonical, self.config) or canonical
            rule = "alias-table"
        iri = entity_iri(self.base, type, norm)
        if self.config.merge_across_types:
            registry = self._norm_registry()
            existing = registry.setdefault(norm, iri)
            if existing != iri:
                iri, rule = existing, "cross-type"
        self._resolved[key] = iri
        self._log.append({"surface": text, "type": type, "normalized": norm, "node": iri,
                          "rule": rule, "steps": rules,
                          **({"canonical": canonical} if canonical is not None else {})})
        return iri

    def forget(self, removed: Iterable[str]) -> None:
        """Nodes left the graph. Under cross-type merging a mention may have been resolved to a
        node of another type that is now gone: forget those decisions so the next mention mints
        its own node."""
        if self.config.merge_across_types:
            gone = set(removed)
            self._by_norm = None
            self._resolved = {k: v for k, v in self._resolved.items() if v not in gone}

    def merge_log(self) -> list[dict[str, Any]]:
        """Every surface form seen → its node, with the rule that decided it.

        ``rule``: ``exact`` (the form is its own normalised name), ``normalization`` (``steps``
        lists what changed it), ``alias-table`` (``canonical`` is the table's name), or
        ``cross-type`` (joined a node of another type, ``merge_across_types``).
        """
        return list(self._log)
