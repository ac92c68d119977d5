"""Reading a request: the body under its size limit, JSON, the documents and their fields.

Every problem is an :class:`InputError` carrying the HTTP status and a message that names the
field (``body[2].text``): 413 for a body or a text over its limit, 422 for invalid JSON or a
field of the wrong type. Nothing here trusts a ``Content-Length`` alone: the body is counted as
it is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from kgx.batch.html import html_text
from kgx.batch.markdown import mask_markup
from kgx.batch.pages import mask_page_furniture

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


#: what a document's ``format`` may be: text as it is, Markdown with its markup read as
#: spaces (``kgx.batch.markdown``: offsets unchanged), or HTML read as its text
#: (``kgx.batch.html``: offsets into that text)
FORMATS = ("text", "markdown", "html")


@dataclass
class DocIn:
    id: str
    text: str
    meta: dict[str, Any] | None


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
        unknown = sorted(set(item) - {"id", "text", "meta", "format"})
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
        text, text_loc = _field(item, "text", loc)
        if not isinstance(text, str):
            what = "missing" if text is None else f"not a string ({type(text).__name__})"
            raise InputError(422, f"the text is {what}", text_loc)
        if _SURROGATE.search(text):
            raise InputError(422, "the text holds a lone surrogate (not text)", text_loc)
        if len(text) > limits.max_text_chars:
            where = "body" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                                     for p in text_loc[1:])
            raise InputError(413, f"{where} (document {doc_id!r}) is {len(text)} characters, "
                                  f"over the limit of {limits.max_text_chars}")
        meta, meta_loc = _field(item, "meta", loc)
        if meta is not None and not isinstance(meta, dict):
            raise InputError(422, f"must be an object, got {type(meta).__name__}", meta_loc)
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
