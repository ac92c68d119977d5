"""SPARQL results: running a query on the embedded store or a remote endpoint, and printing
the answer as a table, JSON or CSV (``kgx query``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgx.store.embedded import open_store, query_store
from kgx.store.flavors import Endpoints
from kgx.store.remote import DEFAULT_TIMEOUT, RemoteStore
from kgx.terminal import printable


def run_query(
    sparql: str,
    *,
    store: str | Path | None = None,
    endpoints: Endpoints | None = None,
    params: dict[str, ox.NamedNode | ox.Literal] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """SPARQL JSON results of ``sparql`` on exactly one of the embedded ``store`` (a directory
    made by ``kgx load``) or a remote store's ``endpoints``; ``params`` (embedded store only)
    are bound as RDF terms; a remote store's answer is waited for ``timeout`` seconds."""
    if (store is None) == (endpoints is None):
        raise ValueError("give exactly one of --store DIR or --endpoint/--query-url")
    if store is not None:
        if not Path(store).is_dir():
            raise ValueError(f"no store at {store} (create it with `kgx load`)")
        return query_store(open_store(store), sparql, params)
    if params:
        raise ValueError("--param is supported on the embedded store only")
    assert endpoints is not None
    return RemoteStore(endpoints, timeout=timeout).query(sparql)


def _cell(binding: dict[str, Any] | None, prefixes: dict[str, str]) -> str:
    if binding is None:
        return ""
    value = binding["value"]
    if binding["type"] == "uri":
        for name, ns in prefixes.items():
            if value.startswith(ns) and len(value) > len(ns):
                return f"{name}:{value[len(ns):]}"
        return f"<{value}>"
    return value


def format_results(results: dict[str, Any], fmt: str = "table",
                   prefixes: dict[str, str] | None = None) -> str:
    """SPARQL JSON results as an aligned text table, JSON, or CSV."""
    if fmt == "json":
        return json.dumps(results, indent=2, ensure_ascii=False)
    if "triples" in results:
        return "\n".join(results["triples"])
    if "boolean" in results:
        return "true" if results["boolean"] else "false"
    variables = results["head"].get("vars", [])
    rows = results["results"]["bindings"]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow([row[v]["value"] if v in row else "" for v in variables])
        return buf.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"unknown result format {fmt!r} (use table, json or csv)")
    cells = [[printable(_cell(row.get(v), prefixes or {})) for v in variables] for row in rows]
    variables = [printable(v) for v in variables]
    widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(variables)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)
