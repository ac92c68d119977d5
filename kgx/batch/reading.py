"""A run's inputs found and read: files, folders and stdin → one :class:`Entry` per document.

* **Order.** Folders are searched in sorted order and documents come out in input order,
  however they were read, so a run's shards and manifest do not depend on the scheduling.
* **Duplicates.** A second document with an id already seen is an *error* entry keyed by its
  location, with ``duplicate_of`` naming the id, so every input is accounted for once.
* **Unchanged files are not read again.** A file holding one document (a
  :class:`~kgx.batch.inputs.TextInput` format) is hashed from its bytes before its text is
  taken out: ``--resume`` skips an unchanged PDF without laying out its pages again.
* **Reading elsewhere.** Taking the text out of a PDF or an office file costs far more than
  hashing it (a PDF page's layout, some 0.04 s). Given an executor (a process pool, a Dask
  cluster's), one-document files are parsed there, a bounded number ``ahead`` of the
  document being yielded, so that a run whose annotation is spread over many processes is not
  held to the speed of one reader. Files of many documents (JSONL, mbox, CSV) stream here, line by
  line, as before.
"""

from __future__ import annotations

import logging
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

from kgx.batch.inputs import (
    INPUT_FORMATS,
    STDIN_FORMAT,
    BatchError,
    Entry,
    InputFormat,
    RawFile,
    TextInput,
    check_encoding,
    format_of,
    read_options,
)
from kgx.batch.sniff import sniff_file

log = logging.getLogger("kgx")

#: input formats that hold files, not documents: read when named, not found in folders
ARCHIVES = ("zip", "tar")
#: ``unchanged(id, sha256)``: True when the caller already holds this version of the document
#: (it is then neither read nor yielded)
Unchanged = Callable[[str, str], bool]


def forced_format(name: str | None) -> type[InputFormat] | None:
    """The input format a run reads every file as (``--format``), whatever its suffix; None
    for none; BatchError for a name that is no input format or an archive's (an archive is a
    container, known by its suffix: the format applies to its members)."""
    if name is None:
        return None
    names = [n for n in INPUT_FORMATS.names() if n not in ARCHIVES]
    if name not in names:
        why = ("an archive is known by its suffix, and --format is what its members are read "
               "as" if name in ARCHIVES else "not an input format")
        raise BatchError(f"--format {name!r}: {why} (one of {', '.join(names)})")
    return INPUT_FORMATS[name]


def discover(
    inputs: Sequence[str | Path], glob: str = "**/*", forced: type[InputFormat] | None = None
) -> Iterator[tuple[Path, Path | None, type[InputFormat]]]:
    """``(file, root, format)`` for every input: ``root`` is None for stdin (``-``, read as
    JSONL), ``format`` what the file is read as (``file_format``; a file is looked at once).

    Folders are searched with ``glob`` (sorted, so runs are reproducible) and filtered to the
    supported suffixes and the files without one that ``kgx.batch.sniff`` knows by their first
    bytes (with a ``forced`` format, to the files that are not hidden); directories are
    skipped, other non-regular entries are kept so they become error entries instead of
    silently disappearing. Archives in a folder are not opened (often a copy of the folder's
    files; a warning names them): an archive named as an input is.
    """
    for item in inputs:
        if str(item) == "-":
            yield Path("-"), None, INPUT_FORMATS[STDIN_FORMAT]
            continue
        path = Path(item)
        if path.is_dir():
            archives = []
            for p in sorted(path.glob(glob)):
                if p.is_dir():
                    continue
                fmt = format_of(p)
                if fmt is not None and fmt.name in ARCHIVES:
                    archives.append(p.name)  # often a copy of the folder: named, it is read
                elif forced is not None:
                    if not p.name.startswith("."):
                        yield p, path, forced
                elif fmt is not None:
                    yield p, path, fmt
                elif (found := sniff_file(p)) is not None:
                    yield p, path, INPUT_FORMATS[found]
            if archives:
                log.warning("%s: %d archive(s) not opened (%s): name an archive to read it",
                            path, len(archives), ", ".join(archives[:3])
                            + (", ..." if len(archives) > 3 else ""))
        elif path.exists() or path.is_symlink():
            yield path, path.parent, file_format(path, forced)
        else:
            raise BatchError(f"no such input: {path}")


def count_documents(inputs: Sequence[str | Path], glob: str = "**/*",
                    forced: type[InputFormat] | None = None) -> int | None:
    """How many documents the inputs hold (each JSONL file read once, line by line); None when
    it cannot be told beforehand (stdin, a format that does not say)."""
    total = 0
    for path, root, fmt in discover(inputs, glob, forced):
        n = None if root is None else fmt.count(path)
        if n is None:
            return None
        total += n
    return total


def file_format(path: Path, forced: type[InputFormat] | None = None) -> type[InputFormat]:
    """The format a file is read as: an archive by its suffix, else the ``forced`` one, else
    its suffix's, else what its first bytes say (``kgx.batch.sniff``), else plain text."""
    fmt = format_of(path)
    if fmt is not None and (forced is None or fmt.name in ARCHIVES):
        return fmt
    if forced is not None:
        return forced
    found = sniff_file(path)
    return INPUT_FORMATS[found] if found else TextInput


def one_document(fmt: type[InputFormat]) -> bool:
    """Whether files of ``fmt`` are read in two steps (``load``, then ``parse``): a
    ``TextInput`` format that keeps its ``read`` (a plugin's own ``read`` is used as it is)."""
    return issubclass(fmt, TextInput) and fmt.read.__func__ is TextInput.read.__func__  # type: ignore[attr-defined]


def parse_file(fmt: type[TextInput], raw: RawFile, id_field: str = "id",
               text_field: str = "text", encoding: str | None = None) -> list[Entry]:
    """``fmt.parse_all(raw)`` (the file's entry, after its attachments'), as a module-level
    function: what an executor runs."""
    return fmt.parse_all(raw, **read_options(id_field, text_field, encoding, fmt.parse_all))


class _Parsing:
    """One file being parsed in an executor; parsed here when the executor fails it."""

    def __init__(self, future: Future, fmt: type[TextInput], raw: RawFile,
                 fields: tuple[str, str, str | None]) -> None:
        self.future, self.fmt, self.raw, self.fields = future, fmt, raw, fields

    def entries(self) -> list[Entry]:
        try:
            return self.future.result()
        except Exception as e:  # a dead worker process, a lost Dask worker: not the file's fault
            log.warning("%s: reading it in another process failed (%s: %s); reading it here",
                        self.raw.where, type(e).__name__, e)
            return parse_file(self.fmt, self.raw, *self.fields)


@contextmanager
def reading_pool(processes: int) -> Iterator[tuple[Executor | None, int]]:
    """``(executor, ahead)`` for :func:`read_inputs`: a pool of ``processes`` processes,
    started fresh (``spawn``: nothing of the caller's threads or torch state is inherited) and
    stopped on leaving, reading ``4 * processes`` files ahead; ``(None, 0)`` for none."""
    if processes < 1:
        yield None, 0
        return
    # Ctrl-C reaches the whole process group: the caller stops the readers itself
    pool = ProcessPoolExecutor(processes, mp_context=get_context("spawn"),
                               initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))
    try:
        yield pool, 4 * processes
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def read_inputs(
    inputs: Sequence[str | Path],
    *,
    glob: str = "**/*",
    id_field: str = "id",
    text_field: str = "text",
    encoding: str | None = None,
    input_format: str | None = None,
    unchanged: Unchanged | None = None,
    executor: Executor | None = None,
    ahead: int = 16,
) -> Iterator[Entry]:
    """Every input document as an :class:`Entry`, in input order, duplicates of an earlier id
    as errors.

    encoding (str | None): The encoding of text files that are not UTF-8 and declare none
        (``--encoding``; :func:`~kgx.batch.inputs.check_encoding`); None: such files are
        error entries.
    input_format (str | None): Read every file found, and an archive's members, as this
        input format whatever its suffix (``--format``: :func:`forced_format`); stdin stays
        JSONL.
    unchanged (Unchanged | None): Tells the one-document files the caller already has (by id
        and sha256 of their bytes); those are not parsed, and not yielded.
    executor (Executor | None): Where one-document files are parsed; None: here, one at a time.
    ahead (int): With an executor, how many files may be loaded and parsing ahead of the one
        being yielded (their bytes and texts are held meanwhile).
    """
    seen: dict[str, str] = {}
    loaded: set[str] = set()  # ids of one-document files loaded, yielded or not yet
    queue: deque[list[Entry] | _Parsing] = deque()  # each file's entries, or their parsing
    encoding = check_encoding(encoding)
    forced = forced_format(input_format)
    fields = (id_field, text_field, encoding)
    broken = False

    def checked(entry: Entry) -> Entry:
        first = seen.get(entry.id)
        if first is not None:
            loc = entry.loc if entry.loc and entry.loc != entry.id else f"{entry.source}#dup"
            entry = Entry(loc, entry.path, entry.line, entry.sha256, status="error",
                          duplicate_of=entry.id,
                          error=f"{entry.source}: duplicate id {entry.id!r} "
                                f"(first seen at {first})")
        seen.setdefault(entry.id, entry.source)
        return entry

    def drain(keep: int) -> Iterator[Entry]:
        while len(queue) > keep:
            item = queue.popleft()
            for entry in item.entries() if isinstance(item, _Parsing) else item:
                yield checked(entry)

    for path, root, fmt in discover(inputs, glob, forced):
        if root is None or not one_document(fmt):
            yield from drain(0)
            options = read_options(*fields, fmt.read)
            if forced is not None and fmt.name in ARCHIVES:
                options["input_format"] = forced.name  # its members
            for entry in fmt.read(path, root, **options):
                yield checked(entry)
            continue
        assert issubclass(fmt, TextInput)
        raw = fmt.load(path, root)
        if isinstance(raw, Entry):
            queue.append([raw])
        elif (unchanged is not None and raw.id not in seen and raw.id not in loaded
              and unchanged(raw.id, raw.sha256)):  # its attachments too: they are its bytes
            seen[raw.id] = raw.where
        elif executor is None or broken:
            queue.append(parse_file(fmt, raw, *fields))
        else:
            try:
                queue.append(_Parsing(executor.submit(parse_file, fmt, raw, *fields), fmt, raw,
                                      fields))
            except RuntimeError as e:  # the pool is broken or shut down: read here
                log.warning("the reading processes are gone (%s); reading here", e)
                broken = True
                queue.append(parse_file(fmt, raw, *fields))
        if not isinstance(raw, Entry):
            loaded.add(raw.id)
        yield from drain(ahead if executor is not None else 0)
    yield from drain(0)
