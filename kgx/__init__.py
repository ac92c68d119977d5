"""kgx: documents to knowledge graphs.

Nothing heavy is imported here: the spaCy side, the graph builder and the RDF exporter are
imported on first use, so ``import kgx`` (and ``kgx --help``) stays fast.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

__version__ = "0.3.0"

logging.getLogger("kgx").addHandler(logging.NullHandler())

# public name -> module that defines it
_LAZY = {
    "Relation": "kgx.relations",
    "get_relations": "kgx.relations",
    "doc_to_records": "kgx.records",
    "extract": "kgx.batch",
    "GraphBuilder": "kgx.graph",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kgx' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
