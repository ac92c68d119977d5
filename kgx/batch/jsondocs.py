"""Documents as JSON: one object a line (``.jsonl``, and stdin), or a ``.json`` file of them.

Each object is a document: its ``--text-field`` the text, its ``--id-field`` the id (else its
location), its other fields metadata. An object that is not one (a missing text field, an id
that is neither a string nor an integer, a lone surrogate, ``NaN``) is an error entry naming
where it is, and the next is read.

* **JSONL** is read line by line; a line's location is ``<file>:<line>``. A line that is not
  UTF-8 is read in the run's ``--encoding`` where it names one (as a CSV line is).
* **JSON** is what API exports and datasets write: an array of objects (streamed, an element
  at a time, so a file of millions is never held whole), an object holding one such array
  (``{"documents": [...]}``, read whole within the document limit), or one object with the
  text field. An element's location is ``<file>[<n>]``, counted from 0 as JSON counts, with
  its line in messages. JSON that is not well formed ends the file there, the elements before
  kept. It is UTF-8, as RFC 8259 (8.1) requires of JSON that systems exchange: a run's
  ``--encoding`` does not apply (its elements stream past before a bad byte could show).
  UTF-16 with its byte-order mark (Windows PowerShell 5.1's output) is read too, as JSONL and
  CSV files so written are (``encodings.utf16_as_utf8``).
"""

from __future__ import annotations

import codecs
import json
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from kgx.batch import limits
from kgx.batch.encodings import utf16_as_utf8
from kgx.batch.inputs import (
    _SURROGATE,
    Entry,
    InputFormat,
    _decode,
    _without_bom,
    clean_text,
    open_input,
    open_many,
    record_entry,
    sha256,
)

_CHUNK = 1 << 16
_WHITESPACE = " \t\r\n"


def _lone_surrogate(obj: Any, field: str = "") -> str | None:
    """The field of a parsed JSON value that holds a lone surrogate (``"\\ud800"`` in JSON
    decodes to one; it is not text and cannot be written as UTF-8), or None."""
    if isinstance(obj, str):
        return field or "the value" if _SURROGATE.search(obj) else None
    if isinstance(obj, dict):
        for key, value in obj.items():
            name = f"{field}.{key}" if field else str(key)
            if _SURROGATE.search(str(key)):
                return clean_text(name)
            found = _lone_surrogate(value, name)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found = _lone_surrogate(value, f"{field}[{i}]")
            if found is not None:
                return found
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def object_entry(obj: Any, path: str, at: str, line: int, loc_id: str, digest: str,
                 id_field: str, text_field: str) -> Entry:
    """The entry of one parsed JSON value of the file ``path`` (a JSONL line's, a JSON
    array's element), or an error entry saying at ``at`` what is wrong with it."""

    def error(reason: str, doc_id: str = loc_id) -> Entry:
        return Entry(doc_id, path, line, digest, status="error", loc=loc_id,
                     error=f"{at}: {reason}")

    if not isinstance(obj, dict):
        return error(f"expected a JSON object, got {type(obj).__name__}")
    field = _lone_surrogate(obj)
    if field is not None:
        return error(f"{field!r} holds a lone surrogate (a \\ud800-\\udfff escape that is not "
                     "text); fix what wrote it")
    raw_id = obj.get(id_field)
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, str | int)):
        return error(f"the id field {id_field!r} must be a string or an integer, got "
                     f"{type(raw_id).__name__}")
    # an integer id is its decimal string: 1 and "1" name one document (the second is a
    # duplicate id, reported)
    doc_id = loc_id if raw_id is None or raw_id == "" else str(raw_id)
    text = obj.get(text_field)
    if not isinstance(text, str):
        problem = "missing" if text is None else f"not a string ({type(text).__name__})"
        return error(f"text field {text_field!r} is {problem}", doc_id)
    meta = {k: v for k, v in obj.items() if k not in (id_field, text_field)}
    return record_entry(doc_id, path, line, text, meta, loc_id)


def _jsonl_entry(raw: bytes, lineno: int, where: str, rel: str, id_field: str,
                 text_field: str, encoding: str | None) -> Entry | None:
    if lineno == 1:
        raw = _without_bom(raw)
    if not raw.strip():
        return None
    loc_id, at = f"{rel}:{lineno}", f"{where}:{lineno}"
    line, reason = _decode(raw, at, encoding)
    if line is None:
        return Entry(loc_id, where, lineno, sha256(raw), status="error", error=reason)
    try:
        obj = json.loads(line, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        return Entry(loc_id, where, lineno, sha256(raw), status="error",
                     error=f"{at}: malformed JSON: {e.msg} (column {e.colno})")
    except ValueError as e:  # NaN, Infinity
        return Entry(loc_id, where, lineno, sha256(raw), status="error",
                     error=f"{at}: malformed JSON: {e}")
    return object_entry(obj, where, at, lineno, loc_id, sha256(raw), id_field, text_field)


class JsonlInput(InputFormat):
    """One JSON object a line, each a document; the other fields are kept as metadata."""

    name = "jsonl"
    suffixes = (".jsonl", ".ndjson")

    @classmethod
    def read(cls, path: Path, root: Path | None, *, id_field: str = "id",
             text_field: str = "text", encoding: str | None = None) -> Iterator[Entry]:
        fh: IO[bytes] | Entry
        if root is None:
            where, rel, fh = "<stdin>", "<stdin>", sys.stdin.buffer
        else:
            where, rel, fh = open_many(path, root)
        if isinstance(fh, Entry):
            yield fh
            return
        fh = utf16_as_utf8(fh)
        lineno = 0
        try:
            for raw in limits.lines_within(fh):
                lineno += 1
                if raw is None:
                    yield Entry(f"{rel}:{lineno}", where, lineno, sha256(b""), status="error",
                                error=f"{where}:{lineno}: "
                                      f"{limits.over_limit('the line holds')}")
                    continue
                entry = _jsonl_entry(raw, lineno, where, rel, id_field, text_field, encoding)
                if entry is not None:
                    yield entry
        except (EOFError, OSError, zlib.error) as e:
            yield Entry(f"{rel}:{lineno + 1}", where, lineno + 1, sha256(b""), status="error",
                        error=f"{where}: unreadable after line {lineno} (truncated or corrupt "
                              f"file: {e}); the {lineno} lines before were kept")
        finally:
            if root is not None:
                fh.close()

    @classmethod
    def count(cls, path: Path) -> int | None:
        try:
            with utf16_as_utf8(open_input(path)) as fh:
                return sum(1 for i, raw in enumerate(limits.lines_within(fh))
                           if raw is None or (_without_bom(raw) if i == 0 else raw).strip())
        except (OSError, EOFError, zlib.error):
            return None


class JsonError(ValueError):
    """JSON that is not well formed, or not documents; the elements before it were read."""


def _values(fh: IO[bytes]) -> Iterator[tuple[int, Any, str]]:
    """``(line, value, its JSON text)`` of each document of a ``.json`` file (module
    docstring): an array's elements as the array streams past."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    decode = json.JSONDecoder(parse_constant=_no_constant).raw_decode
    buffer, at, line, done = "", 0, 1, False

    def more(size: int = 0) -> bool:
        nonlocal buffer, done
        chunk = fh.read(max(_CHUNK, size))
        done = not chunk
        try:
            buffer += decoder.decode(chunk, final=done)
        except UnicodeDecodeError as e:
            raise JsonError(f"not UTF-8 near line {line} ({e.reason})") from None
        return not done

    def skip() -> None:  # whitespace, reading on as needed
        nonlocal at, line
        while True:
            while at < len(buffer) and buffer[at] in _WHITESPACE:
                line += buffer[at] == "\n"
                at += 1
            if at < len(buffer) or not more():
                return

    skip()
    if at >= len(buffer):
        raise JsonError("empty: no JSON value")
    if buffer[at] != "[":  # one object, or an object holding an array: read whole
        parts, size = [buffer[at:]], len(buffer) - at
        while chunk := fh.read(1 << 20):  # joined once: not a copy of the whole a read
            size += len(chunk)
            if size > limits.document_bytes():
                raise JsonError(limits.over_limit("the JSON object holds") + " (write the "
                                "documents as an array or as JSONL, which are streamed)")
            try:
                parts.append(decoder.decode(chunk))
            except UnicodeDecodeError as e:
                raise JsonError(f"not UTF-8 ({e.reason})") from None
        try:
            parts.append(decoder.decode(b"", final=True))
        except UnicodeDecodeError as e:
            raise JsonError(f"not UTF-8 at its end ({e.reason})") from None
        yield from _whole("".join(parts), line)
        return
    at += 1
    n = 0
    while True:
        skip()
        if at >= len(buffer):
            raise JsonError(f"line {line}: the array ends without ']' (truncated?)")
        if buffer[at] == "]":
            return
        if n:
            if buffer[at] != ",":
                raise JsonError(f"line {line}: expected ',' or ']' after element {n - 1}")
            at += 1
            skip()
        start, start_line = at, line
        while True:
            try:
                value, end = decode(buffer, at)
                if end < len(buffer) or done:
                    break
                more()  # a number may go on in the next chunk: decoded again with it
                continue
            except json.JSONDecodeError as e:
                if done or len(buffer) - start > limits.document_bytes():
                    reason = (f"malformed JSON: {e.msg}" if done else
                              limits.over_limit(f"element {n} holds"))
                    raise JsonError(f"line {line}: {reason}") from None
                more(len(buffer) - start)  # twice as much each time: a long element is
                # decoded a few times, not once a chunk
            except ValueError as e:  # NaN, Infinity
                raise JsonError(f"line {line}: malformed JSON: {e}") from None
        text = buffer[start:end]
        line += text.count("\n")
        at = end
        yield start_line, value, text
        n += 1
        if at > _CHUNK:  # what was read is let go
            buffer, at = buffer[at:], 0


def _whole(text: str, line: int) -> Iterator[tuple[int, Any, str]]:
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise JsonError(f"line {line + e.lineno - 1}: malformed JSON: {e.msg}") from None
    except ValueError as e:
        raise JsonError(f"malformed JSON: {e}") from None
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1 and all(isinstance(v, dict) for v in lists[0]) and lists[0]:
            for element in lists[0]:  # {"documents": [...]}: its elements
                yield line, element, json.dumps(element, ensure_ascii=False)
            return
    yield line, value, text


class JsonInput(InputFormat):
    """A ``.json`` file of documents (module docstring)."""

    name = "json"
    suffixes = (".json",)

    @classmethod
    def read(cls, path: Path, root: Path | None, *, id_field: str = "id",
             text_field: str = "text", encoding: str | None = None) -> Iterator[Entry]:
        del encoding  # UTF-8 (module docstring)
        where, rel, fh = open_many(path, root)
        if isinstance(fh, Entry):
            yield fh
            return
        n = -1
        with utf16_as_utf8(fh) as fh:
            try:
                for n, (line, value, text) in enumerate(_values(fh)):
                    single = n == 0 and isinstance(value, dict) and text_field in value
                    loc = rel if single else f"{rel}[{n}]"
                    yield object_entry(value, where, f"{where}[{n}] (line {line})", line, loc,
                                       sha256(text), id_field, text_field)
            except (JsonError, OSError, EOFError, zlib.error) as e:
                kept = f"; the {n + 1} elements before were kept" if n >= 0 else ""
                yield Entry(f"{rel}[{n + 1}]", where, None, sha256(b""), status="error",
                            error=f"{where}: {e}{kept}")

    @classmethod
    def count(cls, path: Path) -> int | None:
        try:
            with utf16_as_utf8(open_input(path)) as fh:
                return sum(1 for _ in _values(fh))
        except (JsonError, OSError, EOFError, zlib.error):
            return None
