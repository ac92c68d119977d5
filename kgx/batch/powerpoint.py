"""PowerPoint 97-2003 decks (``.ppt``) as their text: each slide's text, slide by slide.

Old decks fill the same archives as old ``.doc`` files. A ``.ppt`` is a compound file
(``kgx.batch.cfb``) whose ``PowerPoint Document`` stream is a tree of records [MS-PPT]. Saves
append to it, so a slide may be there in several versions: the ``Current User`` stream points to
the last edit, whose persist directory (and its predecessors') gives where the live version of
each object is. ``ppt_text`` follows that: the document's slide list (``SlideListWithText``, in
deck order), then each slide's drawing, reading its text boxes' text atoms (UTF-16 or 8-bit) in
order and the placeholder texts they refer to in the slide list, then its speaker notes (the
notes page its slide atom names, through the notes list). Masters, comments and the footer,
date and slide-number fields are other records and are not read, as for ``.pptx``.
Each paragraph (a ``\\r`` in a text atom) and each slide is apart from the next by a blank line;
the title, author and dates of the summary information are the document's metadata. Offsets
of a deck's records count in this text (``kgx.batch.read_document`` gives it back).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from kgx.batch.cfb import ENCRYPTED, CfbError, CompoundFile
from kgx.batch.office import OfficeError, _OfficeInput
from kgx.batch.worddoc import summary_meta

_DOCUMENT, _SLIDE, _SLIDE_LIST, _SLIDE_PERSIST = 0x03E8, 0x03EE, 0x0FF0, 0x03F3
_SLIDE_ATOM, _NOTES = 0x03EF, 0x03F0  # a slide's atom (its notes page's id at byte 16); notes
_SLIDES_LIST, _NOTES_LIST = 0, 2  # instances of the document's slide lists
_USER_EDIT, _PERSIST_DIRECTORY = 0x0FF5, 0x1772
_TEXT_CHARS, _TEXT_BYTES, _OUTLINE_REF, _TEXT_HEADER = 0x0FA0, 0x0FA8, 0x0F9E, 0x0F9F
_MAX_EDITS = 10_000  # a chain of edits longer than this loops


class PptError(OfficeError):
    """A file that is not a readable PowerPoint 97-2003 deck."""


def ppt_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the ``.ppt`` deck in ``data``, slide by slide, and its summary metadata."""
    try:
        cf = CompoundFile(data)
        stream = cf.stream("PowerPoint Document")
        user = cf.stream("Current User")
        summary = cf.stream("\x05SummaryInformation")
    except CfbError as e:
        raise PptError(str(e)) from None
    if stream is None or user is None:
        if cf.encrypted():
            raise PptError(ENCRYPTED)
        raise PptError("no PowerPoint Document stream inside: not a PowerPoint 97-2003 deck")
    try:
        slides = _slides(stream, user)
    except (struct.error, IndexError):
        raise PptError("its records are cut short or point outside the file (damaged?)") from None
    return "\n\n".join(s for s in slides if s.strip()), summary_meta(summary)


def _slides(stream: bytes, user: bytes) -> list[str]:
    token, edit = struct.unpack_from("<II", user, 12)
    if token == 0xF3D1C4DF:
        raise PptError("encrypted with a password: refused")
    persist: dict[int, int] = {}
    document = None
    for _ in range(_MAX_EDITS):  # the last edit first: its entries win
        kind, _, length = _header(stream, edit)
        if kind != _USER_EDIT:
            raise PptError("its current edit is not where the Current User stream says")
        last, directory, doc_ref = struct.unpack_from("<III", stream, edit + 16)
        document = document if document is not None else doc_ref
        _, _, size = _header(stream, directory)
        at, end = directory + 8, directory + 8 + size
        while at + 4 <= end:
            head = struct.unpack_from("<I", stream, at)[0]
            first, count = head & 0xFFFFF, head >> 20
            for k in range(count):
                persist.setdefault(first + k, struct.unpack_from("<I", stream, at + 4 + 4 * k)[0])
            at += 4 + 4 * count
        if last == 0:
            break
        edit = last
    else:
        raise PptError("its chain of edits loops")
    if document not in persist:
        raise PptError("its persist directory does not hold the document")
    slides: list[str] = []
    notes = {notes_id: (ref, texts) for ref, texts, notes_id
             in _slide_list(stream, persist[document], _NOTES_LIST)}
    for slide_ref, placeholders, _ in _slide_list(stream, persist[document], _SLIDES_LIST):
        at = persist.get(slide_ref)
        if at is None or _header(stream, at)[0] != _SLIDE:
            continue
        texts = list(_texts(stream, at, placeholders))
        atom = next((pos for kind, _, pos, size in _children(stream, at)
                     if kind == _SLIDE_ATOM and size >= 20), None)
        found = None if atom is None else notes.get(struct.unpack_from("<I", stream,
                                                                       atom + 8 + 16)[0])
        page = None if found is None else persist.get(found[0])
        if found is not None and page is not None and _header(stream, page)[0] == _NOTES:
            texts += _texts(stream, page, found[1])  # its speaker notes, after it
        slides.append("\n\n".join(t for t in texts if t.strip()))
    return slides


def _header(stream: bytes, at: int) -> tuple[int, int, int]:
    """``(type, instance, length)`` of the record at ``at``."""
    ver_instance, kind, length = struct.unpack_from("<HHI", stream, at)
    if at + 8 + length > len(stream):
        raise PptError("a record runs past the end of its stream (damaged?)")
    return kind, ver_instance >> 4, length


def _children(stream: bytes, at: int) -> Iterator[tuple[int, int, int, int]]:
    """``(type, instance, start, length)`` of each record inside the container at ``at``."""
    _, _, length = _header(stream, at)
    pos, end = at + 8, at + 8 + length
    while pos + 8 <= end:
        kind, instance, size = _header(stream, pos)
        yield kind, instance, pos, size
        pos += 8 + size


def _slide_list(stream: bytes, document: int, which: int
                ) -> Iterator[tuple[int, list[str], int]]:
    """``(persist id, its placeholder texts, its slide or notes id)`` in deck order, from the
    document's list ``which`` (instance 0: the slides; 2: their notes pages; 1: the masters)."""
    for kind, instance, at, _ in _children(stream, document):
        if kind != _SLIDE_LIST or instance != which:
            continue
        ref: tuple[int, int] | None = None
        texts: list[str] = []
        for child, _, pos, size in _children(stream, at):
            if child == _SLIDE_PERSIST:
                if ref is not None:
                    yield ref[0], texts, ref[1]
                ref, texts = struct.unpack_from("<I8xI", stream, pos + 8), []  # id, its slide id
            elif child in (_TEXT_CHARS, _TEXT_BYTES):
                texts.append(_atom(stream, child, pos, size))
        if ref is not None:
            yield ref[0], texts, ref[1]


def _texts(stream: bytes, at: int, placeholders: list[str]) -> Iterator[str]:
    """The text atoms under the record at ``at``, depth first, an outline reference replaced by
    the placeholder text it names."""
    todo = [at]
    seen = 0
    while todo:
        pos = todo.pop()
        seen += 1
        if seen > 1_000_000:
            raise PptError("its records nest past any real deck's (damaged?)")
        kind, _, size = _header(stream, pos)
        if kind in (_TEXT_CHARS, _TEXT_BYTES):
            yield _atom(stream, kind, pos, size)
        elif kind == _OUTLINE_REF:
            index = struct.unpack_from("<I", stream, pos + 8)[0]
            if index < len(placeholders):
                yield placeholders[index]
        elif struct.unpack_from("<H", stream, pos)[0] & 0xF == 0xF:  # a container
            todo.extend(reversed([p for _, _, p, _ in _children(stream, pos)]))


def _atom(stream: bytes, kind: int, at: int, size: int) -> str:
    raw = stream[at + 8:at + 8 + size]
    text = raw.decode("utf-16-le", "replace") if kind == _TEXT_CHARS else raw.decode("latin-1")
    # \r ends a paragraph, \v is a line break inside one
    return "\n\n".join(p for p in text.replace("\x0b", "\n").split("\r") if p.strip())


class PptInput(_OfficeInput):
    """A PowerPoint 97-2003 deck (``.ppt``): one document, its slides' text in deck order
    (``ppt_text``), its title, author and dates as metadata."""

    name = "ppt"
    suffixes = (".ppt", ".pps")  # not .pot: gettext's templates as often as PowerPoint's

    @staticmethod
    def read_text(data: bytes) -> tuple[str, dict[str, str]]:
        return ppt_text(data)
