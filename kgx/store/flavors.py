"""Remote store flavors by name (:data:`FLAVORS`), and the endpoints a flavor gives a server.

A flavor is a class naming the paths of a server's SPARQL 1.1 Graph Store Protocol, Update and
Query endpoints under its root URL (``{dataset}`` is ``--dataset``). One entry adds a flavor;
other packages add theirs through the ``kgx_store_flavors`` entry-point group
(:mod:`kgx.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from kgx.registry import Registry


class Flavor:
    """Paths of a server's endpoints under its root URL, registered by name in :data:`FLAVORS`.

    name (str): The name in the table (``--flavor``).
    store (str): The SPARQL 1.1 Graph Store HTTP Protocol path; ``{dataset}`` is ``--dataset``.
    update (str): The SPARQL 1.1 Update path.
    query (str): The SPARQL 1.1 Query path.
    """

    name: ClassVar[str]
    store: ClassVar[str]  # Graph Store HTTP Protocol
    update: ClassVar[str]  # SPARQL Update
    query: ClassVar[str]  # SPARQL Query

    @classmethod
    def paths(cls, dataset: str) -> tuple[str, str, str]:
        return (cls.store.format(dataset=dataset), cls.update.format(dataset=dataset),
                cls.query.format(dataset=dataset))


class Oxigraph(Flavor):
    """``oxigraph serve``."""

    name, store, update, query = "oxigraph", "/store", "/update", "/query"


class Fuseki(Flavor):
    """Apache Jena Fuseki, one dataset."""

    name, store, update, query = ("fuseki", "/{dataset}/data", "/{dataset}/update",
                                  "/{dataset}/query")


#: name → flavor class (``kgx push/query --flavor``)
FLAVORS: Registry[type[Flavor]] = Registry(
    "store flavor", "kgx_store_flavors", {"oxigraph": Oxigraph, "fuseki": Fuseki})
DEFAULT_FLAVOR = "oxigraph"


@dataclass(frozen=True)
class Endpoints:
    """Where a remote store answers: Graph Store Protocol, SPARQL Update and SPARQL Query."""

    store_url: str | None = None
    update_url: str | None = None
    query_url: str | None = None

    @classmethod
    def build(cls, endpoint: str | None = None, flavor: str | None = None,
              dataset: str = "ds", store_url: str | None = None,
              update_url: str | None = None, query_url: str | None = None) -> Endpoints:
        """Explicit URLs win; otherwise ``endpoint`` (the server root) plus the flavor's paths."""
        derived: list[str | None] = [None, None, None]
        if endpoint:
            paths = FLAVORS.get_or_raise(flavor or DEFAULT_FLAVOR).paths(dataset)
            root = endpoint.rstrip("/")
            derived = [root + p for p in paths]
        elif flavor:
            raise ValueError("--flavor needs --endpoint (the server's root URL)")
        result = cls(store_url or derived[0], update_url or derived[1], query_url or derived[2])
        for url in (result.store_url, result.update_url, result.query_url):
            if url and urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return result
