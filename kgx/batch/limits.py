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

import zlib
from collections.abc import Iterator
from typing import IO

#: the most bytes one document may unpack to: a text file, a JSONL line, a mail message, an
#: office document's XML part, a PDF's decoded streams together
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 20


def over_limit(holds: str) -> str:
    """The reason given for an input over :data:`MAX_DOCUMENT_BYTES` (``holds``: "the file
    holds", "its streams hold")."""
    return (f"{holds} over {MAX_DOCUMENT_BYTES:,} bytes unpacked, the limit for one document "
            "(a compressed bomb, or a dump to split into documents first)")


def read_within(fh: IO[bytes]) -> bytes | None:
    """The whole of ``fh``, or None (having read only one byte more than the limit) when it is
    longer than :data:`MAX_DOCUMENT_BYTES`."""
    data = fh.read(MAX_DOCUMENT_BYTES + 1)
    return None if len(data) > MAX_DOCUMENT_BYTES else data


def lines_within(fh: IO[bytes]) -> Iterator[bytes | None]:
    """Each line of ``fh``; None in place of a line longer than :data:`MAX_DOCUMENT_BYTES`,
    which is skipped a piece at a time, never held whole."""
    while True:
        line = fh.readline(MAX_DOCUMENT_BYTES + 1)
        if not line:
            return
        if len(line) <= MAX_DOCUMENT_BYTES:
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
