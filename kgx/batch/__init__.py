"""Streaming extraction over a corpus: inputs → ``nlp.pipe`` → a run directory.

``inputs`` holds the formats (a file's bytes → documents); ``reading`` finds the files of
folders and stdin and reads them in order (one-document files parsed in a pool when a run has
one, unchanged ones skipped on resume); ``splitting`` cuts
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
    RawFile,
    read_document,
    sha256,
)
from kgx.batch.reading import discover, read_inputs
from kgx.batch.run import ExtractionRun, RunInterrupted, RunTotals
from kgx.batch.splitting import split_points

__all__ = [
    "INPUT_FORMATS", "Annotator", "BatchError", "Ctx", "DocResult", "Entry", "ExtractionRun",
    "InputFormat", "RawFile", "RunInterrupted", "RunTotals", "annotate", "assemble", "discover",
    "extract", "load_model", "local_annotator", "read_document", "read_inputs", "run_extraction",
    "sha256", "split_points",
]
