"""Saving and loading graphs: node-link JSON (streamed) and GraphML (list attributes as JSON).

JSON is exactly ``networkx.node_link_data(G, edges="edges")``; GraphML flattens lists and
dicts to JSON strings and records which attributes it flattened, so loading restores them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx

from kgx import __version__ as KGX_VERSION
from kgx.graph.iris import normalize_base
from kgx.graph.schema import DOC_INDEX, JSON_ATTRS_KEY, NORM_KEY


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """The ``.tmp`` path to write ``path`` through: renamed over ``path`` when the block ends,
    removed when it fails (a full disk leaves neither a ``.tmp`` nor a damaged ``path``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: Path, text: str) -> None:
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _node_link_data(G: nx.MultiDiGraph) -> dict[str, Any]:
    try:
        return nx.node_link_data(G, edges="edges")
    except TypeError:  # networkx < 3.4 names the argument "link"
        return nx.node_link_data(G, link="edges")


def _write_node_link(G: nx.MultiDiGraph, path: Path) -> None:
    """Write exactly ``node_link_data(G, edges="edges")`` as JSON, one element at a time.

    Building the whole dict and then one string of it needs about three times the file size in
    memory; streaming keeps the peak at the graph itself (1M evidence items: ~0.7 GB of JSON).
    """
    if not (G.is_multigraph() and G.is_directed()):
        atomic_write(path, json.dumps(_node_link_data(G), ensure_ascii=False))
        return
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with replacing(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        fh.write('{"directed":true,"multigraph":true,"graph":')
        fh.write(encode(G.graph))
        for name, items in (
            ("nodes", ({**d, "id": n} for n, d in G.nodes(data=True))),
            ("edges", ({**d, "source": u, "target": v, "key": k}
                       for u, v, k, d in G.edges(keys=True, data=True))),
        ):
            fh.write(f',"{name}":[')
            chunk: list[str] = []
            first = True
            for item in items:
                chunk.append(encode(item))
                if len(chunk) >= 10_000:
                    fh.write(("" if first else ",") + ",".join(chunk))
                    chunk, first = [], False
            if chunk:
                fh.write(("" if first else ",") + ",".join(chunk))
            fh.write("]")
        fh.write("}")


def _node_link_graph(data: dict[str, Any]) -> nx.MultiDiGraph:
    try:
        return nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")
    except TypeError:
        return nx.node_link_graph(data, directed=True, multigraph=True, link="edges")


#: characters XML 1.0 cannot hold, not even as a character reference
XML_ILLEGAL = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _as_json(value: Any) -> str:
    """JSON text of a value that XML can hold: ``\\u`` escapes where it has to."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return json.dumps(value, sort_keys=True) if XML_ILLEGAL.search(text) else text


def _flatten(attrs: dict[str, Any], flattened: set[str], escaped: set[str]) -> dict[str, Any]:
    """GraphML attributes: lists and dicts as JSON, and also as JSON every string of a key in
    ``escaped`` (keys holding, somewhere, characters XML cannot: \\x01, U+FFFE, ...)."""
    out = {}
    for k, v in attrs.items():
        if isinstance(v, list | dict | tuple) or (k in escaped and isinstance(v, str)):
            out[k] = _as_json(v)
            flattened.add(k)
        elif v is None:
            continue
        else:
            out[k] = v
    return out


def _xml_unsafe_keys(items: Iterable[dict[str, Any]]) -> set[str]:
    return {k for attrs in items for k, v in attrs.items()
            if isinstance(v, str) and XML_ILLEGAL.search(v)}


def save_graph(G: nx.MultiDiGraph, path: str | Path) -> None:
    """Write node-link JSON (``.json``) or GraphML (``.graphml``, lists/dicts as JSON strings)."""
    path = Path(path)
    if path.suffix == ".json":
        _write_node_link(G, path)
    elif path.suffix == ".graphml":
        keys: dict[str, set[str]] = {"graph": set(), "node": set(), "edge": set()}
        for what in [*G.nodes, *(k for _, _, k in G.edges(keys=True))]:
            if isinstance(what, str) and XML_ILLEGAL.search(what):
                raise ValueError(f"{path}: the node or relation {what!r} holds a character "
                                 "XML cannot hold: save the graph as .json")
        escaped = {"node": _xml_unsafe_keys(d for _, d in G.nodes(data=True)),
                   "edge": _xml_unsafe_keys(d for _, _, d in G.edges(data=True)),
                   "graph": _xml_unsafe_keys([G.graph])}
        H = nx.MultiDiGraph()
        for n, d in G.nodes(data=True):
            H.add_node(n, **_flatten(d, keys["node"], escaped["node"]))
        for u, v, k, d in G.edges(keys=True, data=True):
            H.add_edge(u, v, key=k, **_flatten(d, keys["edge"], escaped["edge"]))
        H.graph.update(_flatten(G.graph, keys["graph"], escaped["graph"]))
        H.graph[JSON_ATTRS_KEY] = json.dumps({k: sorted(v) for k, v in keys.items()})
        with replacing(path) as tmp:
            nx.write_graphml(H, tmp, encoding="utf-8")
    else:
        raise ValueError(f"{path}: unknown graph format (use .json or .graphml)")


_DEFAULT_JSON_ATTRS = {"graph": [DOC_INDEX, NORM_KEY], "node": ["aliases", "docs"],
                       "edge": ["evidence"]}


def _unflatten(attrs: dict[str, Any], keys: Iterable[str], where: str) -> None:
    for k in keys:
        if isinstance(attrs.get(k), str):
            try:
                attrs[k] = json.loads(attrs[k])
            except json.JSONDecodeError as e:
                raise ValueError(f"{where}: attribute {k!r} is not valid JSON: {e}") from e


def load_graph(path: str | Path) -> nx.MultiDiGraph:
    """Read a graph written by :func:`save_graph`; a clear error for a missing or bad file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such graph file: {path}")
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            G = _node_link_graph(data)
        except (json.JSONDecodeError, KeyError, TypeError, nx.NetworkXError) as e:
            raise ValueError(f"{path} is not a node-link graph: {e}") from e
    elif path.suffix == ".graphml":
        try:
            G = nx.read_graphml(path, force_multigraph=True)
        except Exception as e:  # the GraphML reader raises several unrelated types
            raise ValueError(f"{path} is not a GraphML graph: {e}") from e
        if not G.is_directed():
            G = nx.MultiDiGraph(G)
        for reader_key in ("node_default", "edge_default"):
            if not G.graph.get(reader_key):
                G.graph.pop(reader_key, None)
        keys = dict(_DEFAULT_JSON_ATTRS)
        if isinstance(G.graph.get(JSON_ATTRS_KEY), str):
            keys = json.loads(G.graph.pop(JSON_ATTRS_KEY))
        _unflatten(G.graph, keys.get("graph", []), f"{path} (graph)")
        for n, d in G.nodes(data=True):
            _unflatten(d, keys.get("node", []), f"{path} node {n}")
        for u, v, d in G.edges(data=True):
            _unflatten(d, keys.get("edge", []), f"{path} edge {u} -> {v}")
    else:
        raise ValueError(f"{path}: unknown graph format (use .json or .graphml)")
    if not isinstance(G, nx.MultiDiGraph):
        G = nx.MultiDiGraph(G)
    G.graph["base"] = normalize_base(G.graph.get("base"))
    G.graph.setdefault("kgx_version", KGX_VERSION)
    G.graph.setdefault(DOC_INDEX, {})
    return G
