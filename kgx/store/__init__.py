"""Triple stores: an embedded Oxigraph store on disk, and remote stores over SPARQL 1.1 protocols.

``embedded`` opens, loads (idempotently: each document's named graph replaced) and queries the
on-disk store; ``remote`` pushes to and queries a server; ``flavors`` names the servers kgx
knows (one class each); ``queries`` runs ``kgx query`` on either and formats the answer. This
layer reads RDF files through :mod:`kgx.rdf`'s format table and imports nothing above it.

The names below are imported on first use (``kgx.store.flavors`` is what the CLI lists).
"""

from __future__ import annotations

from kgx.registry import lazy_attributes

_LAZY = {
    **dict.fromkeys(("StoreError", "LoadResult", "load_file", "load_files", "open_store",
                     "parse_param", "query_store", "rdf_format"), "kgx.store.embedded"),
    **dict.fromkeys(("FLAVORS", "Endpoints", "Flavor"), "kgx.store.flavors"),
    **dict.fromkeys(("PushResult", "RemoteStore", "push_file"), "kgx.store.remote"),
    **dict.fromkeys(("format_results", "run_query"), "kgx.store.queries"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
