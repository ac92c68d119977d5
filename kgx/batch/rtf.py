"""Rich Text Format (``.rtf``) as its text: the paragraphs as a word processor shows them.

RTF is what clinical record systems, court filing systems and older word processors still
export, so a corpus of case notes or filings is often a folder of ``.rtf`` files; read as bytes,
one is a stream of control words (``{\\rtf1\\ansi ... \\par}``), not text. ``rtf_text`` reads
it with the standard library, after the RTF 1.9.1 specification:

* the text of the body, each ``\\par`` (section, page, table cell, row) ending a paragraph,
  paragraphs apart by a blank line as ``kgx.batch.office`` writes them, so that
  ``kgx_layout_boundaries`` starts a sentence there; ``\\line`` and ``\\tab`` kept;
* characters as written: ``\\'hh`` bytes in the code page of the document (``\\ansicpg``) or of
  the font in use (its ``\\fcharset``: Cyrillic, Greek, Japanese, ...), ``\\uN`` Unicode
  characters without their ``\\ucN`` fallback bytes, the named quotes and dashes;
* footnotes and then endnotes (``\ftnalt``) after the body, each paragraph one of its own, as
  the ``.docx`` reader reads them;
* not the text a reader does not show in the body: font, colour and style tables, pictures and
  embedded objects' data, headers and footers, comments, field instructions (a
  field's shown result is kept), hidden text (``\\v``), tracked deletions (``\\deleted``), list
  numbers (as ``.docx`` reads them) and every ``{\\*\\...}`` destination a reader may ignore;
  ``\\bin`` data is stepped over, never read as text;
* the title, author and creation and revision times of ``{\\info ...}`` as metadata;
* RTF that encapsulates HTML (``\\fromhtml1``, what Outlook keeps an HTML mail's body as,
  [MS-OXRTFEX]) as that HTML (``kgx.batch.html.html_text``): its tags are in
  ``{\\*\\htmltag ...}`` groups, the text between ``\\htmlrtf`` and ``\\htmlrtf0`` is RTF's
  rendering only, and a line break of the HTML's source is a blank line of the file.

The offsets of a document's records count in this text (``kgx.batch.read_document`` gives it).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from kgx.batch.html import html_text
from kgx.batch.office import OfficeError, _OfficeInput

#: deeper groups than a word processor writes: a file of nothing but ``{`` must not hold a
#: state per byte
MAX_DEPTH = 1000

_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?[0-9]{1,10})? ?"  # a control word, its parameter, its delimiter
    rb"|\\'([0-9a-fA-F]{2})"  # a byte of the code page in force
    rb"|\\([^a-zA-Z'])"  # a control symbol (a backslash and a line break: \par)
    rb"|([{}])"
    rb"|([\r\n]+)"  # line breaks in the file are not text
    rb"|([^\\{}\r\n]+)"
    rb"|(\\)", re.DOTALL)  # a stray backslash (at the end, before a non-hex \')
_BODY, _SKIP, _FONTS, _INFO, _META, _DATE, _NOTE, _HTMLTAG, _SHAPE = range(9)
#: destinations whose text is not the body's text as shown
_SKIPPED = frozenset(
    "colortbl stylesheet listtable listoverridetable revtbl rsidtbl filetbl pict objdata "
    "objclass objname nonshppict shpinst shptxt shprslt header headerl headerr headerf footer "
    "footerl footerr footerf annotation atnid atnauthor atndate atnicn atnref atntime atrfstart "
    "atrfend fldinst xe tc tcn txe rxe template pn pntxta pntxtb pntext listtext falt panose "
    "themedata colorschememapping latentstyles datastore xmlnstbl docvar ftnsep ftnsepc ftncn "
    "aftnsep aftnsepc aftncn userprops private passwordhash fchars lchars".split())
#: control words that end a paragraph of the body
_BREAKS = frozenset("par sect page cell row nestcell nestrow column".split())
_CHARS = {"line": "\n", "tab": "\t", "emdash": "\u2014", "endash": "\u2013",
          "emspace": "\u2003", "enspace": "\u2002", "qmspace": "\u2005", "bullet": "\u2022",
          "lquote": "\u2018", "rquote": "\u2019", "ldblquote": "\u201c", "rdblquote": "\u201d",
          "zwj": "\u200d", "zwnj": "\u200c", "zwbo": "\u200b", "ltrmark": "\u200e",
          "rtlmark": "\u200f"}
# ``\_`` is a non-breaking hyphen: "-" as the .docx reader gives it; ``\-`` an optional hyphen
_SYMBOLS = {b"\\": "\\", b"{": "{", b"}": "}", b"~": "\u00a0", b"_": "-"}
_INFO_FIELDS = {"title": "title", "author": "author"}
_INFO_DATES = {"creatim": "created", "revtim": "modified"}
#: ``\fcharsetN`` → code page (0 and 1: the document's, 2: Symbol, read as the document's)
_CHARSETS = {77: 10000, 128: 932, 129: 949, 130: 1361, 134: 936, 136: 950, 161: 1253,
             162: 1254, 163: 1258, 177: 1255, 178: 1256, 186: 1257, 204: 1251, 222: 874,
             238: 1250, 254: 437, 255: 850}
_CODEC_NAMES = {10000: "mac_roman", 1361: "johab", 65001: "utf-8", 20127: "ascii"}


class RtfError(OfficeError):
    """A file that is not readable RTF."""


class _Group:
    """What a group reads: its destination (``mode``), the ``\\ucN`` count, the font, and
    whether its text is hidden or deleted; a ``{`` copies it, a ``}`` restores the outer."""

    __slots__ = ("mode", "uc", "font", "hidden", "field", "fresh", "outer", "rtf_only")

    def __init__(self, mode: int, uc: int, font: int | None, hidden: bool,
                 field: Any, outer: int, rtf_only: bool = False) -> None:
        self.mode, self.uc, self.font, self.hidden = mode, uc, font, hidden
        self.field, self.outer, self.fresh, self.rtf_only = field, outer, True, rtf_only

    def inner(self) -> _Group:
        return _Group(self.mode, self.uc, self.font, self.hidden, self.field, self.outer,
                      self.rtf_only)


def _codec(page: int | None) -> str:
    name = _CODEC_NAMES.get(page or 1252, f"cp{page}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "cp1252"


def rtf_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the RTF file in ``data`` and its ``\\info`` metadata."""
    if data.lstrip()[:5] != b"{\\rtf":
        raise RtfError("does not start with {\\rtf: not an RTF file")
    return _Reader(data).read()


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.codepage = "cp1252"
        self.fonts: dict[int, str] = {}  # font number → codec, from the font table
        self.default_font: int | None = None
        self.paragraphs: list[str] = []
        self.pieces: list[str] = []  # the open paragraph
        # their paragraphs: notes, and text boxes (read after the body, as for .doc)
        self.notes: dict[str, list[str]] = {"footnote": [], "endnote": [], "textbox": []}
        self.note_pieces: list[str] = []  # the open paragraph of a note
        self.note_kind, self.note_level = "footnote", -1  # the note being read, its group
        self.html: list[str] | None = None  # \fromhtml1: the HTML the RTF encapsulates
        self.meta: dict[str, str] = {}
        self.meta_pieces: dict[str, list[str]] = {}  # metadata fields being read
        self.font: int | None = None  # the font the font table is describing
        self.pending = bytearray()  # bytes not yet decoded (a double-byte character's two)
        self.pending_codec = "cp1252"
        self.pending_to: list[str] | None = None

    def read(self) -> tuple[str, dict[str, str]]:
        data, match = self.data, _TOKEN.match
        stack: list[_Group] = []
        group = _Group(_BODY, 1, None, False, None, _SKIP)
        pos = data.index(b"{")
        skip = 0  # fallback characters of a \uN still to step over
        ignorable = False  # after \*: the group is a destination a reader may ignore
        while pos < len(data):
            m = match(data, pos)
            assert m is not None  # the last alternative matches any byte left
            pos = m.end()
            kind = m.lastindex
            if kind == 5:  # a brace
                skip, ignorable = 0, False
                if m.group(5) == b"{":
                    if len(stack) >= MAX_DEPTH:
                        raise RtfError(f"groups nested deeper than {MAX_DEPTH}: not a file a "
                                       "word processor wrote")
                    stack.append(group)
                    group = group.inner()
                    continue
                self._close(group)
                if group.mode == _NOTE and len(stack) == self.note_level:
                    self._end_note_paragraph()  # the note's group ends
                    self.note_level = -1
                group = stack.pop()
                if not stack:
                    break  # the document's group is closed: what follows is not RTF
                continue
            if kind == 7:  # text
                text = m.group(7)
                if skip:
                    text, skip = text[skip:], max(0, skip - len(text))
                if text:
                    self._bytes(group, bytes(text))
                group.fresh = False
                continue
            if kind == 3:  # \'hh
                if skip:
                    skip -= 1
                else:
                    self._bytes(group, bytes((int(m.group(3), 16),)))
                group.fresh = False
                continue
            if kind == 4:  # a control symbol
                symbol = m.group(4)
                if symbol == b"*":
                    ignorable = True
                    continue
                if skip:
                    skip -= 1
                elif symbol in (b"\n", b"\r"):
                    self._break(group)
                elif symbol in _SYMBOLS:
                    self._chars(group, _SYMBOLS[symbol])
                group.fresh = False
                continue
            if kind not in (1, 2):  # line breaks of the file; a stray backslash
                if kind == 6 and self.html is not None and m.group(6).count(b"\n") > 1:
                    # Outlook writes a line break of the HTML's source as a blank line of the
                    # file (its own breaks, before each tag, are single): white space there
                    self._chars(group, " ")
                continue
            name = m.group(1).decode("ascii")
            param = m.group(2)
            value = int(param) if param is not None else None
            if name == "bin":  # binary data: stepped over whatever the mode
                pos += max(0, value or 0)
                continue
            if skip:
                skip -= 1
                continue
            fresh, group.fresh = group.fresh, False
            if ignorable:
                ignorable = False
                if name == "ud":  # the Unicode half of {\upr{ansi}{\*\ud{unicode}}}
                    group.mode = group.outer
                elif name == "htmltag" and self.html is not None:  # the HTML's own markup
                    group.mode = _HTMLTAG
                elif name == "footnote" and group.mode == _BODY and self.note_level < 0:
                    self._open_note(group, "footnote", len(stack))
                elif name == "shpinst" and group.mode == _BODY and self.note_level < 0:
                    group.mode = _SHAPE  # a drawn shape: only its text box's text is read
                else:  # (LibreOffice writes {\*\footnote, Word {\footnote)
                    group.mode = _SKIP
                continue
            mode = group.mode
            if mode == _SKIP:
                continue
            if name == "u" and value is not None:  # a signed 16-bit number
                code = value + 65536 if value < 0 else value
                self._chars(group, chr(code) if 0 <= code <= 0xFFFF else "\ufffd")
                skip = group.uc
            elif name == "uc":
                group.uc = max(0, value or 0)
            elif mode == _BODY and name == "footnote" and self.note_level < 0:
                self._open_note(group, "footnote", len(stack))
            elif mode == _NOTE and name == "ftnalt":
                self.note_kind = "endnote"
            elif mode == _SHAPE:
                if name == "shptxt" and self.note_level < 0:
                    self._open_note(group, "textbox", len(stack))
            elif mode in (_BODY, _NOTE, _HTMLTAG):
                self._body_word(group, name, value)
            elif mode == _FONTS:
                self._font_word(name, value)
            elif mode == _INFO:
                if name == "upr":
                    group.outer, group.mode = _INFO, _SKIP
                elif fresh:
                    if name in _INFO_FIELDS:
                        group.mode, group.field = _META, _INFO_FIELDS[name]
                    elif name in _INFO_DATES:
                        group.mode, group.field = _DATE, (_INFO_DATES[name], {})
                    else:
                        group.mode = _SKIP
            elif mode == _DATE and name in ("yr", "mo", "dy", "hr", "min"):
                group.field[1][name] = value or 0
            elif mode == _META and name in _SKIPPED:
                group.mode = _SKIP
        self._flush()
        self._end_paragraph()
        if self.html is not None:  # the HTML it was made from, read as a browser shows it
            return html_text(_joined(self.html)), self.meta
        return "\n\n".join(self.paragraphs + [p for kind in ("footnote", "endnote", "textbox")
                                               for p in self.notes[kind]]), self.meta

    def _body_word(self, group: _Group, name: str, value: int | None) -> None:
        if name == "fromhtml" and value == 1 and self.html is None:
            self.html = []
        elif name == "htmlrtf":  # what follows, to \htmlrtf0, is RTF's rendering only
            group.rtf_only = value != 0
        elif name in _BREAKS:
            self._break(group)
        elif name in _CHARS:
            self._chars(group, _CHARS[name])
        elif name == "f":
            group.font = value
        elif name == "plain":
            group.font, group.hidden = self.default_font, False
        elif name in ("v", "deleted"):
            group.hidden = value != 0
        elif name in _SKIPPED:
            group.mode = _SKIP
        elif name == "fonttbl":
            group.mode = _FONTS
        elif name == "info":
            group.mode = _INFO
        elif name == "upr":  # its first group is the ANSI copy of its \ud
            group.outer, group.mode = group.mode, _SKIP
        elif name == "ansicpg" and value:
            self.codepage = _codec(value)
        elif name in ("mac", "pc", "pca"):
            self.codepage = {"mac": "mac_roman", "pc": "cp437", "pca": "cp850"}[name]
        elif name == "deff":
            self.default_font = group.font = value

    def _font_word(self, name: str, value: int | None) -> None:
        if name == "f" and value is not None:
            self.font = value
        elif name in ("fcharset", "cpg") and value is not None and self.font is not None:
            page = _CHARSETS.get(value) if name == "fcharset" else value
            if page is not None:
                self.fonts[self.font] = _codec(page)

    def _target(self, group: _Group) -> list[str] | None:
        """Where the group's text goes: the open paragraph, a metadata field, or nowhere."""
        if self.html is not None:  # text outside \htmlrtf is the HTML's, as are its tags
            return self.html if group.mode in (_BODY, _HTMLTAG) and not group.rtf_only else None
        if group.hidden:
            return None
        if group.mode == _BODY:
            return self.pieces
        if group.mode == _NOTE:
            return self.note_pieces
        if group.mode == _META:
            return self.meta_pieces.setdefault(group.field, [])
        return None

    def _bytes(self, group: _Group, data: bytes) -> None:
        to = self._target(group)
        if to is None:
            return
        codec = self.fonts.get(group.font, self.codepage) if group.font is not None \
            else self.codepage
        if to is not self.pending_to or codec != self.pending_codec:
            self._flush()
            self.pending_to, self.pending_codec = to, codec
        self.pending += data

    def _chars(self, group: _Group, text: str) -> None:
        to = self._target(group)
        if to is not None:
            self._flush()
            to.append(text)

    def _flush(self) -> None:
        if self.pending and self.pending_to is not None:
            self.pending_to.append(self.pending.decode(self.pending_codec, "replace"))
        self.pending.clear()

    def _break(self, group: _Group) -> None:
        if self.html is not None:
            self._chars(group, "\r\n")  # in the HTML's source: a line break, white space
        elif group.mode == _BODY:
            self._flush()
            self._end_paragraph()
        elif group.mode == _NOTE:
            self._end_note_paragraph()

    def _open_note(self, group: _Group, kind: str, level: int) -> None:
        """``group`` (at depth ``level``) holds a note or a text box: its paragraphs are read
        apart from the body's, until the group ends."""
        group.mode, self.note_kind, self.note_level = _NOTE, kind, level

    def _end_note_paragraph(self) -> None:
        self._flush()
        text = _joined(self.note_pieces).strip()
        self.note_pieces.clear()
        if text:
            self.notes[self.note_kind].append(text)

    def _end_paragraph(self) -> None:
        text = _joined(self.pieces)
        self.pieces.clear()
        if text.strip():
            self.paragraphs.append(text)

    def _close(self, group: _Group) -> None:
        """A group ends: a metadata field or date it held is complete."""
        if group.mode == _META:
            self._flush()
            value = _joined(self.meta_pieces.pop(group.field, [])).strip()
            if value and group.field not in self.meta:
                self.meta[group.field] = value
        elif group.mode == _DATE:
            key, parts = group.field
            if parts.get("yr"):
                when = f"{parts['yr']:04d}-{parts.get('mo', 1):02d}-{parts.get('dy', 1):02d}"
                if "hr" in parts:
                    when += f"T{parts['hr']:02d}:{parts.get('min', 0):02d}"
                self.meta.setdefault(key, when)


def _joined(pieces: list[str]) -> str:
    """The pieces as one text, a pair of ``\\uN`` surrogates as the one character they encode
    (a lone one as U+FFFD)."""
    text = "".join(pieces)
    if any("\ud800" <= c <= "\udfff" for c in text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


class RtfInput(_OfficeInput):
    """A Rich Text Format file (``.rtf``): one document, its paragraphs' text (``rtf_text``),
    its title, author and dates as metadata."""

    name = "rtf"
    suffixes = (".rtf",)

    @staticmethod
    def read_text(data: bytes) -> tuple[str, dict[str, str]]:
        return rtf_text(data)
