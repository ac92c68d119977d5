"""The batch run on a Dask cluster: workers annotate, the client writes the run directory.

The client finds the inputs and hashes them; the workers take the text out of one-document
files (PDF, office files, HTML, e-mail: :mod:`kgx.batch.reading`), so the client is not a
PDF corpus's bottleneck. The client splits long documents exactly as a local run does, sends
partitions of ``partition_size`` pieces to the workers (at most ``max_in_flight`` futures
outstanding, so client memory stays flat however large the corpus), and consumes the results
in submission order. Shards, manifest and errors are therefore written by the same code as a
local run and hold the same records.

Each worker loads the pipeline once per model (a module-level cache keyed on the model's path
and its ``meta.json``: contents and modification times, so a model retrained at the same path is
loaded again, and only the newest is kept), so the model directory must exist at the same path
on every worker (or on shared storage), or be an installed package (``spacy package`` + ``pip
install`` on each worker).

A ``local:N`` cluster is quiet: distributed's INFO lines (scheduler, nannies and workers
starting and stopping, some 35 a run) are held back while it lives, unless kgx logs at DEBUG
(``kgx -v``); warnings and errors still show, and the caller's logger levels are restored
afterwards. Its workers are stopped before the scheduler, each given time to exit, so that none
is cut off mid-heartbeat or killed ("Worker process still alive after 4.0 seconds, killing").
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from itertools import islice
from pathlib import Path
from typing import Any

from kgx.batch.annotation import Ctx, annotate, load_model
from kgx.batch.inputs import BatchError
from kgx.batch.run import ExtractionRun

log = logging.getLogger("kgx")

#: seconds a local worker process may take to exit before its nanny kills it (distributed gives
#: it 4 s, too few on a busy machine for a process holding a pipeline)
CLOSE_TIMEOUT = 60.0

#: the loggers a local cluster writes through (``distributed.*``)
DASK_LOGGERS = ("distributed",)

#: model reference → (its identity, the loaded pipeline)
_MODELS: dict[str, tuple[tuple, Any]] = {}


def _model_identity(model: str) -> tuple:
    """What tells one trained model at ``model`` from another: the sha256 and mtime of its
    ``meta.json`` and the mtimes of its ``config.cfg`` and component folders (a directory),
    or the installed package's version (a package name)."""
    path = Path(model)
    if path.is_dir():
        parts: list[Any] = []
        meta = path / "meta.json"
        if meta.is_file():
            parts.append(hashlib.sha256(meta.read_bytes()).hexdigest())
        for p in sorted(path.iterdir()):
            parts.append((p.name, p.stat().st_mtime_ns))
        return tuple(parts)
    try:
        return ("package", metadata.version(model))
    except metadata.PackageNotFoundError:
        return ("name",)


def _worker_model(model: str) -> Any:
    """The worker's pipeline for ``model``, loaded on first use and again when the model at that
    path changed (retrained, repackaged)."""
    identity = _model_identity(model)
    cached = _MODELS.get(model)
    if cached is not None and cached[0] == identity:
        return cached[1]
    _MODELS.pop(model, None)  # never keep the old pipeline beside the new one
    nlp = load_model(model)
    _MODELS[model] = (identity, nlp)
    return nlp


def _preload(model: str) -> str:
    """Load ``model`` on a worker (``client.run``); returns its name."""
    return _worker_model(model).meta.get("name", "")


def process_partition(
    model: str, pieces: list[tuple[str, Ctx]], batch_size: int, model_label: str
) -> list[tuple[Ctx, dict[str, Any]]]:
    """Worker task: annotate one partition of ``(text, ctx)`` pieces."""
    nlp = _worker_model(model)
    return list(annotate(nlp, pieces, batch_size=batch_size, model=model_label))


def _model_ref(model: str) -> str:
    """An absolute path for model directories (workers may run elsewhere), else the name."""
    path = Path(model)
    return str(path.resolve()) if path.exists() else model


def connect(address: str, timeout: str = "20s") -> tuple[Any, Any]:
    """``(client, cluster)``: ``local:N`` starts a LocalCluster of N single-threaded worker
    processes (the cluster is None for a remote scheduler)."""
    from dask.distributed import Client, LocalCluster

    if address.startswith("local:"):
        try:
            n = int(address.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise BatchError(f"--dask {address!r}: expected local:N with N >= 1 workers")
        quiet = not log.isEnabledFor(logging.DEBUG)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None,
                               silence_logs=logging.WARNING if quiet else False)
        return Client(cluster), cluster
    try:
        return Client(address, timeout=timeout), None
    except (OSError, TimeoutError, ValueError) as e:
        raise BatchError(f"cannot connect to the Dask scheduler at {address}: {e}") from e


@contextmanager
def quiet_dask_logs(level: int = logging.WARNING) -> Iterator[None]:
    """Raise distributed's loggers to ``level`` for the block, unless kgx logs at DEBUG.

    Why: a LocalCluster's start and stop are logged at INFO (to the caller's root handler
    once the caller has configured logging), which drowns kgx's own output and says nothing to
    its user. Levels are only raised, never lowered, and restored on exit: a library leaves
    its caller's logging as it found it."""
    import distributed  # noqa: F401  (its import configures these loggers: save them after)

    saved = [(lg, lg.level) for lg in map(logging.getLogger, DASK_LOGGERS)]
    try:
        if not log.isEnabledFor(logging.DEBUG):
            for lg, _ in saved:
                if lg.getEffectiveLevel() < level:
                    lg.setLevel(level)
        yield
    finally:
        for lg, old in saved:
            lg.setLevel(old)


def close_cluster(cluster: Any, timeout: float = CLOSE_TIMEOUT) -> None:
    """Stop the workers, each given ``timeout`` seconds to exit, then the cluster.

    Why: ``cluster.close()`` alone has the scheduler drop the workers first (a worker cut off
    mid-heartbeat logs an ERROR traceback) and then gives each process 4 s before killing it,
    with a warning; a worker told to stop first leaves the scheduler cleanly."""

    async def stop_workers() -> None:
        await asyncio.gather(*(w.close(timeout=timeout) for w in list(cluster.workers.values())))

    try:
        cluster.sync(stop_workers)
    finally:
        cluster.close()


@contextmanager
def dask_client(address: str, timeout: str = "20s") -> Iterator[Any]:
    """A Dask client on ``address`` (:func:`connect`) for the block; a ``local:N`` cluster is
    started quietly (:func:`quiet_dask_logs`) and stopped cleanly (:func:`close_cluster`)."""
    with quiet_dask_logs():
        client, cluster = connect(address, timeout)
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                close_cluster(cluster)


class DaskAnnotator:
    """An :data:`kgx.batch.annotation.Annotator` that runs ``annotate`` on Dask workers."""

    def __init__(self, client: Any, model: str, model_label: str, *, partition_size: int = 64,
                 batch_size: int = 64, max_in_flight: int | None = None) -> None:
        self.client = client
        self.model = model
        self.model_label = model_label
        self.partition_size = partition_size
        self.batch_size = batch_size
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        self.max_in_flight = max_in_flight or 2 * workers

    def __call__(self, pieces: Iterable[tuple[str, Ctx]]) -> Iterator[tuple[Ctx, dict[str, Any]]]:
        futures: deque[Any] = deque()
        it = iter(pieces)
        while True:
            part = list(islice(it, self.partition_size))
            if not part:
                break
            futures.append(self.client.submit(process_partition, self.model, part,
                                              self.batch_size, self.model_label, pure=False))
            while len(futures) >= self.max_in_flight:
                yield from self._result(futures.popleft())
        while futures:
            yield from self._result(futures.popleft())

    @staticmethod
    def _result(future: Any) -> list[tuple[Ctx, dict[str, Any]]]:
        try:
            return future.result()
        except (OSError, ValueError, ImportError) as e:
            raise BatchError(f"a Dask worker failed: {type(e).__name__}: {e}") from e


class DaskExtractionRun(ExtractionRun):
    """:class:`kgx.batch.run.ExtractionRun` with the annotation done on a Dask cluster."""

    def __init__(self, inputs: Any, model: str | Path, output: str | Path, *, dask: str,
                 partition_size: int = 64, max_in_flight: int | None = None,
                 **kwargs: Any) -> None:
        if not isinstance(model, (str, Path)):
            raise BatchError("a Dask run needs the model as a name or path, not a loaded pipeline")
        kwargs.pop("annotator", None)
        if kwargs.get("read_processes"):
            raise BatchError("--read-processes is for a local run: a Dask run takes the text out "
                             "of files on its workers")
        self._dask = (dask, partition_size, max_in_flight)
        # the client loads the model too: it validates it and gives max_length and the name
        super().__init__(inputs, model, output, annotator=lambda pieces: iter(()), **kwargs)
        self.model_path = _model_ref(str(model))

    def run(self):  # type: ignore[override]
        address, partition_size, max_in_flight = self._dask
        with dask_client(address) as client:
            # load the model on every worker now: a worker without it fails the run at once,
            # and the timing of the run does not include model loading
            try:
                client.run(_preload, self.model_path)
            except BatchError as e:  # load_model's message names the pipeline
                raise BatchError(f"a Dask worker: {e}") from e
            except (OSError, ValueError, ImportError) as e:
                raise BatchError(f"a Dask worker cannot load the pipeline {self.model_path!r}: "
                                 f"{e}") from e
            self._client = client
            self.annotator = DaskAnnotator(client, self.model_path, self.model,
                                           partition_size=partition_size,
                                           batch_size=self.batch_size,
                                           max_in_flight=max_in_flight)
            return super().run()

    @contextmanager
    def _readers(self) -> Iterator[tuple[Any, int]]:
        """One-document files are parsed on the workers too (the client only hashes them): a
        PDF corpus is not held to the speed of the one process that reads the inputs."""
        workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        yield self._client.get_executor(pure=False), 4 * workers
