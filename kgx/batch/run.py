"""The run: inputs → annotation → a run directory (:mod:`kgx.rundir`), resumable.

* **Durability.** A document's records go to the shard being filled; its manifest line is
  appended only after that shard is durable, so a kill never leaves a manifest line pointing at
  records that are not there.
* **Resume and changed documents.** ``--resume`` skips documents whose id and sha256 are in the
  manifest with status ``ok``/``skipped``, or ``error`` of stage ``input`` (reading and decoding
  errors are deterministic in the input bytes; ``--retry-errors`` processes them again, e.g.
  after fixing permissions, as does a run that names another ``--encoding`` than the one it
  was read with); documents a pipeline component failed on (stage ``pipeline``) are
  always processed again; changed
  documents are processed again and their new manifest line supersedes the old one. On resume
  the run directory is first recovered (:meth:`kgx.rundir.RunDir.recover`), and at the end the
  manifest is compacted to one line per id and ``errors.jsonl`` rewritten from it.
* **One run at a time.** The run holds a lock on its directory (:meth:`kgx.rundir.RunDir.lock`).
* **Memory.** Only the documents in flight and the open shard's file handle are held.
* **Interruption.** SIGTERM (as SIGINT) stops the run between documents: ``run.json`` says
  ``interrupted`` and :class:`RunInterrupted` is raised; ``--resume`` continues it.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kgx.batch.annotation import (
    Annotator,
    DocResult,
    assemble,
    load_model,
    local_annotator,
)
from kgx.batch.inputs import BatchError, Entry, check_encoding, suffixes
from kgx.batch.reading import (
    count_documents,
    discover,
    forced_format,
    read_inputs,
    reading_pool,
)
from kgx.records import model_name
from kgx.rundir import RunDir, RunDirError, ShardWriter, shard_name

log = logging.getLogger("kgx")


@dataclass
class RunTotals:
    """What a run did (this invocation; ``unchanged`` counts documents skipped on resume)."""

    documents: int = 0
    ok: int = 0
    errors: int = 0
    skipped: int = 0
    unchanged: int = 0
    chars: int = 0
    words: int = 0
    entities: int = 0
    relations: int = 0
    shards: int = 0
    seconds: float = 0.0

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (f"{self.documents} documents ({self.ok} ok, {self.errors} errors, {self.skipped} "
                f"skipped empty, {self.unchanged} unchanged), {self.words} words, {self.entities} "
                f"entities, {self.relations} relations, {self.words_per_second:,.0f} words/s")


class RunInterrupted(BatchError):
    """The run was stopped by SIGTERM or SIGINT; ``run.json`` says ``interrupted``."""

    def __init__(self, message: str, signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.signum = int(signum)


class _Progress:
    """A tqdm bar on a terminal (with a total, so an ETA, when the inputs are files), periodic
    log lines otherwise."""

    def __init__(self, enabled: bool | None, every: float = 10.0,
                 total: Any = None) -> None:
        self.bar = None
        self.every = every
        self.last = time.monotonic()
        if enabled is None:
            enabled = sys.stderr.isatty()
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(unit="doc", desc="extract", dynamic_ncols=True,
                            total=total() if callable(total) else total)

    def skip(self) -> None:
        """A document counted in the total but not processed (unchanged, on --resume)."""
        if self.bar is not None:
            self.bar.update(1)

    def update(self, totals: RunTotals, start: float) -> None:
        wps = totals.words / max(time.monotonic() - start, 1e-9)
        if self.bar is not None:
            self.bar.update(1)
            if totals.documents % 16 == 0:
                self.bar.set_postfix(words_s=f"{wps:,.0f}", relations=totals.relations,
                                     errors=totals.errors, refresh=False)
            return
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            log.info("extract: %d documents, %d words (%.0f words/s), %d relations, %d errors",
                     totals.documents, totals.words, wps, totals.relations, totals.errors)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it stops as on Ctrl-C."""


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise _Terminated(signum)


class ExtractionRun:
    """One ``kgx extract`` run writing a run directory (see the module docstring).

    ``annotator`` replaces the local ``nlp.pipe`` (:mod:`kgx.batch.distributed` passes a Dask
    one); ``args`` are extra arguments recorded in ``run.json``.
    """

    def __init__(
        self,
        inputs: Sequence[str | Path],
        model: str | Path | Any,
        output: str | Path,
        *,
        glob: str = "**/*",
        id_field: str = "id",
        text_field: str = "text",
        encoding: str | None = None,
        input_format: str | None = None,
        batch_size: int = 64,
        n_process: int = 1,
        read_processes: int = 0,
        shard_size: int = 1000,
        resume: bool = False,
        retry_errors: bool = False,
        overwrite: bool = False,
        max_length: int | None = None,
        progress: bool | None = None,
        annotator: Annotator | None = None,
        args: dict[str, Any] | None = None,
    ) -> None:
        if shard_size < 1:
            raise BatchError(f"--shard-size must be at least 1, got {shard_size}")
        self.inputs = list(inputs)
        if not self.inputs:
            raise BatchError("no inputs given")
        for item in self.inputs:
            if str(item) != "-" and not (Path(item).exists() or Path(item).is_symlink()):
                raise BatchError(f"no such input: {item}")
        self.encoding, self.input_format = check_encoding(encoding), input_format
        self.forced = forced_format(input_format)
        if next(discover(self.inputs, glob, self.forced), None) is None:
            known = suffixes()
            what = "files that are not hidden" if self.forced else (
                f"files with an input format's suffix ({', '.join(known[:6])}, ...: "
                f"{len(known) // 2} suffixes, each also gzipped)")
            raise BatchError(f"no input documents: {', '.join(map(str, self.inputs))} holds no "
                             f"{what} matching {glob!r}" + ("" if self.forced else
                             "; files of other names are read with --format, e.g. email"))
        self.output = Path(output)
        self.rundir = RunDir(self.output)
        self.glob, self.id_field, self.text_field = glob, id_field, text_field
        self.batch_size, self.n_process, self.shard_size = batch_size, n_process, shard_size
        if read_processes < 0:
            raise BatchError(f"--read-processes must be 0 or more, got {read_processes}")
        self.read_processes = read_processes
        if resume and overwrite:
            raise BatchError("--resume continues a run and --overwrite replaces it: pass one")
        self.resume, self.retry_errors, self.overwrite = resume, retry_errors, overwrite
        self.progress = progress
        self.args = dict(args or {})
        try:
            self.rundir.prepare(resume=resume, overwrite=overwrite)
        except RunDirError as e:
            raise BatchError(str(e)) from e
        self.model_ref = str(model) if isinstance(model, (str, Path)) else None
        self.nlp = load_model(model)
        self.model = model_name(self.nlp)
        self.limit = max_length or self.nlp.max_length
        self.annotator = annotator or local_annotator(self.nlp, batch_size=batch_size,
                                                      n_process=n_process)
        self.totals = RunTotals()
        self._progress = _Progress(False)

    def _write_run_json(self, status: str, started: float) -> None:
        self.rundir.write_run_json({
            "status": status,
            "model": self.model,
            "model_path": self.model_ref,
            "inputs": [str(i) for i in self.inputs],
            "args": {
                "glob": self.glob, "id_field": self.id_field, "text_field": self.text_field,
                "encoding": self.encoding, "input_format": self.input_format,
                "batch_size": self.batch_size, "n_process": self.n_process,
                "read_processes": self.read_processes,
                "shard_size": self.shard_size, "resume": self.resume,
                "retry_errors": self.retry_errors, "max_length": self.limit, **self.args,
            },
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "totals": {**asdict(self.totals), "words_per_second": self.totals.words_per_second},
        })

    def _encoding_changed(self, previous: dict[str, Any]) -> bool:
        """Whether the run resumed now names another ``--encoding`` than it was read with:
        documents that could not be read may now be. Those read in another legacy encoding
        before are kept as read (their bytes are unchanged), which a warning says."""
        before = (previous.get("args") or {}).get("encoding")
        if before == self.encoding:
            return False
        log.info("%s: read before with --encoding %s, now %s: documents that could not be "
                 "read are read again", self.output, before, self.encoding)
        if before is not None:
            log.warning("%s: documents read in %s before are kept as read (--overwrite reads "
                        "them all again)", self.output, before)
        return True

    def _entries(self, done: dict[str, tuple[str, str]], retry: bool) -> Iterator[Entry]:
        keep = {"ok", "skipped"} if retry else {"ok", "skipped", "error"}

        def unchanged(doc_id: str, sha: str) -> bool:
            prev = done.get(doc_id)
            if prev is None or prev[0] != sha or prev[1] not in keep:
                return False
            self.totals.unchanged += 1
            self._progress.skip()
            return True

        with self._readers() as (executor, ahead):
            for entry in read_inputs(self.inputs, glob=self.glob, id_field=self.id_field,
                                     text_field=self.text_field, encoding=self.encoding,
                                     input_format=self.input_format,
                                     unchanged=unchanged if done else None, executor=executor,
                                     ahead=ahead):
                if not (done and unchanged(entry.id, entry.sha256)):
                    yield entry

    def _readers(self) -> AbstractContextManager[tuple[Executor | None, int]]:
        """Where one-document files are parsed, and how many files ahead."""
        return reading_pool(self.read_processes)

    @staticmethod
    def _manifest_line(r: DocResult, shard: str | None) -> dict[str, Any]:
        e = r.entry
        line: dict[str, Any] = {
            "id": e.id, "sha256": e.sha256, "status": e.status,
            "chars": r.chars,
            "words": r.words, "entities": r.entities, "relations": len(r.records),
            "shard": shard if r.records else None,
            "source": e.source,
        }
        if r.pieces > 1:
            line["pieces"] = r.pieces
        if e.meta:
            line["meta"] = e.meta
        if e.error:
            line["error"] = e.error
        if e.status == "error":
            line["stage"] = e.stage
        if e.duplicate_of is not None:
            line["duplicate_of"] = e.duplicate_of
        return line

    def _count(self, result: DocResult) -> None:
        e, totals = result.entry, self.totals
        totals.documents += 1
        if e.status == "ok":
            totals.ok += 1
            totals.chars += len(e.text or "")
            totals.words += result.words
            totals.entities += result.entities
            totals.relations += len(result.records)
        elif e.status == "skipped":
            totals.skipped += 1
        else:
            totals.errors += 1
            log.warning("%s", e.error)
        result.chars = len(e.text or "")

    def run(self) -> RunTotals:
        """Process every input not already done; returns this invocation's totals. SIGTERM
        interrupts it as SIGINT does (:class:`RunInterrupted`)."""
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main else None
        try:
            with self.rundir.lock():
                return self._run()
        except RunDirError as e:
            raise BatchError(str(e)) from e
        finally:
            if in_main:
                signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)

    def _run(self) -> RunTotals:
        started = time.time()
        t0 = time.monotonic()
        rundir = self.rundir
        previous = rundir.read_run_json() if self.resume else {}
        before = (previous.get("args") or {}).get("input_format")
        if self.resume and before != self.input_format:  # every file's text may differ
            raise BatchError(f"{self.output} was read with --format {before or '(none)'}: "
                             "resume it with the same, or --overwrite to read it again")
        done = rundir.recover() if self.resume else {}
        retry = self.retry_errors or (self.resume and self._encoding_changed(previous))
        if not self.resume:
            rundir.start()
        self._write_run_json("running", started)
        seq = rundir.next_shard()
        totals = self.totals
        has_stdin = any(str(i) == "-" for i in self.inputs)
        progress = self._progress = _Progress(
            self.progress, total=None if has_stdin else
            (lambda: count_documents(self.inputs, self.glob, self.forced)))
        pending: list[dict[str, Any]] = []
        shard: ShardWriter = rundir.shard(seq)
        try:
            for result in assemble(self._entries(done, retry), self.annotator, self.limit):
                self._count(result)
                if result.records:
                    shard.write(result.records)
                pending.append(self._manifest_line(result, shard_name(seq)))
                if len(pending) >= self.shard_size:
                    self._flush(shard, pending)
                    pending = []
                    seq += 1
                    shard = rundir.shard(seq)
                progress.update(totals, t0)
            if pending:
                self._flush(shard, pending)
        except KeyboardInterrupt as e:  # SIGINT, or SIGTERM (see run())
            totals.seconds = time.monotonic() - t0
            self._write_run_json("interrupted", started)
            raise RunInterrupted(
                f"interrupted after {totals.documents} documents",
                signal.SIGTERM if isinstance(e, _Terminated) else signal.SIGINT) from e
        finally:
            shard.close()  # interrupted: the .tmp is left for the next --resume to remove
            progress.close()
            totals.seconds = time.monotonic() - t0
        if self.resume:
            rundir.compact()
        self._write_run_json("finished", started)
        return totals

    def _flush(self, shard: ShardWriter, lines: list[dict[str, Any]]) -> None:
        """Make the shard durable, then append its documents' manifest lines."""
        if shard.commit():
            self.totals.shards += 1
        self.rundir.append(lines)
