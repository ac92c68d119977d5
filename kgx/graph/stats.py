"""Graph statistics (``kgx graph --stats``): counts by type and label, components, top entities."""

from __future__ import annotations

from collections import Counter
from typing import Any

import networkx as nx

from kgx.graph.schema import DOC_INDEX
from kgx.terminal import printable


def graph_stats(G: nx.MultiDiGraph, top: int = 10) -> dict[str, Any]:
    """Nodes/edges by type and label, weak components, top entities by degree, mentions."""
    by_type = Counter(d.get("label", "") for _, d in G.nodes(data=True))
    by_label = Counter(k for _, _, k in G.edges(keys=True))
    components = [len(c) for c in nx.weakly_connected_components(G)] if len(G) else []
    degree = sorted(G.degree(), key=lambda x: (-x[1], x[0]))[:top]
    mentions = sum(int(d.get("mentions", 0)) for _, d in G.nodes(data=True))
    n = G.number_of_nodes()
    return {
        "nodes": n,
        "edges": G.number_of_edges(),
        "documents": len(G.graph.get(DOC_INDEX, {})),
        "evidence": sum(int(d.get("count", 0)) for _, _, d in G.edges(data=True)),
        "nodes_by_type": dict(sorted(by_type.items())),
        "edges_by_label": dict(sorted(by_label.items())),
        "weakly_connected_components": len(components),
        "largest_component": max(components, default=0),
        "mentions": mentions,
        "mentions_per_node": round(mentions / n, 3) if n else 0.0,
        "top_entities": [
            {"node": node, "name": G.nodes[node].get("name", ""),
             "label": G.nodes[node].get("label", ""), "degree": deg}
            for node, deg in degree
        ],
    }


def format_stats(stats: dict[str, Any]) -> str:
    """The statistics as a plain-text table for the terminal (names escaped: kgx.terminal)."""
    lines = [
        f"nodes      {stats['nodes']:>10}",
        f"edges      {stats['edges']:>10}",
        f"documents  {stats['documents']:>10}",
        f"evidence   {stats['evidence']:>10}",
        f"mentions   {stats['mentions']:>10}   ({stats['mentions_per_node']} per node)",
        f"components {stats['weakly_connected_components']:>10}   "
        f"(largest {stats['largest_component']} nodes, weakly connected)",
        "",
        "nodes by type",
    ]
    lines += [f"  {printable(k):<24}{v:>10}" for k, v in stats["nodes_by_type"].items()]
    lines += ["", "edges by relation"]
    lines += [f"  {printable(k):<24}{v:>10}" for k, v in stats["edges_by_label"].items()]
    if stats.get("records"):
        lines += ["", "records (this run)"]
        lines += [f"  {k:<24}{v:>10}" for k, v in stats["records"].items()]
    lines += ["", "top entities by degree"]
    lines += [f"  {e['degree']:>6}  {printable(e['label']):<8} {printable(e['name'])}"
              for e in stats["top_entities"]]
    return "\n".join(lines)
