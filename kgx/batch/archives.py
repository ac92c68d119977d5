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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from kgx.batch import limits
from kgx.batch.inputs import (
    INPUT_FORMATS,
    Entry,
    InputFormat,
    RawFile,
    TextInput,
    _without_bom,
    format_of,
    open_many,
    read_options,
    sha256,
)
from kgx.batch.reading import ARCHIVES, one_document
from kgx.batch.sniff import HEAD_BYTES, sniffed

#: a member's name, its input format, and its bytes or why they cannot be read
Member = tuple[str, type[InputFormat], bytes | str]


def _sniffable(name: str, forced: str | None) -> bool:
    """Whether a member that ``member_format`` passes over is looked at (``kgx.batch.sniff``):
    no suffix of an input format, not hidden, no ``--format``."""
    base = PurePosixPath(name).name
    return forced is None and not base.startswith(".") and format_of(Path(base)) is None


def member_format(name: str, forced: str | None = None) -> type[InputFormat] | None:
    """A member's input format by its name, or the run's ``forced`` one (``--format``) for any
    member that is not hidden; None for a file of no format or an archive (not opened inside
    an archive either), which are passed over before they are unpacked."""
    base = PurePosixPath(name).name
    fmt = format_of(Path(base))
    if fmt is not None and fmt.name in ARCHIVES:
        return None
    if forced is not None:
        return None if base.startswith(".") else INPUT_FORMATS[forced]
    return fmt


class _ArchiveInput(InputFormat):
    """A file of files: each member read by its own format (module docstring)."""

    @classmethod
    def members(cls, fh: IO[bytes], forced: str | None = None) -> Iterator[Member]:
        """Each member that has an input format (``member_format``), as it is unpacked."""
        raise NotImplementedError  # each archive format's reader

    @classmethod
    def read(cls, path: Path, root: Path | None, *, id_field: str = "id",
             text_field: str = "text", encoding: str | None = None,
             input_format: str | None = None) -> Iterator[Entry]:
        """Each member's documents; ``input_format``: the run's ``--format``, which its
        members are read as."""
        where, rel, fh = open_many(path, root)
        if isinstance(fh, Entry):
            yield fh
            return
        with fh:
            try:
                for name, fmt, content in cls.members(fh, input_format):
                    yield from member_entries(name, fmt, content, rel, where, id_field,
                                              text_field, encoding)
            except Exception as e:  # a damaged archive fails this archive only, never the run
                yield Entry(f"{rel}:end", where, None, sha256(b""), status="error",
                            error=f"{where}: damaged archive ({e or type(e).__name__}); the "
                                  "members before were kept")


def member_entries(name: str, fmt: type[InputFormat], content: bytes | str, rel: str,
                   where: str, id_field: str, text_field: str, encoding: str | None = None
                   ) -> Iterator[Entry]:
    """The entries of a file inside the file ``rel`` (an archive's member, a message's
    attachment) named ``name``, read by ``fmt``: ids ``<rel>/<name>``, or the ids its
    documents give themselves; ``content`` its bytes, or why they cannot be read."""
    doc_id, at = f"{rel}/{name}", f"{where}/{name}"
    if isinstance(content, str):
        yield Entry(doc_id, at, None, sha256(b""), status="error", error=f"{at}: {content}")
        return
    if one_document(fmt):
        assert issubclass(fmt, TextInput)
        data = _without_bom(content)
        options = read_options(id_field, text_field, encoding, fmt.parse_all)
        yield from fmt.parse_all(RawFile(doc_id, at, data, sha256(data)), **options)
        return
    # a file of many documents: read as a file (its readers stream from a path), its
    # locations and ids given the member's name
    with tempfile.TemporaryDirectory(prefix="kgx-member-") as tmp:
        member = Path(tmp) / PurePosixPath(name).name
        member.write_bytes(content)
        options = read_options(id_field, text_field, encoding, fmt.read)
        for entry in fmt.read(member, Path(tmp), **options):
            yield dataclasses.replace(
                entry, id=_renamed(entry.id, member.name, doc_id),
                path=entry.path.replace(str(member), at),
                loc=_renamed(entry.loc, member.name, doc_id),
                error=entry.error.replace(str(member), at) if entry.error else None)


def _renamed(value: str, temporary: str, doc_id: str) -> str:
    """An id or location made from the temporary file's name, made from the member's."""
    if value == temporary:
        return doc_id
    if value.startswith((temporary + ":", temporary + "/")):  # a row, an attachment
        return doc_id + value[len(temporary):]
    return value


def attached(parent: Entry, files: Iterable[tuple[str, bytes]], id_field: str = "id",
             text_field: str = "text", encoding: str | None = None) -> Iterator[Entry]:
    """The entries of the files attached to the document ``parent`` (an e-mail's): each
    ``(file name, bytes)`` whose name has an input format's suffix read by that format, as an
    archive's member is (others passed over; an attached archive is read, member by member),
    with ``attached_to``: the parent's id in its metadata. Two attachments of one name are told
    apart as ``name (2).pdf``."""
    taken: set[str] = set()
    for raw_name, content in files:
        name, fmt = _attachment(raw_name)
        if fmt is None:
            continue
        suffix = _suffix(name, fmt)
        stem, unique, k = name[:len(name) - len(suffix)], name, 1
        while unique in taken:
            k += 1
            unique = f"{stem} ({k}){suffix}"
        taken.add(unique)
        for entry in member_entries(unique, fmt, content, parent.id, parent.source, id_field,
                                    text_field, encoding):
            yield entry if entry.status == "error" else dataclasses.replace(  # the nearest
                entry, meta={"attached_to": parent.id, **(entry.meta or {})})  # parent's kept


#: a document's attached files, ``(file name, bytes)``, from its file's bytes
Attachments = Callable[[bytes], list[tuple[str, bytes]]]


def attachments_of(entry: Entry, data: bytes, files: Attachments, id_field: str,
                   text_field: str, encoding: str | None = None) -> Iterator[Entry]:
    """The entries of the files attached to a document read from ``data`` (``entry``), also
    when its own text could not be read (a body in a wrong charset: its attachments are
    files of their own); an error entry ``<id>/`` when they cannot be listed, unless the
    document's own error already says why."""
    try:
        listed = files(data)
    except Exception as e:  # a damaged attachment list costs itself, not the document
        if entry.status != "error":
            yield Entry(f"{entry.id}/", entry.path, entry.line, sha256(b""), status="error",
                        error=f"{entry.source}: its attachments cannot be read ({e})")
        return
    yield from attached(entry, listed, id_field, text_field, encoding)


class AttachingInput(TextInput):
    """A one-document format whose files carry files (an e-mail's attachments): each file's
    entries are its attachments' (``attachments_of``), then its document's."""

    @staticmethod
    def files(data: bytes) -> list[tuple[str, bytes]]:
        """``(file name, bytes)`` of the files attached to a file's document."""
        raise NotImplementedError  # each format's lister

    @classmethod
    def parse_all(cls, raw: RawFile, *, id_field: str = "id", text_field: str = "text",
                  encoding: str | None = None) -> list[Entry]:
        entry = cls.parse(raw, encoding)
        return [*attachments_of(entry, raw.data, cls.files, id_field, text_field, encoding),
                entry]

    @classmethod
    def count(cls, path: Path) -> int | None:
        """The file's document and its attachments of a readable format."""
        loaded = cls.load(path, path.parent)
        return 1 if isinstance(loaded, Entry) else 1 + readable(cls.files, loaded.data)


def readable(files: Attachments, data: bytes) -> int:
    """How many of the files attached to ``data``'s document have an input format (0 when
    they cannot be listed: the run's read says why)."""
    try:
        return sum(1 for name, _ in files(data) if _attachment(name)[1])
    except Exception:
        return 0


def _attachment(raw_name: str) -> tuple[str, type[InputFormat] | None]:
    """An attachment's file name (``file_name``) and its input format (None for none)."""
    name = file_name(raw_name)
    return name, format_of(Path(name)) if name else None


def file_name(name: str) -> str:
    """The last part of a file name as an attachment gives it (``C:\\Docs\\a.pdf`` → ``a.pdf``;
    ``""`` for none)."""
    last = PurePosixPath(name.replace("\\", "/")).name.strip()
    return "" if last in (".", "..") else last


def _suffix(name: str, fmt: type[InputFormat]) -> str:
    """The suffix by which ``name`` is of ``fmt`` (``.pdf``, ``.CSV.gz``)."""
    packed = name.lower().endswith(".gz")
    plain = name[:-3] if packed else name
    suffix = next((s for s in fmt.suffixes if plain.lower().endswith(s)), "")
    return name[len(plain) - len(suffix):]


class ZipInput(_ArchiveInput):
    """A ``.zip`` archive: each member a file of its own format."""

    name = "zip"
    suffixes = (".zip",)

    @classmethod
    def members(cls, fh: IO[bytes], forced: str | None = None) -> Iterator[Member]:
        with zipfile.ZipFile(fh) as archive:
            for info in archive.infolist():
                fmt = None if info.is_dir() else member_format(info.filename, forced)
                if fmt is None and not info.is_dir() and _sniffable(info.filename, forced):
                    try:
                        with archive.open(info) as member:
                            found = sniffed(member.read(HEAD_BYTES))
                    except (RuntimeError, zipfile.BadZipFile, zlib.error, EOFError,
                            NotImplementedError):
                        found = None  # an encrypted or damaged member of no format
                    fmt = INPUT_FORMATS[found] if found else None
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
    def members(cls, fh: IO[bytes], forced: str | None = None) -> Iterator[Member]:
        with tarfile.open(fileobj=fh, mode="r|*") as archive:
            for info in archive:
                fmt = member_format(info.name, forced) if info.isfile() else None
                member, head = None, b""
                if fmt is None and info.isfile() and _sniffable(info.name, forced):
                    member = archive.extractfile(info)  # read as the archive streams past
                    head = member.read(HEAD_BYTES) if member is not None else b""
                    found = sniffed(head)
                    fmt = INPUT_FORMATS[found] if found else None
                if fmt is None:
                    continue
                if info.size > limits.document_bytes():
                    yield info.name, fmt, limits.over_limit("it holds")
                    continue
                member = member or archive.extractfile(info)
                data = limits.read_within(member) if member is not None else None
                yield info.name, fmt, (head + data if data is not None
                                       else limits.over_limit("it holds"))
