"""Running the app under uvicorn (``kgx serve``): one process, or ``workers`` processes that each
load the model; SIGTERM stops accepting, finishes the requests in flight and exits 0."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kgx.serve.inputs import Limits
from kgx.store.flavors import Endpoints

log = logging.getLogger("kgx")


def serve(model: str, *, host: str = "127.0.0.1", port: int = 8080, workers: int = 1,
          limits: Limits | None = None, endpoints: Endpoints | None = None,
          store: str | Path | None = None, grace_s: float = 30.0, **options: Any) -> None:
    """Serve ``model`` until SIGTERM or SIGINT. ``options`` go to
    :func:`kgx.serve.app.create_app`."""
    import uvicorn

    if workers > 1 and store is not None:
        raise ValueError("an embedded store is opened by one process only: use --workers 1 "
                         "with --store, or a remote store (--endpoint) with several workers")
    limits = limits or Limits()
    # uvicorn re-raises the signal it caught once it has shut down; a handler that exits 0
    # makes that a clean exit
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    common: dict[str, Any] = {"host": host, "port": port, "log_level": "info", "access_log": False,
              "timeout_graceful_shutdown": grace_s, "lifespan": "on"}
    if workers <= 1:
        from kgx.serve.app import create_app

        app = create_app(model, limits=limits, endpoints=endpoints, store=store, **options)
        uvicorn.run(app, **common)
        return
    cfg = {"model": str(model), "limits": asdict(limits),
           "endpoints": asdict(endpoints) if endpoints else None, "store": None,
           **{k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}}
    os.environ["KGX_SERVE_CONFIG"] = json.dumps(cfg)
    uvicorn.run("kgx.serve.app:app_from_env", factory=True, workers=workers, **common)
