"""A run directory: the layout ``kgx extract`` writes, and the one reader of it.

Layout
    ``relations/shard-NNNNNN.jsonl`` holds relation records (:mod:`kgx.records`); a shard is
    immutable once written (written to ``.tmp``, fsynced, then ``os.replace``d).
    ``manifest.jsonl`` has one line per document (id, sha256, status, counts, the shard holding
    its records or ``null``), appended only after that shard is durable. ``errors.jsonl`` lists
    the error entries (id, source, path, line, message); ``run.json`` the run's arguments and
    totals.

Current records
    The manifest is append-only and the *last* line of an id wins: it names the shard that holds
    the document's current records. :func:`iter_run_records` yields exactly those (records of
    a document left in an older shard are superseded), and is what ``kgx graph`` and
    ``kgx extract --then-graph`` both read. A malformed line is reported with its file and line
    and skipped; it never ends the read.

Writing
    :class:`RunDir` prepares, locks, recovers and compacts a run directory and writes its
    shards, manifest and ``run.json``: a second run on a directory in use fails at once
    (:meth:`RunDir.lock`); after a kill, leftover ``.tmp`` shards, shards no manifest line names
    and a manifest line cut short are removed (:meth:`RunDir.recover`).

This module imports neither spaCy nor torch.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import re
import shutil
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kgx.records import Record, RecordError, validate_record

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: runs are not locked
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("kgx")

MANIFEST = "manifest.jsonl"
ERRORS = "errors.jsonl"
RUN_JSON = "run.json"
RELATIONS = "relations"
SHARD_RE = re.compile(r"^shard-(\d+)\.jsonl$")


_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
_ENCODE_ASCII = json.JSONEncoder(ensure_ascii=True, allow_nan=False).encode


def dump_line(obj: Any) -> str:
    """One JSON line (no newline): UTF-8 text as is, never a bare NaN; a string that cannot be
    written as UTF-8 (a lone surrogate) is kept as a JSON ``\\ud800`` escape, so that a line is
    always written and always valid JSON."""
    text = _ENCODE(obj)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _ENCODE_ASCII(obj)
    return text


def shard_name(seq: int) -> str:
    return f"shard-{seq:06d}.jsonl"


class RunDirError(ValueError):
    """A run directory cannot be used (not empty, not writable, in use by another run)."""


# --- reading ---------------------------------------------------------------------------------


@dataclass
class ReadError:
    """One malformed input line: where, and what is wrong with it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _report(err: ReadError, errors: list[ReadError] | None) -> None:
    """Collect a malformed line for the caller to report, or log it when nobody collects."""
    if errors is None:
        log.warning("%s", err)
    else:
        log.debug("%s", err)
        errors.append(err)


def read_jsonl(path: str | Path, errors: list[ReadError] | None = None) -> Iterator[Record]:
    """Valid records of one JSONL file (``.gz`` too); malformed lines go to ``errors``, skipped.

    A line that is not UTF-8 is a malformed line; a file that cannot be read on (a truncated or
    corrupt gzip) is reported with the line it stopped at, and the records before it are kept.
    """
    path = Path(path)
    lineno = 0
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")) as fh:
            for raw in fh:
                lineno += 1
                if not raw.strip():
                    continue
                try:
                    yield validate_record(json.loads(raw.decode("utf-8"),
                                                     parse_constant=_no_constant))
                except UnicodeDecodeError as e:
                    _report(ReadError(str(path), lineno, f"malformed record: not UTF-8 (byte "
                                      f"0x{raw[e.start]:02x} at column {e.start + 1})"), errors)
                except (ValueError, RecordError) as e:  # JSONDecodeError is a ValueError
                    _report(ReadError(str(path), lineno, f"malformed record: {e}"), errors)
    except (EOFError, OSError, zlib.error) as e:
        _report(ReadError(str(path), lineno + 1, f"unreadable after line {lineno} (truncated or "
                          f"corrupt file: {e}); the records before it were kept"), errors)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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


def current_shards(run_dir: str | Path) -> dict[str, str]:
    """Per document id, the shard its current (last) manifest line names; documents whose
    current line is an error or has no records are absent."""
    where: dict[str, str] = {}
    for line in read_manifest(Path(run_dir)):
        doc_id = line.get("id")
        if not isinstance(doc_id, str):
            continue
        if line.get("status") == "ok" and line.get("shard"):
            where[doc_id] = line["shard"]
        else:
            where.pop(doc_id, None)
    return where


def documents_without_records(run_dir: str | Path) -> set[str]:
    """Ids whose current manifest line names no shard: documents that now have no relation
    (``"shard": null``), failed or were skipped. An incremental graph update removes them, as
    a build from scratch never sees them."""
    current: dict[str, bool] = {}
    for line in read_manifest(Path(run_dir)):
        doc_id = line.get("id")
        if isinstance(doc_id, str):
            current[doc_id] = bool(line.get("status") == "ok" and line.get("shard"))
    return {doc_id for doc_id, has in current.items() if not has}


def run_shards(run_dir: str | Path) -> list[Path]:
    """The relation shards of a run directory (``relations/*.jsonl[.gz]``, never ``*.tmp``)."""
    rel = Path(run_dir) / RELATIONS
    if not rel.is_dir():
        raise RunDirError(f"{run_dir} is not a run directory: it has no {RELATIONS}/ folder")
    return sorted(
        p for p in rel.iterdir()
        if p.is_file() and (p.name.endswith(".jsonl") or p.name.endswith(".jsonl.gz"))
    )


def iter_run_records(
    run_dir: str | Path, errors: list[ReadError] | None = None
) -> Iterator[Record]:
    """Exactly the current records of a run directory (module docstring), shard by shard.

    With a ``manifest.jsonl``, per document those of the shard its last manifest line names
    (superseded and orphaned records are left out); without one, every shard in name order.
    Malformed lines go to ``errors`` (logged when it is None) and are skipped.
    """
    run_dir = Path(run_dir)
    shards = run_shards(run_dir)
    if not (run_dir / MANIFEST).is_file():
        for shard in shards:
            yield from read_jsonl(shard, errors)
        return
    where = current_shards(run_dir)
    wanted = set(where.values())
    for shard in shards:
        if shard.name in wanted:
            for rec in read_jsonl(shard, errors):
                if where.get(rec["doc_id"]) == shard.name:
                    yield rec


def iter_input_records(
    path: str | Path, errors: list[ReadError] | None = None
) -> Iterator[Record]:
    """Records of a run directory (:func:`iter_run_records`) or of a ``.jsonl[.gz]`` file."""
    path = Path(path)
    if path.is_dir():
        yield from iter_run_records(path, errors)
    elif path.is_file():
        if not (path.name.endswith(".jsonl") or path.name.endswith(".jsonl.gz")):
            raise RunDirError(f"{path}: expected a run directory or a .jsonl / .jsonl.gz file")
        yield from read_jsonl(path, errors)
    else:
        raise RunDirError(f"no such input: {path}")


# --- writing ---------------------------------------------------------------------------------


def fsync_dir(path: Path) -> None:
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


def error_line(line: dict[str, Any]) -> dict[str, Any]:
    """The ``errors.jsonl`` line of a manifest line with status error."""
    path, _, lineno = line["source"].rpartition(":")
    out = {"id": line["id"], "source": line["source"], "message": line.get("error", "")}
    if path and lineno.isdigit():
        out.update(path=path, line=int(lineno))
    else:
        out.update(path=line["source"], line=None)
    return out


class ShardWriter:
    """One shard being filled: records go to ``shard-N.jsonl.tmp`` (opened on the first
    record, serialised at once so a shard is never all in memory); :meth:`commit` makes it
    durable under its final name."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self._fh: IO[str] | None = None

    def write(self, records: Iterable[Record]) -> None:
        if self._fh is None:
            self._fh = self.tmp.open("w", encoding="utf-8", buffering=1 << 20)
        self._fh.writelines(dump_line(rec) + "\n" for rec in records)

    def commit(self) -> bool:
        """fsync, rename to the final name, fsync the folder; False when nothing was written."""
        fh, self._fh = self._fh, None
        if fh is None:
            return False
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        os.replace(self.tmp, self.tmp.with_suffix(""))
        fsync_dir(self.tmp.parent)
        return True

    def close(self) -> None:
        """Close without committing (an interrupted run: the ``.tmp`` is left for recovery)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class RunDir:
    """The writing side of a run directory (module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.relations = self.path / RELATIONS
        self.manifest = self.path / MANIFEST
        self.errors = self.path / ERRORS

    def prepare(self, *, resume: bool = False, overwrite: bool = False) -> None:
        """Create the directory, or check that it may be used: a run is continued only with
        ``resume`` and replaced only with ``overwrite`` (only a directory holding a manifest is
        ever removed); anything else in it is an error, as is a directory we cannot write."""
        out = self.path
        if out.exists() and not out.is_dir():
            raise RunDirError(f"output {out} exists and is not a directory")
        if out.is_dir() and any(out.iterdir()) and not resume:
            if self.manifest.exists() and overwrite:
                with self.lock():  # never remove a run that is in progress
                    pass
                log.info("replacing the run in %s (--overwrite)", out)
                shutil.rmtree(out)
            elif self.manifest.exists():
                raise RunDirError(f"{out} already holds a run: pass --resume to continue it, "
                                  "--overwrite to replace it, or choose a new output directory")
            else:
                raise RunDirError(f"output directory {out} is not empty")
        try:
            self.relations.mkdir(parents=True, exist_ok=True)
            probe = out / ".kgx-write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise RunDirError(f"output directory {out} is not writable: {e.strerror or e}") from e

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the directory (``flock``, released when the process ends,
        even by SIGKILL); a clear error when another run holds it."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise RunDirError(f"{self.path} is in use by another kgx run: wait for it to "
                                      "finish, or choose another output directory") from None
            yield
        finally:
            os.close(fd)

    def recover(self) -> dict[str, tuple[str, str]]:
        """Clean up after an interrupted run; id → (sha256, status) of the documents done (a
        document a pipeline component failed on has status ``retry``: it is not done)."""
        manifest = self.manifest
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
        for line in read_manifest(self.path):
            status = line.get("status", "")
            if status == "error" and line.get("stage") == "pipeline":
                status = "retry"
            done[line["id"]] = (line.get("sha256", ""), status)
            if line.get("shard"):
                referenced.add(line["shard"])
        for p in self.relations.iterdir():
            if p.name.endswith(".tmp"):
                log.warning("removing %s, left by an interrupted run", p)
                p.unlink()
            elif SHARD_RE.match(p.name) and p.name not in referenced:
                log.warning("removing %s: written by an interrupted run, no manifest line "
                            "refers to it (its documents are processed again)", p)
                p.unlink()
        return done

    def start(self) -> None:
        """A new run: empty manifest and error list."""
        self.manifest.touch()
        self.errors.touch()

    def next_shard(self) -> int:
        nums = [int(m.group(1)) for p in self.relations.iterdir()
                if (m := SHARD_RE.match(p.name))]
        return max(nums, default=-1) + 1

    def shard(self, seq: int) -> ShardWriter:
        return ShardWriter(self.relations / (shard_name(seq) + ".tmp"))

    def append(self, lines: list[dict[str, Any]]) -> None:
        """Append manifest lines (fsynced) and the error lines of those with status error."""
        errors = [error_line(line) for line in lines if line["status"] == "error"]
        if errors:
            with self.errors.open("a", encoding="utf-8") as out:
                out.writelines(dump_line(e) + "\n" for e in errors)
        with self.manifest.open("a", encoding="utf-8") as out:
            out.writelines(dump_line(line) + "\n" for line in lines)
            out.flush()
            os.fsync(out.fileno())

    def compact(self) -> None:
        """One manifest line per id (the current one); errors.jsonl rewritten from it."""
        last: dict[str, int] = {}
        lines = 0
        for i, line in enumerate(read_manifest(self.path)):
            last[line["id"]] = i
            lines = i + 1
        tmp_m = self.manifest.with_name(MANIFEST + ".tmp")
        tmp_e = self.path / (ERRORS + ".tmp")
        with tmp_m.open("w", encoding="utf-8") as fm, tmp_e.open("w", encoding="utf-8") as fe:
            for i, line in enumerate(read_manifest(self.path)):
                if last[line["id"]] != i:
                    continue
                fm.write(dump_line(line) + "\n")
                if line["status"] == "error":
                    fe.write(dump_line(error_line(line)) + "\n")
            fm.flush()
            os.fsync(fm.fileno())
        os.replace(tmp_m, self.manifest)
        os.replace(tmp_e, self.errors)
        if lines != len(last):
            log.info("manifest compacted: %d superseded lines dropped", lines - len(last))

    def read_run_json(self) -> dict[str, Any]:
        """What ``run.json`` holds; empty when there is none or it cannot be read."""
        try:
            info = json.loads((self.path / RUN_JSON).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def write_run_json(self, info: dict[str, Any]) -> None:
        """Write ``run.json`` atomically."""
        path = self.path / RUN_JSON
        tmp = path.with_name(path.name + ".tmp")
        text = json.dumps(info, indent=2, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # an input path that is not UTF-8
            text = json.dumps(info, indent=2)
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, path)
