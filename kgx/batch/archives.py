"""Archives of documents (``.zip``, ``.tar``, ``.tar.gz``/``.tgz``): each member read as a file
of its own format would be.

Corpora are often shipped as one archive (a dataset's download, a court's production, a
mailbox export). ``ZipInput`` and ``TarInput`` read an archive as a stream of its members,
never unpacking it to disk: a member whose name has an input format's suffix is read by that
format (other members, folders and links are passed over, as in a folder), a document of one
member has the id ``<archive>/<member>``, and a member holding many documents (JSONL, CSV, a
mailbox, a workbook) gives its documents with their own ids, or ``<archive>/<member>:<line>``.
Each member may unpack to at most the document limit (``kgx.batch.limits``: a zip bomb is an
error entry, never unpacked); an encrypted, damaged or oversized member is an error entry
naming the archive and the member, and the members after it are read. An archive inside a
folder is not opened (it is often a copy of the folder's files): name it to read it.
"""

from __future__ import annotations

import dataclasses
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from kgx.batch import limits
from kgx.batch.inputs import (
    Entry,
    InputFormat,
    RawFile,
    TextInput,
    _without_bom,
    format_of,
    open_many,
    sha256,
)
from kgx.batch.reading import ARCHIVES, one_document

#: a member's name, its input format, and its bytes or why they cannot be read
Member = tuple[str, type[InputFormat], bytes | str]


def _format(name: str) -> type[InputFormat] | None:
    """A member's input format by its name; None for a file of no format or an archive (not
    opened inside an archive either), which are passed over before they are unpacked."""
    fmt = format_of(Path(PurePosixPath(name).name))
    return None if fmt is None or fmt.name in ARCHIVES else fmt


class _ArchiveInput(InputFormat):
    """A file of files: each member read by its own format (module docstring)."""

    @classmethod
    def members(cls, fh: IO[bytes]) -> Iterator[Member]:
        raise NotImplementedError  # each archive format's reader

    @classmethod
    def read(cls, path: Path, root: Path | None, *, id_field: str = "id",
             text_field: str = "text") -> Iterator[Entry]:
        where, rel, fh = open_many(path, root)
        if isinstance(fh, Entry):
            yield fh
            return
        with fh:
            try:
                for name, fmt, content in cls.members(fh):
                    yield from _member(name, fmt, content, rel, where, id_field, text_field)
            except Exception as e:  # a damaged archive fails this archive only, never the run
                yield Entry(f"{rel}:end", where, None, sha256(b""), status="error",
                            error=f"{where}: damaged archive ({e or type(e).__name__}); the "
                                  "members before were kept")


def _member(name: str, fmt: type[InputFormat], content: bytes | str, rel: str, where: str,
            id_field: str, text_field: str) -> Iterator[Entry]:
    doc_id, at = f"{rel}/{name}", f"{where}/{name}"
    if isinstance(content, str):
        yield Entry(doc_id, at, None, sha256(b""), status="error", error=f"{at}: {content}")
        return
    if one_document(fmt):
        assert issubclass(fmt, TextInput)
        data = _without_bom(content)
        yield fmt.parse(RawFile(doc_id, at, data, sha256(data)))
        return
    # a file of many documents: read as a file (its readers stream from a path), its
    # locations and ids given the member's name
    with tempfile.TemporaryDirectory(prefix="kgx-member-") as tmp:
        member = Path(tmp) / PurePosixPath(name).name
        member.write_bytes(content)
        for entry in fmt.read(member, Path(tmp), id_field=id_field, text_field=text_field):
            yield dataclasses.replace(
                entry, id=_renamed(entry.id, member.name, doc_id),
                path=entry.path.replace(str(member), at),
                loc=_renamed(entry.loc, member.name, doc_id),
                error=entry.error.replace(str(member), at) if entry.error else None)


def _renamed(value: str, temporary: str, doc_id: str) -> str:
    """An id or location made from the temporary file's name, made from the member's."""
    if value == temporary:
        return doc_id
    if value.startswith(temporary + ":"):
        return doc_id + value[len(temporary):]
    return value


class ZipInput(_ArchiveInput):
    """A ``.zip`` archive: each member a file of its own format."""

    name = "zip"
    suffixes = (".zip",)

    @classmethod
    def members(cls, fh: IO[bytes]) -> Iterator[Member]:
        with zipfile.ZipFile(fh) as archive:
            for info in archive.infolist():
                fmt = None if info.is_dir() else _format(info.filename)
                if fmt is None:
                    continue
                if info.file_size > limits.document_bytes():  # said before it is unpacked
                    yield info.filename, fmt, limits.over_limit("it holds")
                    continue
                try:
                    with archive.open(info) as member:
                        data = limits.read_within(member)
                except RuntimeError as e:  # an encrypted member
                    yield info.filename, fmt, f"cannot unpack it ({e})"
                    continue
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
                    yield info.filename, fmt, f"damaged or unsupported in the archive ({e})"
                    continue
                yield info.filename, fmt, (data if data is not None
                                           else limits.over_limit("it unpacks to"))


class TarInput(_ArchiveInput):
    """A ``.tar`` archive (``.tar.gz`` gunzipped as any ``.gz``; ``.tgz`` too): each member a
    file of its own format, read as the archive streams past."""

    name = "tar"
    suffixes = (".tar", ".tgz")

    @classmethod
    def members(cls, fh: IO[bytes]) -> Iterator[Member]:
        with tarfile.open(fileobj=fh, mode="r|*") as archive:
            for info in archive:
                fmt = _format(info.name) if info.isfile() else None
                if fmt is None:
                    continue
                if info.size > limits.document_bytes():
                    yield info.name, fmt, limits.over_limit("it holds")
                    continue
                member = archive.extractfile(info)
                data = limits.read_within(member) if member is not None else None
                yield info.name, fmt, data if data is not None else limits.over_limit("it holds")
