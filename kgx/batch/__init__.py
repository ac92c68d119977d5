"""Streaming extraction over a corpus: inputs → ``nlp.pipe`` → a run directory.

``inputs`` reads files, folders and stdin into documents (formats by name); ``splitting`` cuts
documents longer than the pipeline's ``max_length``; ``annotation`` loads the pipeline (kgx's
one model loader), runs it and reassembles documents; ``run`` writes the run
directory through :mod:`kgx.rundir`; ``distributed`` does the annotation on Dask workers;
``api`` holds the two ways in (stream records, or run ``kgx extract``).
This layer imports the layers below it (records, rundir, the spaCy side through the pipeline
it loads), never the graph, RDF or store layers.
"""

from __future__ import annotations

from kgx.batch.annotation import (
    Annotator,
    Ctx,
    DocResult,
    annotate,
    assemble,
    load_model,
    local_annotator,
)
from kgx.batch.api import extract, run_extraction
from kgx.batch.inputs import (
    INPUT_FORMATS,
    BatchError,
    Entry,
    InputFormat,
    discover,
    read_document,
    read_inputs,
    sha256,
)
from kgx.batch.run import ExtractionRun, RunInterrupted, RunTotals
from kgx.batch.splitting import split_points

__all__ = [
    "INPUT_FORMATS", "Annotator", "BatchError", "Ctx", "DocResult", "Entry", "ExtractionRun",
    "RunInterrupted",
    "InputFormat", "RunTotals", "annotate", "assemble", "discover", "extract", "load_model",
    "local_annotator", "read_document", "read_inputs", "run_extraction", "sha256", "split_points",
]
