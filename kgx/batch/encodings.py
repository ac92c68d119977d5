"""Reading text in the encodings it comes in: the messages of text that is not UTF-8, and
UTF-16 read as UTF-8 by the readers of many documents, which split lines on ``\\n``."""

from __future__ import annotations

import codecs
import io
from typing import IO, Any, cast

#: how a run names its legacy encoding, as the messages of text that is not UTF-8 say
ENCODING_HINT = "--encoding cp1252, ..."


def utf8_else(data: bytes, encoding: str | None) -> str:
    """``data`` as UTF-8, else in the run's ``encoding`` where it names one (a fallback: valid
    UTF-8 stays UTF-8, a corpus may mix both); the UnicodeDecodeError of the last one tried
    (its ``start``, the byte that stopped it, for ``not_decoded``)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if encoding is None:
            raise
    return data.decode(encoding)


def not_decoded(data: bytes, at: int, encoding: str | None = None, offset: bool = True) -> str:
    """Why ``data`` was not read (its byte ``at`` is not UTF-8, nor the run's ``encoding``),
    and what to do about it."""
    where = f" at offset {at}" if offset else ""
    if encoding is None:
        return (f"not valid UTF-8 (byte 0x{data[at]:02x}{where}); convert it to UTF-8, or "
                f"name its encoding ({ENCODING_HINT})")
    return f"neither UTF-8 nor {encoding} (byte 0x{data[at]:02x}{where})"


class _Utf16AsUtf8(io.RawIOBase):
    """A UTF-16 byte stream read as the same text in UTF-8 (``utf16_as_utf8``)."""

    def __init__(self, fh: IO[bytes]) -> None:
        super().__init__()
        self._fh, self._pending, self._done = fh, b"", False
        self._decoder = codecs.getincrementaldecoder("utf-16")(errors="surrogatepass")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            chunk = self._fh.read(1 << 16)
            self._done = not chunk
            try:
                text = self._decoder.decode(chunk, final=self._done)
            except UnicodeDecodeError as e:  # an odd byte at the end: a cut file
                raise OSError(f"not valid UTF-16, as its byte-order mark says ({e.reason})"
                              ) from None
            self._pending = text.encode("utf-8", "surrogatepass")
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def utf16_as_utf8(fh: IO[bytes]) -> IO[bytes]:
    """``fh``, or for a file that opens with a UTF-16 byte-order mark (Windows PowerShell 5.1
    writes its output so, Excel its "Unicode text") its text as UTF-8 bytes, decoded as it is
    read: the readers of many documents split lines on ``\n``, which UTF-16 does not write.
    A lone surrogate stays in the bytes (not UTF-8: its line is an error entry)."""
    peek = getattr(fh, "peek", None)
    head = peek(2)[:2] if peek is not None else b""
    if head not in (b"\xff\xfe", b"\xfe\xff"):
        return fh
    return cast(IO[bytes], io.BufferedReader(_Utf16AsUtf8(fh)))
