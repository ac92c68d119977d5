"""Streaming extraction over a corpus: inputs → ``nlp.pipe`` → relation shards + a manifest.

Why it looks like this:

* **Streaming.** Inputs are read by generators (files one at a time, JSONL line by line) and fed
  to ``nlp.pipe(as_tuples=True)``; only the documents in flight and the records of the shard
  being filled are held in memory.
* **Ids.** A JSONL document's id is its ``--id-field``; a file's id is its path relative to the
  input root (posix); a JSONL line without an id gets ``<file>:<line>``. A second document with
  an id already seen in this run is an *error* entry keyed by its location (``<file>:<line>``),
  with ``duplicate_of`` naming the id, so every input line is accounted for once.
* **Run directory.** ``relations/shard-NNNNNN.jsonl`` (immutable; written to ``.tmp``, fsynced,
  then ``os.replace``d), ``manifest.jsonl`` (one line per document, appended only after the
  shard holding its records is durable), ``errors.jsonl`` and ``run.json``.
* **Resume and changed documents.** The manifest is append-only and the *last* line of an id
  wins. A manifest line names the shard that holds the document's current records (``null``
  when it has none). ``--resume`` skips documents whose id and sha256 are in the manifest with
  status ``ok``/``skipped``/``error`` (errors are deterministic in the input bytes; pass
  ``--retry-errors`` to process them again, e.g. after fixing permissions); changed documents
  are processed again and their new line supersedes the old one, so records left in an older
  shard are no longer current. :func:`iter_run_records` presents exactly the current records.
  On resume, leftover ``.tmp`` shards and shards no manifest line references (written just
  before a kill) are deleted; at the end the manifest is compacted to one line per id and
  ``errors.jsonl`` rewritten from it.
* **Bad input** never stops the run: non-UTF-8 bytes and NUL bytes (binary files) are error
  entries (no guessing of encodings: the records' offsets must be exact), empty or
  whitespace-only documents are ``skipped``, malformed JSONL lines, a missing text field,
  unreadable or non-regular files and a truncated gzip (documents before the damage are kept)
  are error entries. Documents longer than ``nlp.max_length`` are split at paragraph, then
  sentence, then whitespace boundaries (a hard cut as last resort); the pieces' records are
  shifted back into the original text.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import sys
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from kgx.relations import doc_to_records, model_name

log = logging.getLogger("kgx")

SUFFIXES = (".txt", ".md", ".jsonl", ".txt.gz", ".md.gz", ".jsonl.gz")
MANIFEST = "manifest.jsonl"
ERRORS = "errors.jsonl"
RUN_JSON = "run.json"
RELATIONS = "relations"
_SHARD_RE = re.compile(r"^shard-(\d+)\.jsonl$")
_SENT_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+")

# (seq, doc_id, piece index, number of pieces, char offset): travels with each text through
# nlp.pipe (and to Dask workers), so results can be matched and reassembled.
Ctx = tuple[int, str, int, int, int]


class BatchError(ValueError):
    """The run cannot proceed (no inputs, unusable output directory, model not loadable)."""


def sha256(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# --- reading inputs --------------------------------------------------------------------------


@dataclass
class Entry:
    """One input document, or one input that could not become a document (status error)."""

    id: str
    path: str
    line: int | None
    sha256: str
    text: str | None = None
    status: str = "ok"  # ok | skipped | error
    error: str | None = None
    meta: dict[str, Any] | None = None
    duplicate_of: str | None = None
    seq: int = 0
    loc: str = ""  # the location as an id (``<file>:<line>``), used for duplicates

    @property
    def source(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


def _supported(name: str) -> bool:
    return name.endswith(SUFFIXES)


def discover(
    inputs: Sequence[str | Path], glob: str = "**/*"
) -> Iterator[tuple[Path, Path | None]]:
    """``(file, root)`` for every input; ``root`` is None for stdin (``-``).

    Folders are searched with ``glob`` (sorted, so runs are reproducible) and filtered to the
    supported suffixes; directories are skipped, other non-regular entries are kept so they
    become error entries instead of silently disappearing.
    """
    for item in inputs:
        if str(item) == "-":
            yield Path("-"), None
            continue
        path = Path(item)
        if path.is_dir():
            for p in sorted(path.glob(glob)):
                if _supported(p.name) and not p.is_dir():
                    yield p, path
        elif path.exists() or path.is_symlink():
            yield path, path.parent
        else:
            raise BatchError(f"no such input: {path}")


def _rel_id(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _decode(data: bytes, what: str) -> tuple[str | None, str | None]:
    """``(text, None)`` or ``(None, reason)``: NUL bytes and non-UTF-8 bytes are errors."""
    nul = data.find(b"\x00")
    if nul >= 0:
        return None, f"{what}: binary content (NUL byte at offset {nul})"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, (f"{what}: not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
                      "convert it to UTF-8 first")


def _read_file(path: Path, root: Path) -> Iterator[Entry]:
    doc_id = _rel_id(path, root)
    where = str(path)
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise OSError(f"not a regular file (mode {stat.filemode(mode)})")
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                data = fh.read()
        else:
            data = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        yield Entry(doc_id, where, None, sha256(b""), status="error",
                    error=f"{where}: cannot read: {reason}")
        return
    text, reason = _decode(data, where)
    if text is None:
        yield Entry(doc_id, where, None, sha256(data), status="error", error=reason)
        return
    yield Entry(doc_id, where, None, sha256(text), text=text,
                status="ok" if text.strip() else "skipped")


def _jsonl_entry(raw: bytes, lineno: int, where: str, rel: str, id_field: str,
                 text_field: str) -> Entry | None:
    if not raw.strip():
        return None
    loc_id = f"{rel}:{lineno}"
    line, reason = _decode(raw, f"{where}:{lineno}")
    if line is None:
        return Entry(loc_id, where, lineno, sha256(raw), status="error", error=reason)
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        return Entry(loc_id, where, lineno, sha256(raw), status="error",
                     error=f"{where}:{lineno}: malformed JSON: {e.msg} (column {e.colno})")
    if not isinstance(obj, dict):
        return Entry(loc_id, where, lineno, sha256(raw), status="error",
                     error=f"{where}:{lineno}: expected a JSON object, got {type(obj).__name__}")
    raw_id = obj.get(id_field)
    doc_id = loc_id if raw_id is None or raw_id == "" else str(raw_id)
    text = obj.get(text_field)
    if not isinstance(text, str):
        problem = "missing" if text is None else f"not a string ({type(text).__name__})"
        return Entry(doc_id, where, lineno, sha256(raw), status="error", loc=loc_id,
                     error=f"{where}:{lineno}: text field {text_field!r} is {problem}")
    meta = {k: v for k, v in obj.items() if k not in (id_field, text_field)}
    return Entry(doc_id, where, lineno, sha256(text), text=text, meta=meta or None,
                 status="ok" if text.strip() else "skipped", loc=loc_id)


def _read_jsonl(path: Path, root: Path | None, id_field: str, text_field: str) -> Iterator[Entry]:
    if root is None:
        where, rel = "<stdin>", "<stdin>"
    else:
        where, rel = str(path), _rel_id(path, root)
    lineno = 0
    try:
        if root is None:
            fh: IO[bytes] = sys.stdin.buffer
        else:
            mode = path.stat().st_mode
            if not stat.S_ISREG(mode):
                raise OSError(f"not a regular file (mode {stat.filemode(mode)})")
            fh = gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")
    except OSError as e:
        reason = e.strerror or str(e)
        yield Entry(rel, where, None, sha256(b""), status="error",
                    error=f"{where}: cannot read: {reason}")
        return
    try:
        for raw in fh:
            lineno += 1
            entry = _jsonl_entry(raw, lineno, where, rel, id_field, text_field)
            if entry is not None:
                yield entry
    except (EOFError, OSError, zlib.error) as e:
        yield Entry(f"{rel}:{lineno + 1}", where, lineno + 1, sha256(b""), status="error",
                    error=f"{where}: unreadable after line {lineno} (truncated or corrupt "
                          f"file: {e}); the {lineno} lines before were kept")
    finally:
        if root is not None:
            fh.close()


def read_inputs(
    inputs: Sequence[str | Path],
    *,
    glob: str = "**/*",
    id_field: str = "id",
    text_field: str = "text",
) -> Iterator[Entry]:
    """Every input document as an :class:`Entry`, duplicates of an earlier id as errors."""
    seen: dict[str, str] = {}
    for path, root in discover(inputs, glob):
        if root is None or path.name.endswith((".jsonl", ".jsonl.gz")):
            entries = _read_jsonl(path, root, id_field, text_field)
        else:
            entries = _read_file(path, root)
        for entry in entries:
            first = seen.get(entry.id)
            if first is not None:
                loc = entry.loc if entry.loc and entry.loc != entry.id else f"{entry.source}#dup"
                entry = Entry(loc, entry.path, entry.line, entry.sha256, status="error",
                              duplicate_of=entry.id,
                              error=f"{entry.source}: duplicate id {entry.id!r} "
                                    f"(first seen at {first})")
            seen.setdefault(entry.id, entry.source)
            yield entry


# --- long documents --------------------------------------------------------------------------


def split_points(text: str, limit: int) -> list[tuple[int, int]]:
    """``(start, end)`` pieces of ``text``, each at most ``limit`` characters.

    Cuts after the last paragraph break in the window, else the last line break, else the
    last sentence end, else the last whitespace (each only when it keeps the piece at least
    half the limit), else a hard cut.
    """
    if limit < 2:
        raise ValueError(f"the piece limit must be at least 2 characters, got {limit}")
    pieces: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while n - start > limit:
        stop = start + limit
        window = text[start:stop]
        half = limit // 2
        cut = -1
        for sep in ("\n\n", "\n"):
            i = window.rfind(sep)
            if i >= half:
                cut = i + len(sep)
                break
        if cut < 0:
            last = None
            for m in _SENT_END.finditer(window, half):
                last = m
            if last is not None:
                cut = last.end()
        if cut < 0:
            m = re.search(r"\s(?=\S*$)", window[half:])
            if m is not None:
                cut = half + m.end()
        if cut <= 0:
            cut = limit
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, n))
    return pieces


# --- annotation ------------------------------------------------------------------------------

_FAILURES: dict[tuple, str] = {}


def _set_error_handler(nlp: Any, handler: Callable[..., None]) -> None:
    """``nlp.set_error_handler`` for every component that can hold one: spaCy's Cython
    parsers (a trained ``ner``) have no ``error_handler`` slot and raise AttributeError."""
    nlp.default_error_handler = handler
    for _, proc in nlp.pipeline:
        try:
            proc.set_error_handler(handler)
        except AttributeError:
            log.debug("component %s cannot hold an error handler", type(proc).__name__)


def _single_torch_thread() -> None:
    """PyTorch's OpenMP pool does not survive ``fork`` (spaCy #6662, #4667): the workers of
    ``nlp.pipe(n_process>1)`` hang unless the parent runs torch on one thread."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _keep_going(name: str | None, proc: Any, docs: list | None, e: Exception) -> None:
    """spaCy error handler: log, remember why, and let the rest of the stream continue."""
    for doc in docs or []:
        ctx = getattr(doc, "_context", None)
        if isinstance(ctx, tuple):
            _FAILURES[tuple(ctx)] = f"component {name!r} failed: {type(e).__name__}: {e}"
    log.error("component %r failed on %d document(s): %s", name, len(docs or []), e)


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
    on it (the pipe continues with the next documents)."""
    model = model if model is not None else model_name(nlp)
    _set_error_handler(nlp, _keep_going)
    if n_process > 1:
        _single_torch_thread()
    inflight: deque[Ctx] = deque()

    def feed() -> Iterator[tuple[str, Ctx]]:
        for text, ctx in pieces:
            inflight.append(ctx)
            yield text, ctx

    def lost(ctx: Ctx) -> tuple[Ctx, dict[str, Any]]:
        reason = _FAILURES.pop(tuple(ctx), "the pipeline failed on this document (see the log)")
        return ctx, {"error": reason}

    for doc, ctx in nlp.pipe(feed(), as_tuples=True, batch_size=batch_size, n_process=n_process):
        ctx = tuple(ctx)
        while inflight and inflight[0] != ctx:
            yield lost(inflight.popleft())
        if inflight:
            inflight.popleft()
        yield ctx, {
            "records": list(doc_to_records(doc, ctx[1], model, char_offset=ctx[4])),
            "words": _count_words(doc),
            "entities": len(doc.ents),
        }
    while inflight:
        yield lost(inflight.popleft())


@dataclass
class DocResult:
    """A finished document: its entry and, when processed, records and counts."""

    entry: Entry
    records: list[dict[str, Any]] = field(default_factory=list)
    words: int = 0
    entities: int = 0
    pieces: int = 1
    chars: int = 0


Annotator = Callable[[Iterable[tuple[str, Ctx]]], Iterator[tuple[Ctx, dict[str, Any]]]]


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


def load_model(model: str | Path | Any) -> Any:
    """A loaded pipeline (``spacy.load``), or ``model`` itself when it already is one."""
    if not isinstance(model, (str, Path)):
        return model
    import spacy

    try:
        return spacy.load(model)
    except (OSError, ValueError, ImportError) as e:
        raise BatchError(f"cannot load the pipeline {str(model)!r}: {e}") from e


def extract(
    inputs: Sequence[str | Path],
    model: str | Path | Any,
    *,
    glob: str = "**/*",
    id_field: str = "id",
    text_field: str = "text",
    batch_size: int = 64,
    n_process: int = 1,
    max_length: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Relation records of every input document, streamed (no run directory is written).

    ``model`` is a pipeline name, path or a loaded ``Language``; inputs are files, folders or
    ``-`` (stdin JSONL). Documents that fail are logged and yield no records.
    """
    nlp = load_model(model)
    limit = max_length or nlp.max_length
    entries = read_inputs(inputs, glob=glob, id_field=id_field, text_field=text_field)
    annotator = local_annotator(nlp, batch_size=batch_size, n_process=n_process)
    for result in assemble(entries, annotator, limit):
        if result.entry.status == "error":
            log.warning("%s", result.entry.error)
        yield from result.records


# --- the run directory -----------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_manifest(run_dir: str | Path) -> Iterator[dict[str, Any]]:
    """Every complete manifest line, in order (a line cut short by a kill is ignored)."""
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        return
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                yield json.loads(raw)
            except json.JSONDecodeError:
                log.warning("%s: skipping a damaged manifest line", path)


def current_manifest(run_dir: str | Path) -> dict[str, dict[str, Any]]:
    """id → the document's current manifest line (the last one for that id)."""
    return {line["id"]: line for line in read_manifest(run_dir)}


def current_shards(run_dir: str | Path) -> dict[str, str]:
    """Per document id, the shard its current (last) manifest line names; documents whose
    current line is an error or has no records are absent."""
    where: dict[str, str] = {}
    for line in read_manifest(Path(run_dir)):
        if line.get("status") == "ok" and line.get("shard"):
            where[line.get("id")] = line["shard"]
        else:
            where.pop(line.get("id"), None)
    return where


def iter_run_records(run_dir: str | Path) -> Iterator[dict[str, Any]]:
    """Exactly the current records of a run: per document, those of the shard its current
    manifest line names (superseded and orphaned records are left out)."""
    run_dir = Path(run_dir)
    where = current_shards(run_dir)
    rel = run_dir / RELATIONS
    if not rel.is_dir():
        raise ValueError(f"{run_dir} is not a run directory: it has no {RELATIONS}/ folder")
    wanted = set(where.values())
    for shard in sorted(p for p in rel.iterdir() if p.name in wanted):
        with shard.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if where.get(rec["doc_id"]) == shard.name:
                    yield rec


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


class _Progress:
    """A tqdm bar on a terminal, periodic log lines otherwise."""

    def __init__(self, enabled: bool | None, every: float = 10.0) -> None:
        self.bar = None
        self.every = every
        self.last = time.monotonic()
        if enabled is None:
            enabled = sys.stderr.isatty()
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(unit="doc", desc="extract", dynamic_ncols=True)

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


class ExtractionRun:
    """One ``kgx extract`` run writing a run directory (see the module docstring).

    ``annotator`` replaces the local ``nlp.pipe`` (``kgx.distributed`` passes a Dask one).
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
        batch_size: int = 64,
        n_process: int = 1,
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
        if next(discover(self.inputs, glob), None) is None:
            raise BatchError(f"no input documents: {', '.join(map(str, self.inputs))} holds no "
                             f"{'/'.join(SUFFIXES)} files matching {glob!r}")
        self.output = Path(output)
        self.glob, self.id_field, self.text_field = glob, id_field, text_field
        self.batch_size, self.n_process, self.shard_size = batch_size, n_process, shard_size
        if resume and overwrite:
            raise BatchError("--resume continues a run and --overwrite replaces it: pass one")
        self.resume, self.retry_errors, self.overwrite = resume, retry_errors, overwrite
        self.progress = progress
        self.args = dict(args or {})
        self._prepare_output()
        self.model_ref = str(model) if isinstance(model, (str, Path)) else None
        self.nlp = load_model(model)
        self.model = model_name(self.nlp)
        self.limit = max_length or self.nlp.max_length
        self.annotator = annotator or local_annotator(self.nlp, batch_size=batch_size,
                                                      n_process=n_process)
        self.totals = RunTotals()

    # --- setup

    def _prepare_output(self) -> None:
        out = self.output
        if out.exists() and not out.is_dir():
            raise BatchError(f"output {out} exists and is not a directory")
        if out.is_dir() and any(out.iterdir()) and not self.resume:
            if (out / MANIFEST).exists() and self.overwrite:
                log.info("replacing the run in %s (--overwrite)", out)
                shutil.rmtree(out)  # only a directory holding a kgx run is ever removed
            elif (out / MANIFEST).exists():
                raise BatchError(f"{out} already holds a run: pass --resume to continue it, "
                                 "--overwrite to replace it, or choose a new output directory")
            else:
                raise BatchError(f"output directory {out} is not empty")
        try:
            (out / RELATIONS).mkdir(parents=True, exist_ok=True)
            probe = out / ".kgx-write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise BatchError(f"output directory {out} is not writable: {e.strerror or e}") from e

    def _recover(self) -> dict[str, tuple[str, str]]:
        """Clean up after an interrupted run; id → (sha256, status) of the documents done."""
        manifest = self.output / MANIFEST
        if manifest.is_file():
            size = manifest.stat().st_size
            with manifest.open("rb+") as fh:
                fh.seek(max(0, size - 1))
                if size and fh.read(1) != b"\n":
                    keep, pos = 0, size
                    while pos > 0:
                        step = min(pos, 1 << 16)
                        pos -= step
                        fh.seek(pos)
                        i = fh.read(step).rfind(b"\n")
                        if i >= 0:
                            keep = pos + i + 1
                            break
                    fh.truncate(keep)
                    log.warning("%s: dropped an incomplete last line", manifest)
        done: dict[str, tuple[str, str]] = {}
        referenced: set[str] = set()
        for line in read_manifest(self.output):
            done[line["id"]] = (line.get("sha256", ""), line.get("status", ""))
            if line.get("shard"):
                referenced.add(line["shard"])
        for p in (self.output / RELATIONS).iterdir():
            if p.name.endswith(".tmp"):
                log.warning("removing %s, left by an interrupted run", p)
                p.unlink()
            elif _SHARD_RE.match(p.name) and p.name not in referenced:
                log.warning("removing %s: written by an interrupted run, no manifest line "
                            "refers to it (its documents are processed again)", p)
                p.unlink()
        return done

    def _next_shard(self) -> int:
        nums = [int(m.group(1)) for p in (self.output / RELATIONS).iterdir()
                if (m := _SHARD_RE.match(p.name))]
        return max(nums, default=-1) + 1

    def _write_run_json(self, status: str, started: float) -> None:
        info = {
            "status": status,
            "model": self.model,
            "model_path": self.model_ref,
            "inputs": [str(i) for i in self.inputs],
            "args": {
                "glob": self.glob, "id_field": self.id_field, "text_field": self.text_field,
                "batch_size": self.batch_size, "n_process": self.n_process,
                "shard_size": self.shard_size, "resume": self.resume,
                "retry_errors": self.retry_errors, "max_length": self.limit, **self.args,
            },
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "totals": {**asdict(self.totals), "words_per_second": self.totals.words_per_second},
        }
        path = self.output / RUN_JSON
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    # --- the run

    def _entries(self, done: dict[str, tuple[str, str]]) -> Iterator[Entry]:
        redo = {"ok", "skipped"} if self.retry_errors else {"ok", "skipped", "error"}
        for entry in read_inputs(self.inputs, glob=self.glob, id_field=self.id_field,
                                 text_field=self.text_field):
            prev = done.get(entry.id)
            if prev is not None and prev[0] == entry.sha256 and prev[1] in redo:
                self.totals.unchanged += 1
                continue
            if prev is not None:
                self._superseded += 1
            yield entry

    def _manifest_line(self, r: DocResult, shard: str | None) -> dict[str, Any]:
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
        if e.duplicate_of is not None:
            line["duplicate_of"] = e.duplicate_of
        return line

    @staticmethod
    def _error_line(line: dict[str, Any]) -> dict[str, Any]:
        path, _, lineno = line["source"].rpartition(":")
        out = {"id": line["id"], "source": line["source"], "message": line.get("error", "")}
        if path and lineno.isdigit():
            out.update(path=path, line=int(lineno))
        else:
            out.update(path=line["source"], line=None)
        return out

    def _write_records(self, records: list[dict[str, Any]], seq: int) -> None:
        """Append a document's records to the open ``.tmp`` of shard ``seq`` (records are
        serialised at once, so a shard's records are never all held in memory)."""
        if self._shard_fh is None:
            tmp = self.output / RELATIONS / f"shard-{seq:06d}.jsonl.tmp"
            self._shard_fh = tmp.open("w", encoding="utf-8", buffering=1 << 20)
        dumps = self._dumps
        self._shard_fh.writelines(dumps(rec) + "\n" for rec in records)

    def _flush(self, lines: list[dict[str, Any]], seq: int) -> None:
        """Make shard ``seq`` durable (fsync, rename), then append its manifest lines."""
        fh = self._shard_fh
        if fh is not None:
            self._shard_fh = None
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            tmp = Path(fh.name)
            os.replace(tmp, tmp.with_suffix(""))
            _fsync_dir(tmp.parent)
            self.totals.shards += 1
        errors = [self._error_line(line) for line in lines if line["status"] == "error"]
        dumps = self._dumps
        if errors:
            with (self.output / ERRORS).open("a", encoding="utf-8") as out:
                out.writelines(dumps(e) + "\n" for e in errors)
        with (self.output / MANIFEST).open("a", encoding="utf-8") as out:
            out.writelines(dumps(line) + "\n" for line in lines)
            out.flush()
            os.fsync(out.fileno())

    def _compact(self) -> None:
        """One manifest line per id (the current one); errors.jsonl rewritten from it."""
        last: dict[str, int] = {}
        lines = 0
        for i, line in enumerate(read_manifest(self.output)):
            last[line["id"]] = i
            lines = i + 1
        manifest = self.output / MANIFEST
        tmp_m = manifest.with_name(MANIFEST + ".tmp")
        tmp_e = self.output / (ERRORS + ".tmp")
        with tmp_m.open("w", encoding="utf-8") as fm, tmp_e.open("w", encoding="utf-8") as fe:
            for i, line in enumerate(read_manifest(self.output)):
                if last[line["id"]] != i:
                    continue
                fm.write(json.dumps(line, ensure_ascii=False) + "\n")
                if line["status"] == "error":
                    fe.write(json.dumps(self._error_line(line), ensure_ascii=False) + "\n")
            fm.flush()
            os.fsync(fm.fileno())
        os.replace(tmp_m, manifest)
        os.replace(tmp_e, self.output / ERRORS)
        if lines != len(last):
            log.info("manifest compacted: %d superseded lines dropped", lines - len(last))

    def run(self) -> RunTotals:
        started = time.time()
        t0 = time.monotonic()
        self._superseded = 0
        done = self._recover() if self.resume else {}
        if not self.resume:
            (self.output / MANIFEST).touch()
            (self.output / ERRORS).touch()
        self._write_run_json("running", started)
        seq = self._next_shard()
        totals = self.totals
        progress = _Progress(self.progress)
        pending: list[dict[str, Any]] = []
        self._shard_fh: IO[str] | None = None
        self._dumps = json.JSONEncoder(ensure_ascii=False).encode
        try:
            for result in assemble(self._entries(done), self.annotator, self.limit):
                e = result.entry
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
                if result.records:
                    self._write_records(result.records, seq)
                pending.append(self._manifest_line(result, f"shard-{seq:06d}.jsonl"))
                if len(pending) >= self.shard_size:
                    self._flush(pending, seq)
                    pending = []
                    seq += 1
                progress.update(totals, t0)
            if pending:
                self._flush(pending, seq)
        finally:
            if self._shard_fh is not None:  # interrupted: leave the .tmp for resume to remove
                self._shard_fh.close()
            progress.close()
            totals.seconds = time.monotonic() - t0
        if self.resume:
            self._compact()
        self._write_run_json("finished", started)
        return totals


def run_extraction(
    inputs: Sequence[str | Path], model: str | Path | Any, output: str | Path, **kwargs: Any
) -> RunTotals:
    """Convenience wrapper: ``ExtractionRun(...).run()``."""
    return ExtractionRun(inputs, model, output, **kwargs).run()


def chain_graph(run_dir: str | Path, export_format: str | None = None) -> dict[str, Any]:
    """Build RUN_DIR/graph.json from the run's current records and optionally export RDF to
    RUN_DIR/graph.<ext> (``kgx.graph`` and ``kgx.rdf`` do the work)."""
    from kgx.graph import GraphBuilder, save_graph

    run_dir = Path(run_dir)
    builder = GraphBuilder()
    builder.add_records(iter_run_records(run_dir))
    G = builder.graph
    graph_path = run_dir / "graph.json"
    save_graph(G, graph_path)
    out: dict[str, Any] = {"graph": str(graph_path), "nodes": G.number_of_nodes(),
                           "edges": G.number_of_edges()}
    if export_format:
        from kgx.rdf import FORMATS, export

        if export_format not in FORMATS:
            raise BatchError(f"unknown RDF format {export_format!r} (use one of "
                             f"{', '.join(FORMATS)})")
        suffix = FORMATS[export_format][2][0]
        result = export(G, run_dir / f"graph{suffix}", export_format)
        out.update(rdf=result.path, statements=result.statements)
    return out
