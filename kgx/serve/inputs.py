"""Reading a request: the body under its size limit, JSON, the documents and their fields.

Every problem is an :class:`InputError` carrying the HTTP status and a message that names the
field (``body[2].text``): 413 for a body or a text over its limit, 422 for invalid JSON or a
field of the wrong type. Nothing here trusts a ``Content-Length`` alone: the body is counted as
it is read.

A document may come as a file, as ``kgx extract`` reads it (a PDF, a Word file, an e-mail):
base64 ``content`` with its ``format`` in a JSON document, or the file itself as the body,
its format by ``Content-Type`` (:data:`BODY_TYPES`), or files uploaded as a form
(``multipart/form-data``, :func:`form_documents`). Such files are read by the input formats
of ``kgx.batch`` (:func:`read_files`, off the event loop: a PDF's layout analysis is slow).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgx.batch.encodings import ENCODING_HINT
from kgx.batch.html import html_text
from kgx.batch.inputs import (
    INPUT_FORMATS,
    BatchError,
    TextInput,
    _without_bom,
    check_encoding,
    format_of,
)
from kgx.batch.limits import at_most, is_over_limit
from kgx.batch.markdown import mask_markup
from kgx.batch.pages import mask_page_furniture
from kgx.batch.sniff import HEAD_BYTES, sniffed

_SURROGATE = re.compile("[\ud800-\udfff]")


class InputError(ValueError):
    def __init__(self, status: int, message: str, loc: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.loc = loc

    def detail(self) -> Any:
        if self.status == 422:
            return [{"loc": self.loc or ["body"], "msg": self.message, "type": "value_error"}]
        return self.message


@dataclass
class Limits:
    """What one request may hold."""

    max_body_bytes: int = 10_000_000
    max_text_chars: int = 100_000
    max_documents: int = 256
    #: what a file in a request may unpack to (a zip's XML, a PDF's streams): a 10 MB bomb
    #: must not cost the server gigabytes
    max_unpacked_bytes: int = 64 * 1024 * 1024
    #: how long reading a file in a request may take (a PDF's layout; its pages are checked as
    #: they are laid out): a hostile file must not hold a worker thread for hours
    max_read_seconds: float = 30.0


#: what a document's ``format`` may be: text as it is, Markdown with its markup read as
#: spaces (``kgx.batch.markdown``: offsets unchanged), or HTML read as its text
#: (``kgx.batch.html``: offsets into that text)
FORMATS = ("text", "markdown", "html")


#: a body's ``Content-Type`` → the input format a file sent as the whole body is read as
BODY_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/msword": "doc",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "application/epub+zip": "epub",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.ms-word.document.macroenabled.12": "docx",  # types compared lower case
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow": "pptx",
    "application/vnd.ms-powerpoint.presentation.macroenabled.12": "pptx",
    "message/rfc822": "email",
    "application/vnd.ms-outlook": "msg",
    "text/html": "html",
    "multipart/related": "mhtml",  # a web archive's own type
    "application/x-mimearchive": "mhtml",
    "text/markdown": "markdown",
    "text/vtt": "transcript",
}  # not text/plain: a browser's fetch() sends a JSON string as text/plain, and JSON it stays


def file_formats() -> list[str]:
    """The input formats a document's ``content`` may be read as: those of one document a
    file (plugins' too)."""
    return [name for name in INPUT_FORMATS.names() if issubclass(INPUT_FORMATS[name], TextInput)]


@dataclass
class DocIn:
    id: str
    text: str
    meta: dict[str, Any] | None
    #: a file's bytes, read as the input format ``format`` by :func:`read_files`
    content: bytes | None = None
    format: str | None = None
    where: str = "body"
    #: the charset its ``Content-Type`` declares, for text that is not UTF-8
    encoding: str | None = None


def declared_encoding(content_type: str, where: str) -> str | None:
    """The ``charset`` a text ``Content-Type`` declares (``text/html; charset=windows-1252``),
    as the encoding of a text file's bytes that are not UTF-8 (``kgx extract --encoding``);
    None when it declares none or the type is not text (``file --mime`` says
    ``application/pdf; charset=binary``); a 415 naming it when kgx cannot read text in it."""
    if not content_type.strip().lower().startswith("text/"):
        return None
    found = re.search(r';\s*charset\s*=\s*"?([^";\s]+)', content_type, re.IGNORECASE)
    if found is None:
        return None
    try:
        return check_encoding(found.group(1))
    except BatchError as e:
        raise InputError(415, f"{where}: the charset its Content-Type declares: "
                              f"{str(e).removeprefix('--encoding ')}") from None


async def read_body(content_length: str | None, stream: AsyncIterator[bytes], limit: int) -> bytes:
    """The body, or a 413 as soon as it is known to exceed ``limit`` bytes."""
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise InputError(400, "Content-Length is not a number") from None
        if declared > limit:
            raise InputError(413, f"the body is {declared} bytes, over the limit of {limit}")
    chunks, size = [], 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise InputError(413, f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as e:
        raise InputError(422, f"the body is not UTF-8 (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise InputError(422, f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
                         ) from None
    except ValueError as e:
        raise InputError(422, f"invalid JSON: {e}") from None


def _field(obj: dict[str, Any], key: str, loc: list[Any]) -> tuple[Any, list[Any]]:
    return obj.get(key), [*loc, key]


def parse_documents(data: Any, limits: Limits, *, need_id: bool, auto_id: str) -> list[DocIn]:
    """One document (``{"id", "text", "meta", "format"}``) or a list of them; ``auto_id``
    names the documents that have no id (``{auto_id}-{i}``) when ``need_id`` is false. A
    ``"format": "markdown"`` (``"html"``) text is read as ``kgx extract`` reads a ``.md``
    (``.html``) file."""
    items = data if isinstance(data, list) else [data]
    base: list[Any] = ["body"]
    if not isinstance(data, list | dict):
        raise InputError(422, "expected a document object or a list of them", base)
    if len(items) > limits.max_documents:
        raise InputError(413, f"{len(items)} documents, over the limit of "
                              f"{limits.max_documents} a request")
    docs: list[DocIn] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        loc = [*base, i] if isinstance(data, list) else base
        if not isinstance(item, dict):
            raise InputError(422, f"expected an object, got {type(item).__name__}", loc)
        unknown = sorted(set(item) - {"id", "text", "content", "meta", "format"})
        if unknown:
            raise InputError(422, f"unknown field {unknown[0]!r}", [*loc, unknown[0]])
        raw_id, id_loc = _field(item, "id", loc)
        if raw_id is None or raw_id == "":
            if need_id:
                raise InputError(422, "a document id is required", id_loc)
            doc_id = f"{auto_id}-{i}"
        elif isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
            raise InputError(422, f"must be a string or an integer, got {type(raw_id).__name__}",
                             id_loc)
        else:
            doc_id = str(raw_id)
        if _SURROGATE.search(doc_id) or not doc_id.strip() or len(doc_id) > 2000:
            raise InputError(422, "must be text of 1 to 2000 characters", id_loc)
        if doc_id in seen:
            raise InputError(422, f"duplicate id {doc_id!r}", id_loc)
        seen.add(doc_id)
        meta, meta_loc = _field(item, "meta", loc)
        if meta is not None and not isinstance(meta, dict):
            raise InputError(422, f"must be an object, got {type(meta).__name__}", meta_loc)
        if "content" in item:
            docs.append(_file_document(item, loc, doc_id, meta))
            continue
        text, text_loc = _field(item, "text", loc)
        if not isinstance(text, str):
            what = "missing" if text is None else f"not a string ({type(text).__name__})"
            raise InputError(422, f"the text is {what}", text_loc)
        if _SURROGATE.search(text):
            raise InputError(422, "the text holds a lone surrogate (not text)", text_loc)
        if len(text) > limits.max_text_chars:
            raise InputError(413, f"{_where(text_loc)} (document {doc_id!r}) is {len(text)} "
                                  f"characters, over the limit of {limits.max_text_chars}")
        fmt, fmt_loc = _field(item, "format", loc)
        if fmt not in (None, *FORMATS):
            raise InputError(422, f"must be one of {', '.join(map(repr, FORMATS))}, got "
                                  f"{fmt!r}", fmt_loc)
        if fmt == "markdown":
            text = mask_markup(text)
        elif fmt == "html":
            text = html_text(text)
        else:  # as kgx extract reads .txt and JSONL: PDF pages' furniture blanked
            text = mask_page_furniture(text)
        docs.append(DocIn(doc_id, text, meta))
    return docs


def _where(loc: list[Any]) -> str:
    return "body" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])


def _file_document(item: dict[str, Any], loc: list[Any], doc_id: str,
                   meta: dict[str, Any] | None) -> DocIn:
    """A document sent as a file: base64 ``content`` and the ``format`` to read it as."""
    if "text" in item:
        raise InputError(422, "a document has a text or a content (a file, base64), not both",
                         [*loc, "content"])
    content, content_loc = _field(item, "content", loc)
    if not isinstance(content, str):
        raise InputError(422, f"must be a file's bytes in base64, got {type(content).__name__}",
                         content_loc)
    fmt, fmt_loc = _field(item, "format", loc)
    formats = file_formats()
    if fmt not in formats:
        raise InputError(422, f"a content's format must be one of {', '.join(formats)}, got "
                              f"{fmt!r}", fmt_loc)
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InputError(422, f"not base64 ({e})", content_loc) from None
    return DocIn(doc_id, "", meta, data, fmt, f"{_where(content_loc)} (document {doc_id!r})")


def form_documents(body: bytes, content_type: str, limits: Limits) -> list[DocIn]:
    """The files of a ``multipart/form-data`` body (an HTML form's upload, ``curl -F
    file=@report.pdf``): each file part a document, read as its ``Content-Type`` says
    (:data:`BODY_TYPES`), else as its file name's suffix says (curl and browsers send
    ``application/octet-stream`` for what they do not know); its id the form's ``id`` field
    when it sends one file, else its file name. Parsed by the standard library's MIME parser
    (no python-multipart), within the body limit already applied."""
    from email import policy
    from email.parser import BytesParser

    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    form = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not form.is_multipart():
        raise InputError(400, "a multipart/form-data body without parts (is its boundary "
                              "given?)")
    fields: dict[str, str] = {}
    files: list[tuple[str, str, bytes, str | None]] = []
    for part in form.iter_parts():
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = data.decode("utf-8", "replace")
            continue
        media = part.get_content_type()
        fmt = BODY_TYPES.get(media)
        if fmt is None:
            found = format_of(Path(filename.replace("\\", "/").rsplit("/", 1)[-1]))
            kind = None if found is not None else sniffed(data[:HEAD_BYTES])
            found = INPUT_FORMATS[kind] if kind else found  # a message file named "1."
            if found is not None and not issubclass(found, TextInput):
                raise InputError(422, f"the file {filename!r} is a {found.name} file, which holds "
                                      "many documents: send them as JSON", ["body", filename])
            fmt = found.name if found is not None else None
        if fmt is None:
            raise InputError(422, f"the file {filename!r} ({media}) is in no input format kgx "
                                  "reads", ["body", filename])
        files.append((filename, fmt, data, declared_encoding(
            part.get("content-type", ""), f"the file {filename!r}")))
    if not files:
        raise InputError(422, "the form holds no file (curl -F file=@report.pdf)", ["body"])
    if len(files) > limits.max_documents:
        raise InputError(413, f"{len(files)} files, over the limit of {limits.max_documents}")
    one = fields.get("id") if len(files) == 1 else None
    return [DocIn(one or name, "", None, data, fmt, f"the file {name!r}", encoding)
            for name, fmt, data, encoding in files]


def body_document(body: bytes, fmt: str, doc_id: str, content_type: str = "") -> DocIn:
    """A document sent as the whole body (a file, its format and charset by
    ``Content-Type``)."""
    where = f"the body (document {doc_id!r})"
    return DocIn(doc_id, "", None, body, fmt, where, declared_encoding(content_type, where))


def read_files(docs: list[DocIn], limits: Limits) -> list[DocIn]:
    """``docs`` with each file read as ``kgx extract`` reads it: its text, and what the file
    says of itself (title, author, dates) under the metadata sent; a file that cannot be read
    is a 422 naming it and the reader's reason, one that unpacks past ``max_unpacked_bytes``,
    takes longer than ``max_read_seconds`` to read or whose text is over ``max_text_chars``
    a 413."""
    out = []
    for doc in docs:
        if doc.content is None:
            out.append(doc)
            continue
        reader = INPUT_FORMATS[doc.format or "text"]
        assert issubclass(reader, TextInput)
        with at_most(limits.max_unpacked_bytes, seconds=limits.max_read_seconds):
            text, found, problem = reader.guarded_document(_without_bom(doc.content), doc.where,
                                                           doc.encoding)
        if text is None:  # a server's client names an encoding as HTTP does
            problem = (problem or f"{doc.where}: cannot be read").replace(
                ENCODING_HINT, "a charset in its Content-Type: text/plain; charset=cp1252")
            raise InputError(413 if is_over_limit(problem) else 422, problem)
        if len(text) > limits.max_text_chars:
            raise InputError(413, f"the text read from {doc.where} is {len(text)} characters, "
                                  f"over the limit of {limits.max_text_chars}")
        meta = {**(found or {}), **(doc.meta or {})} or None
        out.append(DocIn(doc.id, text, meta))
    return out
