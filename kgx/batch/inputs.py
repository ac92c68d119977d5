"""The input formats: a file's bytes → one :class:`Entry` per document (finding the files and
reading a run's inputs in order is :mod:`kgx.batch.reading`).

* **Streaming.** Files are read by generators (JSONL line by line); a one-document file is read
  in two steps (:meth:`TextInput.load`, :meth:`TextInput.parse`), so that it can be hashed
  before its text is taken out, and parsed in another process.
* **Formats.** :data:`INPUT_FORMATS` maps a name to a class that claims file suffixes (each also
  gzipped) and reads such a file; ``-`` (stdin) is JSONL. One entry adds a format; other
  packages add theirs through the ``kgx_input_formats`` entry-point group.
* **Ids.** A JSONL document's id is its ``--id-field``; a file's id is its path relative to the
  input root (posix); a JSONL line without an id gets ``<file>:<line>`` (its location, which
  also keys the error entry of a duplicate id).
* **Bad input** never stops the run: non-UTF-8 bytes and NUL bytes (binary files) are error
  entries (no guessing of encodings: the records' offsets must be exact; a run may name the
  encoding of its legacy text files, ``--encoding``: :func:`check_encoding`), empty or
  whitespace-only documents are ``skipped``, malformed JSONL lines, a missing text field,
  unreadable or non-regular files, a truncated gzip (documents before the damage are kept) and
  a document over ``limits.MAX_DOCUMENT_BYTES`` unpacked (a bomb: never read whole) are error
  entries. A UTF-8 byte-order mark opening a file is dropped (not text).
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import gzip
import hashlib
import inspect
import re
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar, cast

from kgx.batch import limits
from kgx.batch.encodings import not_decoded, utf8_else
from kgx.batch.markdown import mask_markup
from kgx.batch.pages import mask_page_furniture
from kgx.registry import Registry


class BatchError(ValueError):
    """The run cannot proceed (no inputs, unusable output directory, model not loadable)."""


def sha256(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


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
    #: where an error happened: ``input`` (reading, decoding: final for these bytes) or
    #: ``pipeline`` (a component failed: processed again by ``--resume``)
    stage: str = "input"

    @property
    def source(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class RawFile:
    """A one-document file's bytes, read but not yet made into text (:meth:`TextInput.load`):
    small enough to hash and to send to another process."""

    id: str
    where: str
    data: bytes = dataclasses.field(repr=False)
    sha256: str


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` as valid Unicode: a file name that is not UTF-8 (Python keeps its bytes as
    lone surrogates) shows them as ``\\xe9`` escapes, any other lone surrogate as ``\\ud800``,
    so that ids, sources and messages can always be written."""
    if not _SURROGATE.search(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _rel_id(path: Path, root: Path) -> str:
    try:
        return clean_text(path.relative_to(root).as_posix())
    except ValueError:
        return clean_text(path.as_posix())


_BOM = b"\xef\xbb\xbf"


def _without_bom(data: bytes) -> bytes:
    """The bytes that open a file without a UTF-8 byte-order mark. Windows editors write one;
    it is the encoding's signature, not text (Python's ``utf-8-sig``): kept, it would be glued
    to the first word (an entity "\\ufeffWei Chen") and break a JSONL file's first line.
    Character offsets count from the character after it."""
    return data[len(_BOM):] if data.startswith(_BOM) else data


def check_encoding(name: str | None) -> str | None:
    """The codec of a run's ``--encoding`` (None for none), or BatchError naming the problem.

    It must be a text encoding that writes ASCII as ASCII (cp1252, latin-1, shift_jis,
    gb18030, ...): lines and fields are found in the bytes before they are decoded. UTF-16
    and UTF-32 are read by their byte-order mark, not named."""
    if name is None:
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise BatchError(f"--encoding {name!r}: not an encoding Python knows (e.g. cp1252, "
                         "latin-1, shift_jis, gb18030)") from None
    if not getattr(info, "_is_text_encoding", True):
        raise BatchError(f"--encoding {name!r}: a codec (as base64 is), not a text encoding")
    probe = "id,text\t\"x\"\r\n{}[]:"
    try:
        ascii_safe = probe.encode(info.name) == probe.encode("ascii") and \
            probe.encode("ascii").decode(info.name) == probe
    except (UnicodeError, TypeError, LookupError):
        ascii_safe = False
    if not ascii_safe:
        raise BatchError(f"--encoding {name!r}: does not write ASCII as ASCII, so lines and "
                         "fields cannot be found in its bytes (UTF-16 and UTF-32 files are read "
                         "by their byte-order mark)")
    return info.name


def _decode(data: bytes, what: str, encoding: str | None = None
            ) -> tuple[str | None, str | None]:
    """``(text, None)`` or ``(None, reason)``: NUL bytes and non-UTF-8 bytes are errors, but
    for UTF-16 that says so by its byte-order mark (Notepad's "Unicode", Excel's "Unicode
    text"), which is read as such, the mark dropped, and for bytes that are not UTF-8 when the
    run names the ``encoding`` of its legacy files (valid UTF-8 stays UTF-8: a corpus may mix
    both, and text in a legacy encoding is valid UTF-8 only where it is ASCII)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as e:
            return None, f"{what}: not valid UTF-16, as its byte-order mark says ({e.reason})"
    nul = data.find(b"\x00")
    if nul >= 0:
        return None, f"{what}: binary content (NUL byte at offset {nul})"
    try:
        return utf8_else(data, encoding), None
    except UnicodeDecodeError as e:
        return None, f"{what}: {not_decoded(data, e.start, encoding)}"


def read_options(id_field: str, text_field: str, encoding: str | None,
                 reader: Callable[..., Any] | None = None) -> dict[str, Any]:
    """The keyword arguments of a format's ``read`` or ``parse_all`` (``reader``): ``encoding``
    only where the run names one and the reader takes it, so that a plugin's format written
    before it was added goes on working (its files read as it reads them)."""
    found: dict[str, Any] = {"id_field": id_field, "text_field": text_field}
    if encoding is not None and (reader is None or _takes_encoding(reader)):
        found["encoding"] = encoding
    return found


@functools.lru_cache(maxsize=256)
def _takes_encoding(reader: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(reader).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "encoding" or p.kind is p.VAR_KEYWORD for p in parameters)


def _regular(path: Path) -> None:
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        raise OSError(f"not a regular file (mode {stat.filemode(mode)})")


def open_input(path: Path) -> IO[bytes]:
    """A regular input file's bytes, gunzipped for ``.gz`` (OSError for anything else)."""
    _regular(path)
    packed = path.name.lower().endswith(".gz")
    return cast(IO[bytes], gzip.open(path, "rb")) if packed else path.open("rb")


def open_many(path: Path, root: Path | None) -> tuple[str, str, IO[bytes] | Entry]:
    """``(where, rel, file)`` for a file of many documents (its location for messages, its id
    relative to the input root, its bytes open), or ``(where, rel, error entry)`` when it
    cannot be opened."""
    where, rel = clean_text(str(path)), _rel_id(path, root or path.parent)
    try:
        return where, rel, open_input(path)
    except OSError as e:
        return where, rel, Entry(rel, where, None, sha256(b""), status="error",
                                 error=f"{where}: cannot read: {e.strerror or e}")


# --- the formats -----------------------------------------------------------------------------


class InputFormat:
    """A kind of input file, registered by name in :data:`INPUT_FORMATS`.

    name (str): The name in the table.
    suffixes (tuple[str, ...]): The file suffixes it claims; the ``.gz`` version of each too.
    """

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    @classmethod
    def read(cls, path: Path, root: Path | None, *, id_field: str = "id",
             text_field: str = "text", encoding: str | None = None) -> Iterator[Entry]:
        """Every document of one file, as entries (an unreadable one as an error entry).

        path (Path): The file (``-`` for stdin).
        root (Path | None): The folder ids are relative to; None for stdin.
        id_field (str): The field holding a document's id, where documents have fields.
        text_field (str): The field holding a document's text, likewise.
        encoding (str | None): The run's ``--encoding`` (:func:`check_encoding`): text that is
            not UTF-8 and does not declare its own encoding is read in it. Passed only when
            the run names one, so a format that has no use for it need not take it.
        RETURNS (Iterator[Entry]): One entry per document, in file order.
        """
        raise NotImplementedError

    @classmethod
    def count(cls, path: Path) -> int | None:
        """How many documents the file holds, cheaply (for a progress bar's total); None when
        only reading it would tell."""
        return None


class TextInput(InputFormat):
    """A file holding one document; its id is its path relative to the input root.

    Read in two steps: :meth:`load` takes the file's bytes (cheap: what ``--resume`` hashes to
    tell an unchanged file), :meth:`parse` takes the text out of them (a PDF's layout, an
    office file's XML: the costly step, which a run may do in another process)."""

    name = "text"
    suffixes: ClassVar[tuple[str, ...]] = (".txt",)

    @classmethod
    def read(cls, path: Path, root: Path | None, *, id_field: str = "id",
             text_field: str = "text", encoding: str | None = None) -> Iterator[Entry]:
        loaded = cls.load(path, root)
        if isinstance(loaded, Entry):
            yield loaded
        else:
            yield from cls.parse_all(loaded, **read_options(id_field, text_field, encoding,
                                                            cls.parse_all))

    @classmethod
    def load(cls, path: Path, root: Path | None) -> RawFile | Entry:
        """The file's bytes (a byte-order mark dropped) with its id and hash, or an error
        entry when it cannot be read or holds more than the limit."""
        doc_id = _rel_id(path, root or path.parent)
        where = clean_text(str(path))
        try:
            with open_input(path) as fh:
                data = limits.read_within(fh)
        except (OSError, EOFError, zlib.error) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            return Entry(doc_id, where, None, sha256(b""), status="error",
                         error=f"{where}: cannot read: {reason}")
        if data is None:
            return Entry(doc_id, where, None, sha256(b""), status="error",
                         error=f"{where}: {limits.over_limit('the file holds')}")
        data = _without_bom(data)
        return RawFile(doc_id, where, data, sha256(data))

    @classmethod
    def parse(cls, raw: RawFile, encoding: str | None = None) -> Entry:
        """The entry of a loaded file: its text, or an error entry naming the file."""
        text, meta, problem = cls.guarded_document(raw.data, raw.where, encoding)
        if text is None:
            return Entry(raw.id, raw.where, None, raw.sha256, status="error", error=problem)
        return Entry(raw.id, raw.where, None, raw.sha256, text=text, meta=meta,
                     status="ok" if text.strip() else "skipped")

    @classmethod
    def parse_all(cls, raw: RawFile, *, id_field: str = "id", text_field: str = "text",
                  encoding: str | None = None) -> list[Entry]:
        """The entries of a loaded file: its document's (``parse``), after those of the files
        attached to it where its format has attachments (an e-mail's), so that a run cut
        short between them reads it again on ``--resume``."""
        return [cls.parse(raw) if encoding is None else cls.parse(raw, encoding)]

    @classmethod
    def count(cls, path: Path) -> int | None:
        return 1

    @classmethod
    def guarded_document(cls, data: bytes, where: str, encoding: str | None = None
                         ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        """``document``, where a reader's library failing on odd input fails this document
        only, with its reason. ``encoding`` is passed on only when given (a plugin's own
        ``document`` need not take it)."""
        try:
            if encoding is None or not _takes_encoding(cls.document):
                return cls.document(data, where)
            return cls.document(data, where, encoding=encoding)
        except Exception as e:
            return None, None, f"{where}: cannot read it as {cls.name}: {e!r}"

    @classmethod
    def document(cls, data: bytes, where: str, *, encoding: str | None = None
                 ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        """``(text, metadata, None)`` of the file's bytes (hashed as they are), or ``(None,
        None, reason)``; text that is not UTF-8 in the run's ``encoding`` where it names one."""
        content, problem = cls.decode(data, where, encoding)
        return (None, None, problem) if content is None else (cls.text_of(content), None, None)

    @staticmethod
    def text_of(content: str) -> str:
        """The document's text in the file's decoded ``content``: pages taken out of a PDF
        (form feeds) without their running headers and page numbers (``kgx.batch.pages``)."""
        return mask_page_furniture(content)

    @staticmethod
    def decode(data: bytes, where: str, encoding: str | None = None
               ) -> tuple[str | None, str | None]:
        """``(content, None)`` or ``(None, reason)``: UTF-8, else the run's ``encoding`` where
        it names one; nothing guessed."""
        return _decode(data, where, encoding)


class MarkdownInput(TextInput):
    """A Markdown file: one document, its inline markup (links' brackets and addresses,
    emphasis delimiters, raw HTML) read as spaces (offsets unchanged; ``kgx.batch.markdown``).
    Headings and lists are left to the pipeline's ``kgx_layout_boundaries``. The content hash
    is the file's text as written."""

    name = "markdown"
    suffixes = (".md", ".markdown")

    @staticmethod
    def text_of(content: str) -> str:
        return mask_markup(content)


def record_entry(doc_id: str, where: str, line: int, text: str, meta: dict[str, Any],
                 loc: str) -> Entry:
    """The entry of one record of a file of many (a JSONL line, a CSV row): hashed as its text
    is written, read with PDF pages' furniture blanked, skipped when empty."""
    return Entry(doc_id, where, line, sha256(text), text=mask_page_furniture(text),
                 meta=meta or None, status="ok" if text.strip() else "skipped", loc=loc)


#: name → input format; stdin (``-``) is read as ``jsonl``. Formats in their own modules (which
#: import this one) are named by reference, loaded when first looked up.
INPUT_FORMATS: Registry[type[InputFormat]] = Registry(
    "input format", "kgx_input_formats",
    {"text": TextInput, "markdown": MarkdownInput, "html": "kgx.batch.html:HtmlInput",
     "mhtml": "kgx.batch.html:MhtmlInput", "transcript": "kgx.batch.transcripts:TranscriptInput",
     "jsonl": "kgx.batch.jsondocs:JsonlInput", "json": "kgx.batch.jsondocs:JsonInput",
     "xml": "kgx.batch.xmldocs:XmlInput",
     "email": "kgx.batch.mail:MailInput", "emlx": "kgx.batch.mail:EmlxInput",
     "mbox": "kgx.batch.mail:MboxInput", "msg": "kgx.batch.outlook:MsgInput",
     "docx": "kgx.batch.office:DocxInput",
     "odt": "kgx.batch.office:OdtInput", "doc": "kgx.batch.worddoc:DocInput",
     "rtf": "kgx.batch.rtf:RtfInput",
     "pdf": "kgx.batch.pdf:PdfInput",
     "pptx": "kgx.batch.slides:PptxInput", "ppt": "kgx.batch.powerpoint:PptInput",
     "odp": "kgx.batch.office:OdpInput",
     "epub": "kgx.batch.epub:EpubInput",
     "csv": "kgx.batch.delimited:CsvInput",
     "tsv": "kgx.batch.delimited:TsvInput", "xlsx": "kgx.batch.sheets:XlsxInput",
     "xls": "kgx.batch.xls:XlsInput", "ods": "kgx.batch.sheets:OdsInput",
     "zip": "kgx.batch.archives:ZipInput",
     "tar": "kgx.batch.archives:TarInput"})
STDIN_FORMAT = "jsonl"


def suffixes() -> tuple[str, ...]:
    """Every suffix an input file may have: each format's, then their ``.gz`` versions."""
    plain = tuple(s for name in INPUT_FORMATS for s in INPUT_FORMATS[name].suffixes)
    return plain + tuple(s + ".gz" for s in plain)


def format_of(path: Path) -> type[InputFormat] | None:
    """The input format of a file, by its suffix in any case (``.gz`` ignored: ``SCAN.PDF``,
    ``notes.TXT.gz``); None when unsupported."""
    name = path.name.lower()
    name = name[:-3] if name.endswith(".gz") else name
    for fmt in INPUT_FORMATS:
        cls = INPUT_FORMATS[fmt]
        if name.endswith(cls.suffixes):
            return cls
    return None


def read_document(path: Path, encoding: str | None = None) -> str:
    """One file's text as a run reads it (a byte-order mark dropped, Markdown's markup read as
    spaces, an HTML page's text; text that is not UTF-8 in ``encoding`` where given), for
    commands that take one document: a format holding one document by its suffix (a file
    without one by its first bytes, as a run reads it: ``kgx.batch.sniff``), any other file as
    plain text; a file of many documents (JSONL, a mailbox) is a clear error, not one text."""
    from kgx.batch.sniff import sniff_file  # a small module, imported where it is used

    fmt = format_of(path)
    kind = None if fmt is not None else sniff_file(path)
    fmt = INPUT_FORMATS[kind] if kind else fmt
    if fmt is not None and not issubclass(fmt, TextInput):
        raise BatchError(f"{path}: a {fmt.name} file holds many documents; this reads one "
                         "(kgx extract reads them all)")
    reader = fmt or TextInput
    loaded = reader.load(path, path.parent)
    entry = (loaded if isinstance(loaded, Entry)  # not attachments
             else reader.parse(loaded, check_encoding(encoding)))
    if entry.text is None:
        raise BatchError(entry.error or f"{path}: cannot read")
    return entry.text
