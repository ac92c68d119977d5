"""Cross-document merge candidates, scored, merged above a threshold, every decision logged.

Two kinds of candidate pairs of nodes of one type:

- ``acronym-defined``: a node named by an acronym (``WHO``) and the one name that documents
  define it as (the within-document rule saw ``WHO`` beside ``World Health Organization``);
  score 1.0 when exactly one name was defined for it, no candidate otherwise.
- ``diacritics``: two keys equal once diacritics are removed (``zoë …`` / ``zoe …``); score
  ``w * similarity + (1 - w) * overlap``: the string similarity of the keys and the overlap
  coefficient of their neighbours (the other nodes they share facts with).

Pairs are taken best first; a pair whose clusters share a document is kept apart (that document
names two entities), as is one below the threshold. Every candidate goes into the merge log.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import networkx as nx

from kgx.graph.names import fold, similarity
from kgx.graph.normalize import NormalizationConfig
from kgx.graph.resolve import MERGES_KEY, RESOLUTION_KEY, EntityResolver, ResolutionConfig
from kgx.graph.schema import DOC_INDEX, NORM_KEY


def _neighbours(G: nx.MultiDiGraph, iri: str) -> set[str]:
    return set(G._succ[iri]) | set(G._pred[iri])


def cross_document_merges(G: nx.MultiDiGraph, resolver: EntityResolver
                          ) -> dict[tuple[str, str], str]:
    """``(type, key)`` → the key it merges into; appends the decisions to ``resolver.merges``."""
    res = resolver.resolution
    if not res.enabled or not (res.acronyms or res.diacritics):
        return {}
    node_of: dict[tuple[str, str], str] = {}
    for iri, tk in resolver.node_keys.items():
        if iri in G and tk[1] == resolver.global_map.get(tk, tk[1]):
            node_of[tk] = iri
    pairs: list[tuple[float, str, tuple[str, str], tuple[str, str], str]] = []
    if res.acronyms:
        for (type_, acr), longs in sorted(resolver.acronyms.items()):
            if (type_, acr) in node_of and len(longs) == 1:
                long = next(iter(longs))
                if (type_, long) in node_of:
                    pairs.append((1.0, "acronym-defined", (type_, acr), (type_, long),
                                  f"{acr.upper()} is defined as {long!r} in a document"))
    if res.diacritics:
        groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for tk in node_of:
            folded = fold(tk[1])
            if folded != tk[1] or (tk[0], folded) in groups:
                groups[(tk[0], folded)].append(tk)
        for (type_, folded), members in groups.items():
            if (type_, folded) in node_of and (type_, folded) not in members:
                members.append((type_, folded))
            members.sort()
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    na, nb = _neighbours(G, node_of[a]), _neighbours(G, node_of[b])
                    na.discard(node_of[b])
                    nb.discard(node_of[a])
                    overlap = len(na & nb) / min(len(na), len(nb)) if na and nb else 0.0
                    sim = similarity(a[1], b[1])
                    score = round(res.sim_weight * sim + (1 - res.sim_weight) * overlap, 4)
                    pairs.append((score, "diacritics", a, b,
                                  f"equal without diacritics; similarity {sim:.3f}, "
                                  f"shared neighbours {len(na & nb)} (overlap {overlap:.2f})"))
    if not pairs:
        return {}
    parent: dict[tuple[str, str], tuple[str, str]] = {}
    docs: dict[tuple[str, str], set[str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    def cluster_docs(x: tuple[str, str]) -> set[str]:
        if x not in docs:
            docs[x] = set(G.nodes[node_of[x]].get("docs", []))
        return docs[x]

    for score, rule, a, b, reason in sorted(pairs, key=lambda p: (-p[0], p[2], p[3])):
        entry: dict[str, Any] = {"rule": rule, "type": a[0], "from": a[1], "into": b[1],
                                 "score": score, "threshold": res.threshold, "reason": reason}
        ra, rb = find(a), find(b)
        if score < res.threshold:
            entry.update(merged=False, why="below the threshold")
        elif ra == rb:
            entry.update(merged=True, why="already in one cluster")
        elif cluster_docs(ra) & cluster_docs(rb):
            entry.update(merged=False, why="one document names both as different entities")
        else:
            parent[ra] = rb
            docs[rb] = cluster_docs(ra) | cluster_docs(rb)
            entry["merged"] = True
        resolver.merges.append(entry)
    clusters: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for x in parent.keys() | set(parent.values()):
        clusters[find(x)].append(x)
    mapping: dict[tuple[str, str], str] = {}
    for members in clusters.values():
        def rank(tk: tuple[str, str]) -> tuple:
            data = G.nodes[node_of[tk]]
            return (" " not in tk[1], -int(data.get("mentions", 0)), -len(tk[1]), tk[1])
        canonical = min(members, key=rank)
        for tk in members:
            if tk != canonical:
                mapping[tk] = canonical[1]
    for entry in resolver.merges:
        if entry.get("merged"):
            entry["key"] = mapping.get((entry["type"], entry["into"]), entry["into"])
            entry["node"] = resolver._iri(entry["type"], entry["key"])
    return mapping


def apply_merges(G: nx.MultiDiGraph, resolver: EntityResolver,
                 mapping: dict[tuple[str, str], str]) -> set[str]:
    """Add ``mapping`` to the resolver's cross-document map (chains followed to their end) and
    the merges to the graph (:data:`MERGES_KEY`); returns the documents that mention a node
    merged away (to be resolved again)."""
    G.graph[MERGES_KEY] = [m for m in resolver.merges if m.get("merged")]
    gm = resolver.global_map
    gm.update(mapping)
    for tk, key in list(gm.items()):
        seen = {key}
        while (tk[0], key) in gm and gm[(tk[0], key)] not in seen:
            key = gm[(tk[0], key)]
            seen.add(key)
        gm[tk] = key
    affected: set[str] = set()
    for tk in mapping:
        iri = resolver._iris.get(tk)
        if iri is not None and iri in G:
            affected.update(G.nodes[iri]["docs"])
    return affected


def resolution_notes(G: nx.MultiDiGraph, resolver: EntityResolver,
                     forms: dict[str, dict[str, int]]) -> dict[str, list[dict[str, Any]]]:
    """Node → why it holds each of its forms ``forms[node]`` that is not its plain name (what
    ``kgx graph --explain`` shows): designators and titles dropped, alias-table and
    knowledge-base links, within-document short forms (``surname``, ``short-name``,
    ``acronym``, and ``ambiguous`` ones kept apart) and cross-document merges. A function of
    the graph's current forms, so an update and a build from scratch store the same notes."""
    local: dict[tuple[str, str], dict[str, Any]] = {}
    within: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for e in resolver._log:
        if "doc_id" in e:
            within[(e["surface"], e["type"])].add((e["rule"], e["target"]))
        else:
            local[(e["surface"], e["type"])] = e
    notes: dict[str, list[dict[str, Any]]] = {}
    for node in sorted(forms):
        if node not in G:
            continue
        type_ = G.nodes[node]["label"]
        out: list[dict[str, Any]] = []
        for form in sorted(forms[node]):
            first = local.get((form, type_))
            if first is not None and (first["rule"] in ("alias-table", "knowledge-base") or (
                    {"designator", "title"} & set(first["steps"]))):
                out.append({k: v for k, v in first.items() if k != "type"})
            for rule, target in sorted(within.get((form, type_), ())):
                key = resolver.global_map.get((type_, target), target)
                if resolver._iri(type_, key) == node:
                    out.append({"surface": form, "rule": rule, "target": target})
        for m in resolver.merges:
            if m.get("merged") and m.get("node") == node and m not in out:
                out.append(m)
        if out:
            notes[node] = out
    return notes


def explain_entity(G: nx.MultiDiGraph, nodes: list[str]) -> list[dict[str, Any]]:
    """What ``kgx graph --explain`` prints for each node: name, type, knowledge-base id, its
    forms with their mention counts, and why it holds each (:func:`resolution_notes`), the
    decisions replayed from the graph's settings and per-document index (an alias table or
    knowledge base used at build time is not in the graph: its links show as the node's
    ``kb_id`` and forms) plus the cross-document merges kept under :data:`MERGES_KEY`."""
    norm = G.graph.get(NORM_KEY)
    res = G.graph.get(RESOLUTION_KEY)
    resolver = EntityResolver(
        G, G.graph.get("base") or "", NormalizationConfig.from_dict(norm or {}),
        resolution=ResolutionConfig.from_dict(res) if isinstance(res, dict) else None)
    index = G.graph.get(DOC_INDEX) or {}
    forms: dict[str, dict[str, int]] = {}
    for node in nodes:
        type_, node_forms = G.nodes[node]["label"], forms.setdefault(node, {})
        for d in G.nodes[node].get("docs", []):
            entry = index.get(d, {}).get("nodes", {})
            resolver.begin_document(d, ((f, G.nodes[n]["label"]) for n, fs in entry.items()
                                        if n in G for f in fs))
            for form, n in entry.get(node, {}).items():
                resolver.resolve(form, type_)
                node_forms[form] = node_forms.get(form, 0) + n
    notes = resolution_notes(G, resolver, forms)
    return [{"node": node, "name": G.nodes[node].get("name"), "type": G.nodes[node]["label"],
             "kb_id": G.nodes[node].get("kb_id"), "documents": len(G.nodes[node]["docs"]),
             "forms": dict(sorted(forms[node].items(), key=lambda f: (-f[1], f[0]))),
             "decisions": notes.get(node, [])} for node in nodes]
