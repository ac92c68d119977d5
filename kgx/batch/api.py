"""The two ways in: stream the records of a corpus (:func:`extract`), or write a run directory,
locally or on a Dask cluster (:func:`run_extraction`, what ``kgx extract`` calls)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kgx.batch.annotation import assemble, load_model, local_annotator
from kgx.batch.reading import read_inputs, reading_pool
from kgx.batch.run import ExtractionRun, RunTotals
from kgx.records import Record

log = logging.getLogger("kgx")


def extract(
    inputs: Sequence[str | Path],
    model: str | Path | Any,
    *,
    glob: str = "**/*",
    id_field: str = "id",
    text_field: str = "text",
    encoding: str | None = None,
    input_format: str | None = None,
    batch_size: int = 64,
    n_process: int = 1,
    read_processes: int = 0,
    max_length: int | None = None,
) -> Iterator[Record]:
    """Relation records of every input document, streamed (no run directory is written).

    ``model`` is a pipeline name, path or a loaded ``Language``; inputs are files, folders or
    ``-`` (stdin JSONL); ``encoding`` reads text files that are not UTF-8 (``kgx extract
    --encoding``); ``input_format`` reads every file as that format (``--format``);
    ``read_processes`` parse one-document files (PDFs...) in a pool, as
    ``kgx extract --read-processes`` does. Documents that fail are logged and yield no records.
    """
    nlp = load_model(model)
    limit = max_length or nlp.max_length
    annotator = local_annotator(nlp, batch_size=batch_size, n_process=n_process)
    with reading_pool(read_processes) as (executor, ahead):
        entries = read_inputs(inputs, glob=glob, id_field=id_field, text_field=text_field,
                              encoding=encoding, input_format=input_format,
                              executor=executor, ahead=ahead)
        for result in assemble(entries, annotator, limit):
            if result.entry.status == "error":
                log.warning("%s", result.entry.error)
            yield from result.records


def run_extraction(
    inputs: Sequence[str | Path],
    model: str | Path | Any,
    output: str | Path,
    *,
    dask: str | None = None,
    partition_size: int = 64,
    **kwargs: Any,
) -> RunTotals:
    """What ``kgx extract`` does: an :class:`ExtractionRun` (``kwargs`` are its options), on
    the Dask scheduler ``dask`` (``tcp://host:8786`` or ``local:N``) when one is given, with
    ``partition_size`` documents per Dask task. Returns the run's totals."""
    if dask:
        from kgx.batch.distributed import DaskExtractionRun

        return DaskExtractionRun(inputs, model, output, dask=dask,
                                 partition_size=partition_size, **kwargs).run()
    return ExtractionRun(inputs, model, output, **kwargs).run()
