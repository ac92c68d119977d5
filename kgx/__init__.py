"""kgx: documents to knowledge graphs.

Nothing heavy is imported here: the spaCy side, the graph builder and the RDF exporter are
imported on first use, so ``import kgx`` (and ``kgx --help``) stays fast.
"""

from __future__ import annotations

import logging

from kgx.registry import lazy_attributes

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

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
