"""Dynamic micro-batching: concurrent requests coalesced into one ``nlp.pipe`` call.

Each request puts its documents on a bounded queue (:class:`Batcher`); one task takes documents
off it until a word budget (``max_batch_words``) is reached or the oldest has waited
``max_wait_ms``, and runs them through the pipeline in one ``nlp.pipe`` call on a worker thread
(the event loop keeps accepting requests meanwhile). Requests that arrive while a batch runs
make the next one; the wait for company is only spent under concurrency (when the last batch
held several requests), so a lone client gets the latency of one call. A full queue raises
:class:`QueueFull` (the app answers 503 with ``Retry-After``): memory stays bounded whatever the
load.

A component that fails fails its whole minibatch (spaCy drops it); the documents of that batch
are then run again one at a time (:func:`kgx.batch.annotation.process_alone`, as ``kgx
extract`` does), so only the document that really fails is an error, and only its request fails.
Records come from :func:`kgx.records.doc_to_records`: the same fields and offsets as
``kgx extract``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kgx.batch.annotation import _skip_batch, error_handler, process_alone
from kgx.records import Record, doc_to_records, model_name

log = logging.getLogger("kgx")


class QueueFull(RuntimeError):
    """The batcher's queue holds ``max_queue`` documents: try again later."""


@dataclass
class DocOut:
    """One processed document: its entities and records, or the pipeline's error."""

    id: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    words: int = 0
    error: str | None = None


def count_words(text: str) -> int:
    """A cheap word count, for the batch budget (before tokenisation)."""
    return len(text.split())


def _words(doc: Any) -> int:
    return sum(1 for t in doc if not (t.is_punct or t.is_space))


def _result(doc: Any, doc_id: str, model: str) -> DocOut:
    ents = [{"text": e.text, "label": e.label_, "start_char": e.start_char,
             "end_char": e.end_char} for e in doc.ents]
    return DocOut(doc_id, ents, list(doc_to_records(doc, doc_id, model)), _words(doc))


def process(nlp: Any, docs: list[tuple[str, str]], model: str | None = None) -> list[DocOut]:
    """``(id, text)`` documents through the pipeline in one ``nlp.pipe`` call, in order; an
    empty text gives an empty result without reaching the pipeline."""
    model = model if model is not None else model_name(nlp)
    out: list[DocOut | None] = [None] * len(docs)
    pending = []
    for i, (doc_id, text) in enumerate(docs):
        if text.strip():
            pending.append((text, i))
        else:
            out[i] = DocOut(doc_id)
    if pending:
        with error_handler(nlp, _skip_batch):
            for doc, i in nlp.pipe(pending, as_tuples=True, batch_size=len(pending)):
                out[i] = _result(doc, docs[i][0], model)
    for text, i in pending:
        if out[i] is None:  # its minibatch failed: alone, to find the document that fails
            doc, reason = process_alone(nlp, text)
            out[i] = (_result(doc, docs[i][0], model) if doc is not None
                      else DocOut(docs[i][0], error=reason))
    return [o for o in out if o is not None]


@dataclass
class _Pending:
    docs: list[tuple[str, str]]
    words: int
    future: asyncio.Future
    since: float


class Batcher:
    """The queue and the task that drains it (module docstring).

    ``batching=False`` runs each request on its own (one ``nlp.pipe`` call per request), for
    comparison. ``on_batch(documents, words, seconds)`` is called after every batch (metrics).
    """

    def __init__(self, nlp: Any, *, max_batch_words: int = 4000, max_wait_ms: float = 5.0,
                 max_queue: int = 1024, batching: bool = True, on_batch: Any = None) -> None:
        self.nlp = nlp
        self.model = model_name(nlp)
        self.max_batch_words = max(1, max_batch_words)
        self.max_wait = max(0.0, max_wait_ms) / 1000.0
        self.max_queue = max(1, max_queue)
        self.batching = batching
        self.on_batch = on_batch
        self._queue: deque[_Pending] = deque()
        self._queued_docs = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="kgx-nlp")
        self._closing = False
        self._last_requests = 1

    @property
    def depth(self) -> int:
        """Documents waiting (not yet in a batch)."""
        return self._queued_docs

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name="kgx-batcher")

    async def close(self) -> None:
        """Finish every queued request, then stop."""
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)

    async def submit(self, docs: list[tuple[str, str]]) -> list[DocOut]:
        """The results of ``(id, text)`` documents, once their batch has run."""
        if self._closing or self._wake is None:
            raise QueueFull("the server is shutting down")
        if self._queued_docs + len(docs) > self.max_queue and self._queued_docs:
            raise QueueFull(f"{self._queued_docs} documents are queued (limit {self.max_queue})")
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        words = sum(count_words(t) for _, t in docs)
        self._queue.append(_Pending(docs, words, future, time.monotonic()))
        self._queued_docs += len(docs)
        self._wake.set()
        return await future

    def _take(self) -> list[_Pending]:
        """Requests for the next batch: at least one, then more while under the budget."""
        first = self._queue.popleft()
        taken, words = [first], first.words
        if self.batching:
            while self._queue and words + self._queue[0].words <= self.max_batch_words:
                nxt = self._queue.popleft()
                taken.append(nxt)
                words += nxt.words
        self._queued_docs -= sum(len(p.docs) for p in taken)
        return taken

    async def _loop(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if self.batching and not self._closing and self._last_requests > 1:
                # wait for company (only under concurrency: the last batch held several
                # requests; a lone client is not kept waiting): until the budget is full or the
                # oldest waited max_wait
                deadline = self._queue[0].since + self.max_wait
                while (sum(p.words for p in self._queue) < self.max_batch_words
                       and (left := deadline - time.monotonic()) > 0):
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), left)
                    except TimeoutError:
                        break
            batch = self._take()
            self._last_requests = len(batch)
            docs = [d for p in batch for d in p.docs]
            start = time.perf_counter()
            try:
                results = await loop.run_in_executor(self._executor, process, self.nlp, docs,
                                                     self.model)
            except Exception as e:  # process() contains component errors; this is anything else
                log.exception("a batch of %d documents failed", len(docs))
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(e)
                continue
            if self.on_batch is not None:
                self.on_batch(len(docs), sum(r.words for r in results),
                              time.perf_counter() - start)
            i = 0
            for p in batch:
                if not p.future.done():
                    p.future.set_result(results[i:i + len(p.docs)])
                i += len(p.docs)
