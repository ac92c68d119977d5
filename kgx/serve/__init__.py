"""``kgx serve``: online extraction and live graph upkeep over HTTP, with dynamic batching.

``app`` holds the routes (:func:`create_app`), ``batcher`` the dynamic micro-batcher over
``nlp.pipe``, ``inputs`` reads and bounds requests, ``live`` keeps the graph of the ingested
documents and the store equal to it, ``metrics`` the Prometheus counters. The service calls the
layers below it (batch's model loader, records, graph, rdf, store) and nothing above.
FastAPI and uvicorn come with the ``serve`` extra (``pip install kgx[serve]``).
"""

from __future__ import annotations

from typing import Any


def create_app(model: Any, **options: Any) -> Any:
    """The ASGI app (see :func:`kgx.serve.app.create_app`)."""
    from kgx.serve.app import create_app as _create

    return _create(model, **options)


__all__ = ["create_app"]
