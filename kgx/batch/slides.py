"""Slide decks (PowerPoint's ``.pptx``) as their text: each slide's text boxes and tables, slide
by slide, in the deck's order.

A ``.pptx`` is a zip of XML parts: ``ppt/presentation.xml`` lists the slides in order (through
``ppt/_rels/presentation.xml.rels``), and each slide's shapes hold paragraphs of runs
(``a:p``/``a:r``/``a:t``), tables' cells too. ``pptx_text`` reads each paragraph's runs joined
as they are (``a:br`` a line break), each paragraph apart from the next by a blank line, so
that ``kgx_layout_boundaries`` starts a sentence there, and the slides apart by a blank line.
The footer, date and slide-number placeholders that repeat on every slide are furniture, not
text, and are left out; comments (other parts) too. A slide's speaker notes (its notes page)
follow its text, each paragraph one of its own. The title, author and
dates of ``docProps/core.xml`` are the document's metadata. The parts together may unpack to at
most the document limit. Offsets count in this text (``kgx.batch.read_document`` gives it).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable
from xml.etree import ElementTree

from kgx.batch.office import (
    OfficeError,
    _OfficeInput,
    budgeted_parts,
    core_meta,
    not_a_zip,
    one_alternative,
    open_zip,
    parse_part,
)

_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
#: placeholders repeated on every slide, and a notes page's picture of its slide
_FURNITURE = {"ftr", "dt", "sldNum", "hdr", "sldImg"}


def pptx_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the ``.pptx`` file in ``data`` and its core properties."""
    with open_zip(data, lambda: not_a_zip(data, ".pptx", "PowerPoint Document",
                                          ".ppt")) as archive:
        return _deck(archive)


def _deck(archive: zipfile.ZipFile) -> tuple[str, dict[str, str]]:
    part = budgeted_parts(archive)
    presentation = part("ppt/presentation.xml")
    rels = part("ppt/_rels/presentation.xml.rels")
    if presentation is None or rels is None:
        raise OfficeError("no ppt/presentation.xml (or its relationships) inside: not a "
                          "PowerPoint deck")
    targets = {rel.get("Id"): rel.get("Target") or "" for rel in
               parse_part(rels, "ppt/_rels/presentation.xml.rels").iter(f"{_RELS}Relationship")}
    slides = []
    for ref in parse_part(presentation, "ppt/presentation.xml").iter(f"{_P}sldId"):
        target = targets.get(ref.get(f"{_R}id"))
        if not target:
            raise OfficeError(f"its slide list names {ref.get(f'{_R}id')!r}, which its "
                              "relationships lack")
        name = posixpath.normpath(target.lstrip("/") if target.startswith("/") else
                                  posixpath.join("ppt", target))
        slide = part(name)
        if slide is None:
            raise OfficeError(f"its slide list names {name}, which is not inside")
        paragraphs = _paragraphs(parse_part(slide, name))
        notes = _notes_part(part, name)
        if notes is not None:  # the speaker notes, after the slide they are for
            paragraphs += _paragraphs(parse_part(notes[1], notes[0]))
        if paragraphs:
            slides.append("\n\n".join(paragraphs))
    return "\n\n".join(slides), core_meta(part("docProps/core.xml"))


def _paragraphs(root: ElementTree.Element) -> list[str]:
    """The paragraphs of a slide's (or notes page's) shapes and tables, furniture aside; of
    content given in two forms, the first (``office.one_alternative``)."""
    paragraphs = []
    for shape in one_alternative(root).iter():
        if shape.tag not in (f"{_P}sp", f"{_P}graphicFrame"):
            continue
        placeholder = shape.find(f"./{_P}nvSpPr/{_P}nvPr/{_P}ph")
        if placeholder is not None and placeholder.get("type") in _FURNITURE:
            continue
        for paragraph in shape.iter(f"{_A}p"):
            text = "".join("\n" if run.tag == f"{_A}br" else run.findtext(f"{_A}t") or ""
                           for run in paragraph if run.tag in (f"{_A}r", f"{_A}fld", f"{_A}br"))
            if text.strip():
                paragraphs.append(text)
    return paragraphs


def _notes_part(part: Callable[[str], bytes | None], slide: str) -> tuple[str, bytes] | None:
    """``(name, XML)`` of a slide's notes page (its relationship of the notesSlide type)."""
    folder, base = posixpath.split(slide)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    rels = part(rels_name)
    for rel in [] if rels is None else parse_part(rels, rels_name).iter(f"{_RELS}Relationship"):
        target = rel.get("Target") or ""
        if (rel.get("Type") or "").endswith("/notesSlide") and target:
            name = posixpath.normpath(target.lstrip("/") if target.startswith("/") else
                                      posixpath.join(folder, target))
            xml = part(name)
            return None if xml is None else (name, xml)
    return None


class PptxInput(_OfficeInput):
    """A PowerPoint deck (``.pptx``): one document, its slides' text in order (``pptx_text``),
    its title, author and dates as metadata."""

    name = "pptx"
    suffixes = (".pptx", ".pptm", ".ppsx", ".ppsm", ".potx", ".potm")  # shows, templates

    @staticmethod
    def read_text(data: bytes) -> tuple[str, dict[str, str]]:
        return pptx_text(data)
