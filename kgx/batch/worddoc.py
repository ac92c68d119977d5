"""Word 97-2003 documents (``.doc``) as their text: the main document as Word shows it.

Archives of public bodies, courts and firms hold decades of ``.doc`` files; read as bytes one
is binary, an error entry. ``doc_text`` reads it with the standard library after [MS-DOC]: the
file is a compound file (``kgx.batch.cfb``) whose ``WordDocument`` stream starts with the File
Information Block (FIB); the FIB locates, in the ``0Table`` or ``1Table`` stream, the piece
table that maps the document's characters to runs of bytes in ``WordDocument`` (Windows-1252 or
UTF-16), and the character formatting that marks tracked deletions and hidden text. The main
document is its first ``ccpText`` characters (footnotes, headers, comments and text boxes come
after it: footnotes and endnotes are read after it, each paragraph one of its own, as the
``.docx`` reader reads them; headers, comments and text boxes are not). In it:

* a paragraph mark, a table cell's end, a page or section break end a paragraph; paragraphs
  apart by a blank line as ``kgx.batch.office`` writes them; line breaks and tabs kept;
* a field's instructions are left out and its result (the text it shows) kept;
* pictures, drawn objects and footnote reference marks (control characters) are no text;
  a non-breaking hyphen is "-", an optional hyphen nothing, as the ``.docx`` reader does;
* tracked deletions and hidden text are left out.

The title, author and dates of the ``\\x05SummaryInformation`` property set are the document's
metadata. An encrypted document is refused with that reason. A ``.doc`` file that holds RTF or
a ``.docx`` (both are often saved under that name) is read as what it holds. Offsets of a
document's records count in this text (``kgx.batch.read_document`` gives it back).
"""

from __future__ import annotations

import bisect
import struct

from kgx.batch.cfb import ENCRYPTED, CfbError, CompoundFile, filetime
from kgx.batch.office import OfficeError, _OfficeInput, docx_text
from kgx.batch.rtf import rtf_text

_BREAKS = {"\r", "\x07", "\x0c", "\x0e"}  # paragraph, cell or row, page or section, column
_CHARS = {"\x0b": "\n", "\t": "\t", "\x1e": "-"}
_DELETED, _HIDDEN = 0x0800, 0x083C  # sprmCFRMarkDel, sprmCFVanish
_OPERAND = {0: 1, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2, 7: 3}  # a sprm's operand size by its spra
_SUMMARY = {2: "title", 4: "author", 12: "created", 13: "modified"}


class DocError(OfficeError):
    """A file that is not a readable Word 97-2003 document."""


def doc_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The main document's text of the ``.doc`` file in ``data`` and its summary metadata."""
    try:
        cf = CompoundFile(data)
        word = cf.stream("WordDocument")
        if word is None:
            if cf.encrypted():
                raise DocError(ENCRYPTED)
            raise DocError("no WordDocument stream inside: not a Word 97-2003 document")
        if len(word) < 0x200 or struct.unpack_from("<H", word, 0)[0] != 0xA5EC:
            raise DocError("its WordDocument stream does not start with Word's FIB "
                           "(a Word 6 or older file?)")
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        if flags & 0x0100:
            raise DocError("password-protected (encrypted): refused")
        table_name = "1Table" if flags & 0x0200 else "0Table"
        table = cf.stream(table_name)
        if table is None:
            raise DocError(f"no {table_name} stream inside, which its FIB names")
        summary = cf.stream("\x05SummaryInformation")
    except CfbError as e:
        raise DocError(str(e)) from None
    except struct.error:
        raise DocError("its FIB is cut short (damaged?)") from None
    try:
        text = _main_text(word, table)
    except (struct.error, IndexError):
        raise DocError(f"its piece table or formatting in {table_name} is damaged") from None
    return text, summary_meta(summary)


def _main_text(word: bytes, table: bytes) -> str:
    """The main document's text, then its footnotes' and endnotes' paragraphs."""
    pos = 32
    csw = struct.unpack_from("<H", word, pos)[0]
    pos += 2 + 2 * csw
    cslw = struct.unpack_from("<H", word, pos)[0]
    # FibRgLw97: ccpText, ccpFtn, ccpHdd, ccpMcr, ccpAtn, ccpEdn, ccpTxbx: the stories in
    # this order
    ccp_text, ccp_ftn, ccp_hdd, ccp_mcr, ccp_atn, ccp_edn, ccp_txbx = struct.unpack_from(
        "<7I", word, pos + 2 + 12)
    pos += 2 + 4 * cslw
    pairs = struct.unpack_from("<H", word, pos)[0]
    if pairs < 34:
        raise DocError("its FIB has no piece table (a Word 6 or older file?)")

    def fc_lcb(k: int) -> tuple[int, int]:
        return struct.unpack_from("<II", word, pos + 2 + 8 * k)

    clx = _slice(table, *fc_lcb(33), "the piece table")  # fcClx
    pieces = _pieces(clx)
    marked = _merged(_marked_runs(word, _slice(table, *fc_lcb(12), "the character formatting")))
    text = _shown(_story(word, pieces, marked, 0, ccp_text))
    edn = ccp_text + ccp_ftn + ccp_hdd + ccp_mcr + ccp_atn
    notes = [p.strip() for lo, n in ((ccp_text, ccp_ftn), (edn, ccp_edn),
                                     (edn + ccp_edn, ccp_txbx)) if n
             for p in _shown(_story(word, pieces, marked, lo, lo + n)).split("\n\n")]
    return "\n\n".join([text] * bool(text.strip()) + [p for p in notes if p])


def _story(word: bytes, pieces: list[tuple[int, int, int, bool]],
           marked: list[tuple[int, int]], lo: int, hi: int) -> str:
    """The characters ``lo`` to ``hi`` (a story: the main text, the footnotes...), deleted
    and hidden runs left out."""
    starts = [start for start, _ in marked]
    chars: list[str] = []
    for cp_start, cp_end, fc, compressed in pieces:
        if cp_start >= hi:
            break
        if cp_end <= lo:
            continue
        width = 1 if compressed else 2  # Windows-1252 or UTF-16 code units
        base = (fc // 2 if compressed else fc) + (max(lo, cp_start) - cp_start) * width
        n = (min(cp_end, hi) - max(lo, cp_start)) * width
        if n <= 0:
            continue
        raw = word[base:base + n]
        if len(raw) < n:
            raise DocError("its text runs past the end of the WordDocument stream (truncated?)")
        kept, at = [], 0  # the bytes not deleted or hidden (before decoding: a character
        # beyond UTF-16's first plane is two code units); the marked runs that reach the piece
        for start, end in marked[max(0, bisect.bisect_right(starts, base) - 1):]:
            if start >= base + n:
                break
            lo, hi = max(at, start - base), min(n, end - base)
            if hi > lo:
                lo, hi = lo - lo % width, hi + (-hi) % width
                kept.append(raw[at:lo])
                at = max(at, hi)
        kept.append(raw[at:])
        chars.append(b"".join(kept).decode("cp1252" if compressed else "utf-16-le", "replace"))
    return "".join(chars)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ranges sorted and joined where they touch or overlap: disjoint, so a piece finds
    its first by bisection."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif end > start:
            out.append((start, end))
    return out


def _slice(stream: bytes, fc: int, lcb: int, what: str) -> bytes:
    if fc + lcb > len(stream):
        raise DocError(f"{what} lies beyond the end of its table stream (damaged?)")
    return stream[fc:fc + lcb]


def _pieces(clx: bytes) -> list[tuple[int, int, int, bool]]:
    """``(first cp, end cp, fc, compressed)`` of each piece of the piece table."""
    i = 0
    while i < len(clx) and clx[i] == 1:  # Prc: formatting of pieces, stepped over
        i += 3 + max(0, struct.unpack_from("<h", clx, i + 1)[0])
    if i >= len(clx) or clx[i] != 2:
        raise DocError("no piece table in its table stream")
    lcb = struct.unpack_from("<I", clx, i + 1)[0]
    plc = clx[i + 5:i + 5 + lcb]
    n = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc)
    out = []
    for k in range(n):
        raw_fc = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * k + 2)[0]
        compressed = bool(raw_fc & 0x40000000)
        out.append((cps[k], cps[k + 1], raw_fc & 0x3FFFFFFF, compressed))
    return out


def _marked_runs(word: bytes, plc: bytes) -> list[tuple[int, int]]:
    """Byte ranges of ``WordDocument`` whose characters are deleted or hidden: the runs of
    the character formatting pages (ChpxFkp) whose properties turn either on."""
    n = (len(plc) - 4) // 8
    ranges: list[tuple[int, int]] = []
    for k in range(n):
        pn = struct.unpack_from("<I", plc, 4 * (n + 1) + 4 * k)[0] & 0x3FFFFF
        page = word[pn * 512:(pn + 1) * 512]
        if len(page) < 512:
            raise DocError("a character formatting page lies beyond the WordDocument stream")
        crun = page[511]
        fcs = struct.unpack_from(f"<{crun + 1}I", page)
        for j in range(crun):
            at = page[4 * (crun + 1) + j] * 2
            if at and _turns_on(page[at + 1:at + 1 + page[at]]):
                ranges.append((fcs[j], fcs[j + 1]))
    return ranges


def _turns_on(grpprl: bytes) -> bool:
    """Whether a run's properties mark it deleted or hidden."""
    i = 0
    while i + 2 <= len(grpprl):
        sprm = struct.unpack_from("<H", grpprl, i)[0]
        i += 2
        size = _OPERAND.get(sprm >> 13)
        if size is None:  # spra 6: a counted operand
            size = 1 + (grpprl[i] if i < len(grpprl) else 0)
        if sprm in (_DELETED, _HIDDEN) and i < len(grpprl) and grpprl[i] in (1, 0x81):
            return True
        i += size
    return False


def _shown(text: str) -> str:
    """The document's characters as Word shows them (module docstring), paragraphs apart by a
    blank line."""
    paragraphs: list[str] = []
    current: list[str] = []
    fields: list[bool] = []  # per open field: whether its result is being read
    for c in text:
        if c == "\x13":
            fields.append(False)
        elif c == "\x14":
            if fields:
                fields[-1] = True
        elif c == "\x15":
            if fields:
                fields.pop()
        elif fields and not all(fields):
            continue
        elif c in _BREAKS:
            paragraphs.append("".join(current))
            current = []
        elif c in _CHARS:
            current.append(_CHARS[c])
        elif c >= " ":
            current.append(c)
    paragraphs.append("".join(current))
    return "\n\n".join(p for p in paragraphs if p.strip())


def summary_meta(data: bytes | None) -> dict[str, str]:
    """Title, author and dates of a SummaryInformation property set (empty when unreadable)."""
    meta: dict[str, str] = {}
    if not data or len(data) < 48:
        return meta
    try:
        at = struct.unpack_from("<I", data, 44)[0]  # the first property set's offset
        count = struct.unpack_from("<I", data, at + 4)[0]
        props = {}
        for k in range(min(count, 1000)):
            pid, offset = struct.unpack_from("<II", data, at + 8 + 8 * k)
            props[pid] = at + offset
        codepage = "cp1252"
        if 1 in props and struct.unpack_from("<H", data, props[1])[0] == 2:  # VT_I2
            page = struct.unpack_from("<H", data, props[1] + 4)[0]
            codepage = "utf-16-le" if page == 1200 else "utf-8" if page == 65001 else f"cp{page}"
        for pid, key in _SUMMARY.items():
            if pid not in props:
                continue
            kind = struct.unpack_from("<H", data, props[pid])[0]
            if kind == 0x1E:  # VT_LPSTR
                size = struct.unpack_from("<I", data, props[pid] + 4)[0]
                raw = data[props[pid] + 8:props[pid] + 8 + min(size, 65536)]
                value = raw.decode(codepage, "replace").split("\0")[0].strip()
            elif kind == 0x40:  # VT_FILETIME: 100 ns since 1601
                ticks = struct.unpack_from("<Q", data, props[pid] + 4)[0]
                if not ticks:
                    continue
                value = filetime(ticks).strftime("%Y-%m-%dT%H:%M:%SZ")
            else:
                continue
            if value:
                meta[key] = value
    except (struct.error, LookupError, OverflowError):
        return meta
    return meta


class DocInput(_OfficeInput):
    """A Word 97-2003 document (``.doc``): one document, its main text (``doc_text``), its
    title, author and dates as metadata."""

    name = "doc"
    suffixes = (".doc",)  # not .dot: Graphviz's graphs as often as Word's templates

    @staticmethod
    def read_text(data: bytes) -> tuple[str, dict[str, str]]:
        # Word opens a file by its content: RTF and .docx files are often saved as ".doc"
        if data.lstrip()[:5] == b"{\\rtf":
            return rtf_text(data)
        if data[:4] == b"PK\x03\x04":
            return docx_text(data)
        return doc_text(data)
