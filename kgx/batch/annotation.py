"""Annotation: loading a pipeline, running it over pieces of documents, reassembling documents.

An :data:`Annotator` turns ``(text, ctx)`` pieces into ``(ctx, result)`` pairs; the local one
is ``nlp.pipe`` (:func:`local_annotator`), :mod:`kgx.batch.distributed` has a Dask one.
:func:`assemble` splits long documents into pieces under the limit, feeds an annotator and
puts each document back together, in input order, whatever the scheduling. A component that
fails on a document makes that document (and only it: a failed minibatch is processed again one
document at a time) an error entry of stage ``pipeline``; the stream goes on.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgx.batch.inputs import BatchError, Entry
from kgx.batch.splitting import split_points
from kgx.records import Record, doc_to_records, model_name

log = logging.getLogger("kgx")

# (seq, doc_id, piece index, number of pieces, char offset): travels with each text through
# nlp.pipe (and to Dask workers), so results can be matched and reassembled.
Ctx = tuple[int, str, int, int, int]

Annotator = Callable[[Iterable[tuple[str, Ctx]]], Iterator[tuple[Ctx, dict[str, Any]]]]


def load_model(model: str | Path | Any) -> Any:
    """A loaded pipeline (``spacy.load``), or ``model`` itself when it already is one; a
    :class:`BatchError` naming the model when it cannot be loaded. kgx's one model loader."""
    if not isinstance(model, (str, Path)):
        return model
    import spacy

    try:
        return spacy.load(model)
    except (OSError, ValueError, ImportError) as e:
        raise BatchError(f"cannot load the pipeline {str(model)!r}: {e}") from e


def _skip_batch(name: str | None, proc: Any, docs: list | None, e: Exception) -> None:
    """The error handler of the main pass: spaCy hands it the whole minibatch, which the pipe
    then drops; :func:`annotate` runs each dropped document again on its own, so that only the
    documents that really fail become errors. A module-level function: it must survive pickling
    to the worker processes of ``n_process > 1``."""
    log.debug("component %r failed on a batch of %d document(s) (%s: %s); processing them "
              "one at a time", name, len(docs or []), type(e).__name__, e)


@contextmanager
def error_handler(nlp: Any, handler: Callable[..., None]) -> Iterator[None]:
    """Install ``handler`` on the pipeline and every component that can hold one, and put the
    previous handlers back afterwards: the caller's ``Language`` is left as it was. (spaCy's
    Cython parsers, a trained ``ner``, have no ``error_handler`` slot.)"""
    saved_default = nlp.default_error_handler
    saved: list[tuple[Any, Any]] = []
    try:
        for _, proc in nlp.pipeline:
            getter = getattr(proc, "get_error_handler", None)
            if getter is None or not hasattr(proc, "set_error_handler"):
                continue
            try:
                previous = getter()
                proc.set_error_handler(handler)
            except AttributeError:
                log.debug("component %s cannot hold an error handler", type(proc).__name__)
                continue
            saved.append((proc, previous))
        nlp.default_error_handler = handler
        yield
    finally:
        nlp.default_error_handler = saved_default
        for proc, previous in saved:
            proc.set_error_handler(previous)


@contextmanager
def single_torch_thread(enabled: bool = True) -> Iterator[None]:
    """PyTorch's OpenMP pool does not survive ``fork`` (spaCy #6662, #4667): the workers of
    ``nlp.pipe(n_process>1)`` hang unless the parent runs torch on one thread. The parent's
    thread count is restored afterwards."""
    torch = sys.modules.get("torch") if enabled else None
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch is not None and previous is not None:
            torch.set_num_threads(previous)


def process_alone(nlp: Any, text: str) -> tuple[Any, str | None]:
    """``(doc, None)`` for one text run through the pipeline on its own, component by
    component, or ``(None, reason)`` naming the component that failed and the real error."""
    try:
        doc = nlp.make_doc(text)
    except Exception as e:
        return None, f"the tokenizer failed: {type(e).__name__}: {e}"
    for name, proc in nlp.pipeline:
        try:
            doc = proc(doc)
        except Exception as e:
            return None, f"component {name!r} failed: {type(e).__name__}: {e}"
    return doc, None


def _count_words(doc: Any) -> int:
    return sum(1 for t in doc if not (t.is_punct or t.is_space))


def annotate(
    nlp: Any,
    pieces: Iterable[tuple[str, Ctx]],
    *,
    batch_size: int = 64,
    n_process: int = 1,
    model: str | None = None,
) -> Iterator[tuple[Ctx, dict[str, Any]]]:
    """``(ctx, result)`` for every piece, in order: records (offsets already shifted into the
    original document), words and entities, or ``{"error": message}`` when the pipeline failed
    on it.

    A component that fails fails its whole minibatch (spaCy drops the batch); the documents of
    that batch are then processed again one at a time, in this process, so that the others
    succeed and the one that fails reports its real error, whatever ``n_process``. The
    pipeline's error handlers and torch's thread count are restored when the stream ends.
    """
    model = model if model is not None else model_name(nlp)
    inflight: deque[tuple[str, Ctx]] = deque()

    def feed() -> Iterator[tuple[str, Ctx]]:
        for text, ctx in pieces:
            inflight.append((text, ctx))
            yield text, ctx

    def result(doc: Any, ctx: Ctx) -> tuple[Ctx, dict[str, Any]]:
        return ctx, {
            "records": list(doc_to_records(doc, ctx[1], model, char_offset=ctx[4])),
            "words": _count_words(doc),
            "entities": len(doc.ents),
        }

    def alone(text: str, ctx: Ctx) -> tuple[Ctx, dict[str, Any]]:
        doc, reason = process_alone(nlp, text)
        if doc is None:
            log.error("%s: %s", ctx[1], reason)
            return ctx, {"error": reason}
        return result(doc, ctx)

    with error_handler(nlp, _skip_batch), single_torch_thread(n_process > 1):
        for doc, ctx in nlp.pipe(feed(), as_tuples=True, batch_size=batch_size,
                                 n_process=n_process):
            ctx = tuple(ctx)
            while inflight and inflight[0][1] != ctx:
                yield alone(*inflight.popleft())
            if inflight:
                inflight.popleft()
            yield result(doc, ctx)
        while inflight:
            yield alone(*inflight.popleft())


@dataclass
class DocResult:
    """A finished document: its entry and, when processed, records and counts."""

    entry: Entry
    records: list[Record] = field(default_factory=list)
    words: int = 0
    entities: int = 0
    pieces: int = 1
    chars: int = 0


def assemble(entries: Iterable[Entry], annotator: Annotator, limit: int) -> Iterator[DocResult]:
    """Run documents through ``annotator`` (pieces under ``limit`` characters) and reassemble
    them; error and skipped entries pass straight through. Results come out in input order
    (held back only while earlier documents are in flight), so a run's shards and manifest do
    not depend on how the work was scheduled (local, ``n_process``, Dask)."""
    finished: dict[int, DocResult] = {}
    open_docs: dict[int, DocResult] = {}
    counter = 0

    def pieces() -> Iterator[tuple[str, Ctx]]:
        nonlocal counter
        for entry in entries:
            entry.seq = counter
            counter += 1
            if entry.status != "ok":
                finished[entry.seq] = DocResult(entry)
                continue
            text = entry.text or ""
            bounds = split_points(text, limit) if len(text) > limit else [(0, len(text))]
            if len(bounds) > 1:
                log.info("%s: %d characters, over the limit of %d: processed in %d pieces",
                         entry.source, len(text), limit, len(bounds))
            open_docs[entry.seq] = DocResult(entry, pieces=len(bounds))
            for i, (s, e) in enumerate(bounds):
                yield text[s:e], (entry.seq, entry.id, i, len(bounds), s)

    next_seq = 0
    done: dict[int, int] = {}
    for ctx, res in annotator(pieces()):
        seq = ctx[0]
        result = open_docs[seq]
        if "error" in res:
            if result.entry.status != "error":
                result.entry.status = "error"
                result.entry.stage = "pipeline"
                where = result.entry.source
                part = f" (piece {ctx[2] + 1} of {ctx[3]})" if ctx[3] > 1 else ""
                result.entry.error = f"{where}{part}: {res['error']}"
                result.records = []
        elif result.entry.status == "ok":
            result.records.extend(res["records"])
            result.words += res["words"]
            result.entities += res["entities"]
        done[seq] = done.get(seq, 0) + 1
        if done[seq] == ctx[3]:
            del done[seq]
            finished[seq] = open_docs.pop(seq)
        while next_seq in finished:
            yield finished.pop(next_seq)
            next_seq += 1
    while next_seq in finished:
        yield finished.pop(next_seq)
        next_seq += 1
    if finished or open_docs:
        raise RuntimeError(f"internal error: {len(finished) + len(open_docs)} documents were "
                           "not returned by the annotator")


def local_annotator(nlp: Any, *, batch_size: int = 64, n_process: int = 1) -> Annotator:
    model = model_name(nlp)
    return lambda pieces: annotate(nlp, pieces, batch_size=batch_size, n_process=n_process,
                                   model=model)
