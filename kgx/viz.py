"""A self-contained HTML view of a knowledge graph.

The page is one file that opens offline: the vis-network library (bundled in ``kgx/data`` from its
npm package, licence header kept), the stylesheet, the view script and the graph data are all
inlined, and a Content-Security-Policy forbids every network load. The graph travels as JSON in a
``<script type="application/json">`` block in which ``<``, ``>`` and ``&`` are written as JSON
``\\u`` escapes, so no entity name (``</script>``, ``<!--``, quotes, any script) can end the
block or become markup; the view script builds every text through ``textContent``.

Large graphs: above ``max_nodes`` entities only the ones with the most relations are kept, above
``max_edges`` relations among them only the strongest (the page says so); the physics layout runs
a bounded number of stabilisation iterations and is switched off afterwards, and each relation
carries at most ``max_evidence`` evidence items (the best first).

First sight: the page opens on the most connected entity (``view.focus``) and its neighbours at
a zoom where labels are legible (the whole graph when it fits so), labels too small to read are
not drawn, several relations between two entities are drawn as one edge (``groups``) labelled
with their list, and above ``EDGE_LABELS_ALWAYS`` edges relation labels show on hover and
selection only. Once laid out and drawn the page sets ``window.kgxReady``, which
:func:`kgx.browser.screenshot` waits for.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx

log = logging.getLogger("kgx")

VIS_ASSET = "vis-network.min.js"
DEFAULT_MAX_NODES = 2000
DEFAULT_MAX_EDGES = 10_000
DEFAULT_MAX_EVIDENCE = 20
MAX_DOCS_PER_NODE = 50
LARGE_GRAPH = 300
EDGE_LABELS_ALWAYS = 60  # up to this many drawn edges every relation label shows; above, on focus

# Tableau 10: distinct, readable on white; further types get golden-angle hues.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)

_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


def _asset(name: str) -> str:
    return (resources.files("kgx") / "data" / name).read_text(encoding="utf-8")


def _inline_script(name: str) -> str:
    """An asset's text, safe inside ``<script>``: no source-map fetch, no premature end tag."""
    text = _SOURCE_MAP.sub("", _asset(name))
    lowered = text.lower()
    if "</script" in lowered or "<!--" in lowered:
        raise RuntimeError(f"kgx/data/{name} contains '</script' or '<!--' and cannot be inlined")
    return text


def embed_json(data: Any) -> str:
    """JSON for a ``<script type="application/json">`` block: ``<``, ``>``, ``&`` and the JS line
    separators escaped, so the text can neither close the block nor open a comment in it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def type_colors(types: list[str]) -> dict[str, str]:
    """Colour per entity type, in the order given (most frequent first keeps the best colours)."""
    colors = {}
    for i, t in enumerate(types):
        if i < len(PALETTE):
            colors[t] = PALETTE[i]
        else:
            hue = (i * 137.508) % 360
            colors[t] = _hsl_hex(hue, 0.55, 0.5)
    return colors


def _hsl_hex(h: float, s: float, lightness: float) -> str:
    c = (1 - abs(2 * lightness - 1)) * s
    x = c * (1 - abs((h / 60) % 2 - 1))
    m = lightness - c / 2
    r, g, b = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][int(h // 60) % 6]
    return "#" + "".join(f"{round((v + m) * 255):02x}" for v in (r, g, b))


def _as_list(value: Any) -> list[Any]:
    """A list attribute; a lone string (a hand-built graph) is one item, not its characters."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _score(value: Any, where: str) -> float:
    try:
        score = float(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: score {value!r} is not a number") from e
    if math.isnan(score) or not 0.0 <= score <= 1.0:
        raise ValueError(f"{where}: score {value!r} is not in [0, 1]")
    return score


def _relation(key: Any, d: dict[str, Any], multigraph: bool) -> str:
    if multigraph and isinstance(key, str):
        return key
    return str(d.get("relation") or d.get("label") or key)


def _evidence(items: Any, limit: int, where: str) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise ValueError(f"{where}: 'evidence' must be a list, got {type(items).__name__}")
    keep = ("doc_id", "score", "model", "head_text", "tail_text", "head_start", "head_end",
            "tail_start", "tail_end", "sent_start", "sent_end", "sentence")
    out = []
    for ev in items:
        if not isinstance(ev, dict):
            raise ValueError(f"{where}: evidence item {ev!r} is not an object")
        item = {k: ev[k] for k in keep if ev.get(k) is not None}
        item["doc_id"] = str(ev.get("doc_id", ""))
        if "score" in item:
            item["score"] = _score(item["score"], where)
        out.append(item)
    out.sort(key=lambda ev: (-ev.get("score", 0.0), ev["doc_id"], ev.get("head_start", 0)))
    return out[:limit]


def graph_view_data(
    G: nx.Graph,
    *,
    min_score: float = 0.0,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_edges: int = DEFAULT_MAX_EDGES,
    max_evidence: int = DEFAULT_MAX_EVIDENCE,
) -> dict[str, Any]:
    """The JSON the page embeds: nodes, edges (with evidence), type colours, counts, layout hints.

    Edges below ``min_score`` are left out, and with them the entities left without any relation
    (entities that never had one stay). Above ``max_nodes`` entities, those with the most shown
    relations are kept (ties: more mentions, then IRI) with the relations among them; above
    ``max_edges`` of those, the strongest (score, then count), and the entities they connect.
    """
    if not isinstance(G, nx.Graph):
        raise TypeError(f"render_html needs a networkx graph, got {type(G).__name__}")
    min_score = _score(min_score, "min_score")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    if max_edges < 1:
        raise ValueError(f"max_edges must be at least 1, got {max_edges}")
    if max_evidence < 0:
        raise ValueError(f"max_evidence must be at least 0, got {max_evidence}")
    multigraph = G.is_multigraph()
    raw_edges = []
    for u, v, key, d in (G.edges(keys=True, data=True) if multigraph
                         else ((u, v, None, d) for u, v, d in G.edges(data=True))):
        relation = _relation(key, d, multigraph)
        where = f"edge {u} -[{relation}]-> {v}"
        score = _score(d.get("score", 1.0), where)
        raw_edges.append((u, v, relation, score, d, where))
    edges_total = len(raw_edges)
    kept = [e for e in raw_edges if e[3] >= min_score]
    had_edges = {n for e in raw_edges for n in e[:2]}
    degree: Counter[Any] = Counter()
    for u, v, *_ in kept:
        degree[u] += 1
        degree[v] += 1
    nodes = [n for n in G.nodes if n in degree or n not in had_edges]
    nodes_total = G.number_of_nodes()
    nodes_truncated = len(nodes) > max_nodes
    if nodes_truncated:
        nodes.sort(key=lambda n: (-degree[n], -int(G.nodes[n].get("mentions") or 0), str(n)))
        nodes = nodes[:max_nodes]
        log.debug("graph view: %d of %d entities kept (max_nodes=%d)", max_nodes, nodes_total,
                  max_nodes)
    node_set = set(nodes)
    kept = [e for e in kept if e[0] in node_set and e[1] in node_set]
    edges_truncated = len(kept) > max_edges
    if edges_truncated:
        n_before = len(kept)
        kept.sort(key=lambda e: (-e[3], -int(e[4].get("count") or 0), str(e[0]), str(e[1]),
                                 e[2]))
        kept = kept[:max_edges]
        linked = {n for e in kept for n in e[:2]}
        nodes = [n for n in nodes if n in linked or n not in had_edges]
        log.debug("graph view: the %d strongest of %d relations kept (max_edges=%d)", max_edges,
                  n_before, max_edges)
    shown_degree: Counter[Any] = Counter()
    for u, v, *_ in kept:
        shown_degree[u] += 1
        shown_degree[v] += 1

    ids = {n: str(n) for n in nodes}
    type_counts = Counter(str(G.nodes[n].get("label") or "ENTITY") for n in nodes)
    types = sorted(type_counts, key=lambda t: (-type_counts[t], t))
    colors = type_colors(types)
    node_items = []
    for n in sorted(nodes, key=str):
        d = G.nodes[n]
        docs = [str(x) for x in _as_list(d.get("docs"))]
        name = d.get("name")
        node_items.append({
            "id": ids[n],
            "name": str(name) if name not in (None, "") else str(n).rstrip("/").rsplit("/", 1)[-1],
            "type": str(d.get("label") or "ENTITY"),
            "aliases": [str(a) for a in _as_list(d.get("aliases"))],
            "mentions": int(d.get("mentions") or 0),
            "docs": docs[:MAX_DOCS_PER_NODE],
            "docs_total": len(docs),
            "degree": shown_degree[n],
        })

    # several relations between the same two entities are drawn as one edge (a group)
    kept.sort(key=lambda e: (str(e[0]), str(e[1]), e[2]))
    groups: dict[frozenset[Any], dict[str, Any]] = {}
    edge_items = []
    for i, (u, v, relation, score, d, where) in enumerate(kept):
        group = groups.get(frozenset((u, v)))
        if group is None:
            group = groups[frozenset((u, v))] = {"id": f"g{len(groups)}", "from": ids[u],
                                                 "to": ids[v], "edges": []}
        evidence = d.get("evidence") or []
        edge_items.append({
            "id": f"e{i}",
            "from": ids[u],
            "to": ids[v],
            "relation": relation,
            "score": score,
            "count": int(d.get("count") or len(evidence)),
            "evidence": _evidence(evidence, max_evidence, where),
            "evidence_total": len(evidence) if isinstance(evidence, list) else 0,
            "group": group["id"],
        })
        group["edges"].append(edge_items[-1])
    for group in groups.values():  # the strongest relation leads the label and sets the direction
        members = sorted(group["edges"], key=lambda e: (-e["score"], e["relation"]))
        group.update({"from": members[0]["from"], "to": members[0]["to"],
                      "edges": [e["id"] for e in members]})
    focus = min(nodes, key=lambda n: (-shown_degree[n], -int(G.nodes[n].get("mentions") or 0),
                                      str(n)), default=None)

    n_shown = len(node_items)
    return {
        "nodes": node_items,
        "edges": edge_items,
        "groups": list(groups.values()),
        "types": [{"type": t, "color": colors[t], "count": type_counts[t]} for t in types],
        "stats": {
            "nodes_total": nodes_total,
            "edges_total": edges_total,
            "nodes_shown": n_shown,
            "edges_shown": len(edge_items),
            "min_score": min_score,
            "max_nodes": max_nodes,
            "max_edges": max_edges,
            "nodes_truncated": nodes_truncated,
            "edges_truncated": edges_truncated,
            "truncated": nodes_truncated or edges_truncated,
        },
        "view": {
            "focus": ids[focus] if focus is not None else None,
            "edge_labels": "always" if len(groups) <= EDGE_LABELS_ALWAYS else "focus",
            "large": n_shown > LARGE_GRAPH,
            "improved_layout": n_shown <= 150,
            "smooth_edges": len(edge_items) <= 1000,
            "stabilization_iterations": (1000 if n_shown <= LARGE_GRAPH
                                         else max(100, 300_000 // n_shown)),
        },
    }


def render_html(
    G: nx.Graph,
    *,
    title: str | None = None,
    min_score: float = 0.0,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_edges: int = DEFAULT_MAX_EDGES,
    max_evidence: int = DEFAULT_MAX_EVIDENCE,
) -> str:
    """One self-contained HTML page showing ``G`` (see :func:`graph_view_data` for the options)."""
    data = graph_view_data(G, min_score=min_score, max_nodes=max_nodes, max_edges=max_edges,
                           max_evidence=max_evidence)
    return _page(data, title)


def _page(data: dict[str, Any], title: str | None) -> str:
    from kgx import __version__

    parts = {
        "TITLE": html.escape(title if title is not None else "kgx graph"),
        "KGX_VERSION": html.escape(__version__),
        "CSS": _asset("kgx-view.css"),
        "DATA": embed_json(data),
        "VIS_JS": _inline_script(VIS_ASSET),
        "VIEW_JS": _inline_script("kgx-view.js"),
    }
    # one pass, so a title containing "{{DATA}}" stays text
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], _asset("kgx-view.html"))


def write_html(
    G: nx.Graph,
    path: str | Path,
    *,
    title: str | None = None,
    min_score: float = 0.0,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_edges: int = DEFAULT_MAX_EDGES,
    max_evidence: int = DEFAULT_MAX_EVIDENCE,
    screenshot: str | Path | None = None,
) -> dict[str, Any]:
    """Render ``G`` to ``path`` (UTF-8) and return the page's counts (``graph_view_data`` stats).

    With ``screenshot``, also write a PNG of the page once drawn (headless Chromium,
    :func:`kgx.browser.screenshot`; :class:`kgx.browser.BrowserError` when there is none)."""
    data = graph_view_data(G, min_score=min_score, max_nodes=max_nodes, max_edges=max_edges,
                           max_evidence=max_evidence)
    page = _page(data, title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    log.debug("wrote %s (%d bytes)", path, len(page.encode("utf-8")))
    if screenshot is not None:
        from kgx.browser import screenshot as take_screenshot

        take_screenshot(path, screenshot)
    return data["stats"]
