"""How much one document may unpack to, and reading that never holds more.

A gzip, zip or PDF bomb (a few kilobytes that inflate to gigabytes), a JSONL file with no line
breaks, or a stray multi-gigabyte dump in an input folder would otherwise be read whole into
the memory of the process that reads the inputs, and the run would die on the one document,
losing the documents after it. Read through these helpers, such an input is an error entry that
names it and the limit, and the run goes on. The limit is far above any document a pipeline
reads in reasonable time (256 MiB of text is some 40 million words: about ten hours on two
CPU cores); it bounds memory, not work.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO

#: the most bytes one document may unpack to: a text file, a JSONL line, a mail message, an
#: office document's XML part, a PDF's decoded streams together
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
#: the most seconds one PDF page may take to lay out: an ordinary page takes some 0.04 s; text
#: drawn over itself thousands of times (a hostile file) would take hours
MAX_PAGE_SECONDS = 60.0
_CHUNK = 1 << 20
_MARK = "bytes unpacked, the limit for one document"
_CAP: ContextVar[int | None] = ContextVar("kgx_document_bytes", default=None)
#: (monotonic deadline, seconds) of the document being read, set by :func:`at_most`
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("kgx_read_deadline",
                                                                default=None)


def document_bytes() -> int:
    """The limit in force: :data:`MAX_DOCUMENT_BYTES`, or a lower one set by :func:`at_most`."""
    cap = _CAP.get()
    return MAX_DOCUMENT_BYTES if cap is None else min(cap, MAX_DOCUMENT_BYTES)


@contextmanager
def at_most(limit: int, seconds: float | None = None) -> Iterator[None]:
    """Readers in this context (this thread or task only) hold at most ``limit`` bytes a
    document, and (``seconds``) stop reading a PDF that many seconds from now (else the
    enclosing context's time stands): a server bounds what one request may cost."""
    token = _CAP.set(limit)
    timed = None if seconds is None else _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        if timed is not None:
            _DEADLINE.reset(timed)
        _CAP.reset(token)


def read_deadline() -> tuple[float, float] | None:
    """``(monotonic deadline, seconds)`` set by :func:`at_most`, or None (no limit but the
    page's, :data:`MAX_PAGE_SECONDS`)."""
    return _DEADLINE.get()


def over_limit(holds: str) -> str:
    """The reason given for an input over the limit (``holds``: "the file holds", "its
    streams hold")."""
    return (f"{holds} over {document_bytes():,} {_MARK} (a compressed bomb, or a dump to "
            "split into documents first)")


def is_over_limit(reason: str) -> bool:
    """Whether a reader's reason is a limit's (:func:`over_limit`'s, or a PDF page's or
    document's time: ``kgx.batch.pdflayout.PageClock``)."""
    return "the limit for one " in reason


def read_within(fh: IO[bytes]) -> bytes | None:
    """The whole of ``fh``, or None (having read only one byte more than the limit) when it is
    longer than the limit."""
    limit = document_bytes()
    data = fh.read(limit + 1)
    return None if len(data) > limit else data


def lines_within(fh: IO[bytes]) -> Iterator[bytes | None]:
    """Each line of ``fh``; None in place of a line longer than the limit, which is skipped a
    piece at a time, never held whole."""
    while True:
        limit = document_bytes()
        line = fh.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit:
            yield line
            continue
        while line and not line.endswith(b"\n"):
            line = fh.readline(_CHUNK)
        yield None


def inflated_size(data: bytes, budget: int, keep: bool = False) -> tuple[int, bytes]:
    """How many bytes the zlib stream ``data`` inflates to, counted a megabyte at a time, and
    (``keep``) those bytes; ``budget + 1`` as soon as it passes ``budget``, with nothing kept.
    Damaged data counts what inflates before the damage (what a lenient reader recovers)."""
    inflater = zlib.decompressobj()
    size, kept = 0, bytearray()
    try:
        chunk = inflater.decompress(data, _CHUNK)
        while chunk:
            size += len(chunk)
            if size > budget:
                return budget + 1, b""
            if keep:
                kept += chunk
            chunk = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
    except zlib.error:
        pass
    return size, bytes(kept)


def lzw_size(data: bytes, budget: int) -> int:
    """How many bytes the PDF LZW stream ``data`` decodes to, as pdfminer.six decodes it
    (codes of 9 to 12 bits, early change, a table that keeps growing), counted from code
    lengths only; ``budget + 1`` as soon as it passes ``budget``. A decoder's own table holds
    about as much as it outputs (each entry a previous output and one byte): counting with it
    would be the bomb."""
    lengths: list[int] = []
    size, previous, nbits, bits, held, at = 0, 0, 9, 0, 0, 0
    while True:
        while held < nbits:
            if at >= len(data):
                return size
            bits, held, at = (bits << 8) | data[at], held + 8, at + 1
        held -= nbits
        code, bits = bits >> held, bits & ((1 << held) - 1)
        if code == 256:
            lengths, previous, nbits = [1] * 256 + [0, 0], 0, 9
            continue
        if code == 257:
            continue
        if code > len(lengths) or (code == len(lengths) and not previous):
            return size  # damaged: pdfminer stops here too, or fails the file
        if not previous:
            length = lengths[code]
        else:
            lengths.append(previous + 1)
            length = lengths[code]
            nbits = {511: 10, 1023: 11, 2047: 12}.get(len(lengths), nbits)
        previous, size = length, size + length
        if size > budget:
            return budget + 1


def runlength_size(data: bytes) -> int:
    """How many bytes the PDF RunLength stream ``data`` decodes to (at most 128 a byte)."""
    size, at = 0, 0
    while at < len(data) and data[at] != 128:
        n = data[at]
        if n < 128:
            size, at = size + min(n + 1, len(data) - at - 1), at + n + 2
        else:
            size, at = size + 257 - n, at + 2
    return size
