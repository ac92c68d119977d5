"""SPARQL results: running a query on the embedded store or a remote endpoint, and printing
the answer as a table, JSON or CSV (``kgx query``)."""

from __future__ import annotations

import csv
import io
import json
import re
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
    made by ``kgx load``) or a remote store's ``endpoints``; ``params`` are bound as RDF terms
    (by the embedded store itself; for a remote one, by :func:`bind_params` here, before the
    query leaves); a remote store's answer is waited for ``timeout`` seconds.

    A parameter the query declares (:func:`declared_params`) but ``params`` lacks is an error,
    not a query that silently matches nothing."""
    if (store is None) == (endpoints is None):
        raise ValueError("give exactly one of --store DIR or --endpoint/--query-url")
    params = params or {}
    missing = [name for name in declared_params(sparql) if name not in params]
    if missing:
        raise ValueError("the query declares the parameter(s) "
                         + ", ".join(f"?{name}" for name in missing) + "; give "
                         + " ".join(f"--param {name}=VALUE" for name in missing))
    if store is not None:
        if not Path(store).is_dir():
            raise ValueError(f"no store at {store} (create it with `kgx load`)")
        return query_store(open_store(store), sparql, params)
    assert endpoints is not None
    return RemoteStore(endpoints, timeout=timeout).query(bind_params(sparql, params))


# "# Parameter: name (string)." / "# Parameters: name (string), org (iri)." in a query file
_DECLARATION = re.compile(r"^[ \t]*#[ \t]*Parameters?[ \t]*:(.*)$", re.IGNORECASE | re.MULTILINE)
_DECLARED_NAME = re.compile(r"[?$]?([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(")


def declared_params(sparql: str) -> list[str]:
    """The parameters a query declares in its comments, as the files in docs/queries do:
    ``# Parameter: name (string).`` (several: ``# Parameters: a (string), b (iri).``)."""
    names: list[str] = []
    for line in _DECLARATION.finditer(sparql):
        for name in _DECLARED_NAME.findall(line.group(1)):
            if name not in names:
                names.append(name)
    return names


_IRI = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.:]*")
_VARIABLE = re.compile(r"[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+")


def _skip_string(sparql: str, i: int) -> int:
    """The index after the string literal starting at ``i`` (short or long, either quote)."""
    quote = sparql[i]
    if sparql.startswith(quote * 3, i):
        end = sparql.find(quote * 3, i + 3)
        while end != -1 and sparql[end - 1] == "\\":  # an escaped quote inside
            end = sparql.find(quote * 3, end + 1)
        return len(sparql) if end == -1 else end + 3
    j = i + 1
    while j < len(sparql) and sparql[j] != quote and sparql[j] != "\n":
        j += 2 if sparql[j] == "\\" else 1
    return j + 1


def _pattern_brace(sparql: str) -> int | None:
    """The index of the ``{`` that opens the query's WHERE pattern (outside comments, strings
    and IRIs), or None (a ``DESCRIBE <iri>`` has none)."""
    i, depth, form, after_where = 0, 0, None, False
    while i < len(sparql):
        c = sparql[i]
        if c == "#":
            end = sparql.find("\n", i)
            i = len(sparql) if end == -1 else end + 1
        elif c in "\"'":
            i = _skip_string(sparql, i)
        elif c == "<" and (m := _IRI.match(sparql, i)):
            i = m.end()
        elif c in "?$" and (m := _VARIABLE.match(sparql, i)):
            i = m.end()
        elif c == "{":
            if depth == 0 and (after_where or form != "CONSTRUCT"):
                return i
            depth, i = depth + 1, i + 1
        elif c == "}":
            depth, i = depth - 1, i + 1
        elif (m := _WORD.match(sparql, i)) and (i == 0 or not sparql[i - 1].isalnum()):
            word = m.group().upper()
            if depth == 0 and form is None and word in ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE"):
                form = word
            after_where = after_where or (depth == 0 and word == "WHERE")
            i = m.end()
        else:
            i += 1
    return None


def bind_params(sparql: str, params: dict[str, ox.NamedNode | ox.Literal]) -> str:
    """``sparql`` with each parameter bound to its RDF term by a ``VALUES`` block opening the
    WHERE pattern, for a store that cannot take bindings beside the query (SPARQL 1.1 Protocol).

    The terms are written by Oxigraph (escaped N-Triples syntax: an IRI is validated, a string is
    a quoted literal), so no parameter value can change the query's structure; the query text
    itself is the user's own. A parameter the query does not use is refused."""
    if not params:
        return sparql
    names = set(_VARIABLE.findall(sparql))
    unused = [name for name in params if f"?{name}" not in names and f"${name}" not in names]
    if unused:
        raise ValueError("the query has no variable " + ", ".join(f"?{n}" for n in unused)
                         + " to bind")
    brace = _pattern_brace(sparql)
    if brace is None:
        raise ValueError("cannot bind parameters: the query has no WHERE pattern")
    variables = " ".join(f"?{name}" for name in params)
    terms = " ".join(str(term) for term in params.values())
    return f"{sparql[:brace + 1]} VALUES ({variables}) {{ ({terms}) }}{sparql[brace + 1:]}"


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
