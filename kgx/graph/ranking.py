"""Ranking: entities related to an entity, by personalised PageRank (``kgx related``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from kgx.graph.normalize import NormalizationConfig, normalize_name
from kgx.graph.schema import NORM_KEY


def match_entities(
    G: nx.MultiDiGraph, entity: str, config: NormalizationConfig | None = None
) -> list[str]:
    """Nodes matching ``entity``: its IRI, else its name or an alias under the normalisation."""
    if entity in G:
        return [entity]
    if config is None and isinstance(G.graph.get(NORM_KEY), dict):
        config = NormalizationConfig.from_dict(G.graph[NORM_KEY])
    config = config or NormalizationConfig()
    target = normalize_name(entity, config)
    if not target:
        return []
    return sorted(
        node for node, data in G.nodes(data=True)
        if any(normalize_name(f, config) == target
               for f in [data.get("name", ""), *data.get("aliases", [])] if f)
    )


def _component(G: nx.MultiDiGraph, seeds: Iterable[str]) -> list[str]:
    """Nodes weakly connected to any seed (breadth first, both edge directions)."""
    seen = dict.fromkeys(seeds)
    frontier = list(seen)
    while frontier:
        nxt = []
        for node in frontier:
            for nbr in (*G.succ[node], *G.pred[node]):
                if nbr not in seen:
                    seen[nbr] = None
                    nxt.append(nbr)
        frontier = nxt
    return list(seen)


def personalized_pagerank(
    G: nx.MultiDiGraph, seeds: Iterable[str], weight: str = "score", alpha: float = 0.85,
    tol: float = 1e-10, max_iter: int = 500,
) -> dict[str, float]:
    """Personalised PageRank with edges walked in both directions, weighted by ``weight``.

    The walk restarts at the seeds with probability ``1 - alpha``; from a node it follows an edge
    with probability proportional to the edge's weight (parallel edges add up; self-loops are
    ignored); a node without edges sends its mass back to the seeds. Only the seeds' weak
    component can be reached, so only it is computed (NumPy power iteration, no SciPy).
    """
    import numpy as np

    seeds = [s for s in seeds if s in G]
    if not seeds:
        return {}
    nodes = _component(G, seeds)
    pos = {n: i for i, n in enumerate(nodes)}
    src: list[int] = []
    dst: list[int] = []
    wts: list[float] = []
    for u in nodes:
        i = pos[u]
        for v, keydict in G.succ[u].items():
            if v == u:
                continue
            j = pos[v]
            w = sum(float(d.get(weight, 1.0)) for d in keydict.values())
            if w > 0:
                src += (i, j)
                dst += (j, i)
                wts += (w, w)
    n = len(nodes)
    s_arr, d_arr = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    w_arr = np.asarray(wts, dtype=np.float64)
    strength = np.bincount(s_arr, weights=w_arr, minlength=n)
    prob = w_arr / strength[s_arr] if len(w_arr) else w_arr
    dangling = strength <= 0
    restart = np.zeros(n)
    restart[[pos[s] for s in seeds]] = 1.0 / len(seeds)
    rank: np.ndarray = restart.copy()
    for _ in range(max_iter):
        new = alpha * np.bincount(d_arr, weights=rank[s_arr] * prob, minlength=n)
        new += ((1.0 - alpha) + alpha * rank[dangling].sum()) * restart
        err = float(np.abs(new - rank).sum())
        rank = new
        if err < tol:
            break
    return {node: float(rank[i]) for i, node in enumerate(nodes)}


def related(
    G: nx.MultiDiGraph, entity: str, top: int = 10, config: NormalizationConfig | None = None
) -> list[dict[str, Any]]:
    """Entities related to ``entity``, ranked by personalised PageRank from its node(s).

    Edges are weighted by their aggregated score and walked in both directions (parallel edges
    add up). The matched entity itself is excluded. Raises ``KeyError`` when nothing matches.
    """
    seeds = match_entities(G, entity, config)
    if not seeds:
        raise KeyError(f"no entity matches {entity!r}")
    rank = personalized_pagerank(G, seeds)
    seed_set = set(seeds)
    ranked = sorted(
        ((n, r) for n, r in rank.items() if n not in seed_set and r > 0),
        key=lambda x: (-x[1], x[0]),
    )[:top]
    return [
        {"node": n, "name": G.nodes[n].get("name", ""), "label": G.nodes[n].get("label", ""),
         "score": round(r, 6)}
        for n, r in ranked
    ]
