"""Office documents (Word's ``.docx``, OpenDocument's ``.odt``) as their text: the paragraphs as
the word processor shows them.

Both are zips of XML parts. A ``.docx`` keeps its text in ``word/document.xml``, cut into runs
wherever the formatting, a spell check or an edit changed (a name is often "Glo" + "bex" in two
runs), with tracked deletions still inside it; an ``.odt`` (LibreOffice, Google Docs' export) in
``content.xml``, in spans, with runs of spaces written as ``<text:s text:c="3"/>``, and its
footnotes and tracked deletions inline. Read as bytes either is binary, an error entry (issue
19: documents as users have them). ``docx_text`` and ``odt_text`` read them with the standard
library: each paragraph's runs joined as they are (no space added between them), tabs, spaces
and line breaks kept, tracked deletions, hidden text (Word's ``w:vanish``, an ODF span style's
``text:display="none"``), field instructions and comments left out, tracked insertions kept,
each paragraph or heading (a table cell's too) apart from the next by a blank line, so that
``kgx_layout_boundaries`` starts a sentence there. Footnotes and then endnotes follow the body,
each of their paragraphs one of its own (inline, a note would cut the sentence it marks); an
``.odp`` slide's speaker notes follow its text. The title, author and dates of
``docProps/core.xml`` or ``meta.xml`` are the document's metadata. Headers and footers are other
parts and are not read. The offsets of a document's records count in this text
(``kgx.batch.read_document`` gives it back).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from kgx.batch import limits
from kgx.batch.cfb import ENCRYPTED, CfbError, CompoundFile, is_compound
from kgx.batch.inputs import TextInput

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_CORE = {"{http://purl.org/dc/elements/1.1/}title": "title",
         "{http://purl.org/dc/elements/1.1/}creator": "author",
         "{http://purl.org/dc/terms/}created": "created",
         "{http://purl.org/dc/terms/}modified": "modified"}
# what a run's children stand for; others (deleted text, field codes, drawings) are no text
_CHARS = {f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
# subtrees that are not the document's text as shown
_SKIPPED = {f"{_W}del", f"{_W}instrText", f"{_W}delText", f"{_W}moveFrom"}


class OfficeError(ValueError):
    """A file that is not a readable office document."""


def docx_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the ``.docx`` file in ``data`` and its core properties."""
    with open_zip(data, lambda: not_a_zip(data, ".docx", "WordDocument", ".doc")) as archive:
        document = read_part(archive, "word/document.xml")
        core = read_part(archive, "docProps/core.xml")
        notes = [(name, read_part(archive, f"word/{name}s.xml"))
                 for name in ("footnote", "endnote")]
    if document is None:
        raise OfficeError("no word/document.xml inside: not a Word document")
    paragraphs: list[str] = []
    body = one_alternative(parse_part(document, "word/document.xml")).find(f"{_W}body")
    if body is not None:
        _walk(body, [], paragraphs)
    for name, xml in notes:  # footnotes, then endnotes: after the body (module docstring)
        for note in [] if xml is None else one_alternative(parse_part(xml,
                                                                      f"word/{name}s.xml")):
            if note.tag == f"{_W}{name}" and note.get(f"{_W}type", "normal") == "normal":
                found: list[str] = []
                _walk(note, [], found)
                paragraphs += [p.strip() for p in found if p.strip()]
    return "\n\n".join(paragraphs), core_meta(core)


def one_alternative(root: ElementTree.Element) -> ElementTree.Element:
    """``root`` with one form of each content an OOXML part gives in two
    (``mc:AlternateContent``: a text box's DrawingML and its VML fallback, a shape and its
    fallback): the first, or its text would be read twice."""
    for both in list(root.iter(f"{_MC}AlternateContent")):
        for later in list(both)[1:]:
            both.remove(later)
    return root


def not_a_zip(data: bytes, suffix: str, legacy_stream: str, legacy_suffix: str) -> str:
    """Why ``data`` is no ``suffix`` file: an OOXML file is a zip, and an OLE compound file in
    its place is either password-protected (Office encrypts a whole file into one) or the
    format's binary predecessor (its main stream ``legacy_stream``) under the new name."""
    if is_compound(data):
        try:
            cf = CompoundFile(data)
            if cf.encrypted():
                return ENCRYPTED
            if cf.stream(legacy_stream) is not None:
                return (f"a binary {legacy_suffix} file under a {suffix} name: rename it "
                        f"{legacy_suffix}")
        except CfbError:
            pass
    return f"not a zip file, so not a {suffix}"


def core_meta(core: bytes | None) -> dict[str, str]:
    """The title, author and dates of an OOXML file's ``docProps/core.xml`` (Word's,
    PowerPoint's)."""
    meta = {}
    if core is not None:
        for element in parse_part(core, "docProps/core.xml"):
            if element.tag in _CORE and (element.text or "").strip():
                meta[_CORE[element.tag]] = element.text.strip()  # type: ignore[union-attr]
    return meta


def open_zip(data: bytes, not_zip: Callable[[], str],
             error: type[OfficeError] = OfficeError) -> zipfile.ZipFile:
    """The zip in ``data``, or ``error``: not a zip (``not_zip()`` says what it is), or a zip
    whose directory is damaged (a name that is not UTF-8, an offset before the file's start)
    or of a kind Python does not read (a newer zip version)."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise error(not_zip()) from None
    except (NotImplementedError, ValueError, EOFError) as e:  # UnicodeDecodeError among them
        raise error(f"its zip directory is damaged or of a kind not read ({e})") from None


def read_part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    """The part ``name`` unpacked (None when the archive has none)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limits.document_bytes():  # a zip bomb is refused, not unpacked
        raise OfficeError(limits.over_limit(f"{name} holds"))
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
            ValueError) as e:
        # a damaged entry (CRC, truncated data, a name not UTF-8 in its header, an offset
        # before the start), an encrypted one, an unknown compression
        raise OfficeError(f"{name} cannot be unpacked ({e})") from None


def budgeted_parts(archive: zipfile.ZipFile) -> Callable[[str], bytes | None]:
    """``read_part`` for a format of many parts (an e-book's chapters, a deck's slides): the
    parts read through it together hold at most the document limit."""
    left = limits.document_bytes()

    def part(name: str) -> bytes | None:
        nonlocal left
        with limits.at_most(left):
            data = read_part(archive, name)
        left -= len(data or b"")
        return data

    return part


def parse_part(xml: bytes, name: str) -> ElementTree.Element:
    if b"<!ENTITY" in xml:  # OOXML has no DTDs; entity declarations are an attack
        raise OfficeError(f"{name} declares XML entities: refused")
    try:
        return ElementTree.fromstring(xml)
    except ElementTree.ParseError as e:
        raise OfficeError(f"{name} is not well-formed XML ({e})") from None


def _walk(element: ElementTree.Element, open_paragraphs: list[list[str]],
          paragraphs: list[str]) -> None:
    """Collect the text under ``element``: each ``w:p`` a paragraph (one inside another, a
    text box's, its own)."""
    for child in element:
        tag = child.tag
        if tag in _SKIPPED or (tag == f"{_W}r" and _hidden(child)):
            continue
        if tag == f"{_W}p":
            open_paragraphs.append([])
            _walk(child, open_paragraphs, paragraphs)
            text = "".join(open_paragraphs.pop())
            if text.strip():
                paragraphs.append(text)
        elif tag == f"{_W}t":
            if open_paragraphs:
                open_paragraphs[-1].append(child.text or "")
        elif tag in _CHARS:
            if open_paragraphs:
                open_paragraphs[-1].append(_CHARS[tag])
        else:
            _walk(child, open_paragraphs, paragraphs)


def _hidden(run: ElementTree.Element) -> bool:
    """Whether a run is hidden text (``w:vanish``), which Word does not show."""
    vanish = run.find(f"{_W}rPr/{_W}vanish")
    return vanish is not None and vanish.get(f"{_W}val", "true") not in ("0", "false", "off")


class _OfficeInput(TextInput):
    """A zip of XML parts holding one document: its text and metadata, or an error entry."""

    @staticmethod
    def read_text(data: bytes) -> tuple[str, dict[str, str]]:
        raise NotImplementedError  # each format's reader

    @classmethod
    def document(cls, data: bytes, where: str, *, encoding: str | None = None
                 ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        try:
            text, meta = cls.read_text(data)
        except OfficeError as e:
            return None, None, f"{where}: {e}"
        return text, meta or None, None


class DocxInput(_OfficeInput):
    """A Word document (``.docx``): one document, its paragraphs' text (``docx_text``), its
    title, author and dates as metadata."""

    name = "docx"
    suffixes = (".docx", ".docm", ".dotx", ".dotm")  # and macro-enabled, templates

    @staticmethod
    def read_text(data: bytes) -> tuple[str, dict[str, str]]:
        return docx_text(data)


_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_META = {"{http://purl.org/dc/elements/1.1/}title": "title",
         "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}initial-creator": "author",
         "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}creation-date": "created",
         "{http://purl.org/dc/elements/1.1/}date": "modified"}
_ODT_PARAGRAPHS = {f"{_TEXT}p", f"{_TEXT}h"}
_ODT_CHARS = {f"{_TEXT}tab": "\t", f"{_TEXT}line-break": "\n"}
# footnotes and endnotes (their text would land inside the sentence: read after the body),
# tracked deletions and comments are not the text as shown
_PRESENTATION = "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_ODT_SKIPPED = {f"{_TEXT}note", f"{_TEXT}tracked-changes", f"{_OFFICE}annotation",
                f"{_TEXT}hidden-text"}
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"


def odt_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the ``.odt`` file in ``data`` and its metadata."""
    return _odf_text(data, ".odt")


def odp_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the ``.odp`` presentation in ``data`` (its slides' text boxes in order, each
    slide's speaker notes after it) and its metadata."""
    return _odf_text(data, ".odp")


def odf_content(data: bytes, suffix: str) -> tuple[bytes, bytes | None]:
    """``(content XML, meta XML)`` of an OpenDocument file: the zip's ``content.xml`` and
    ``meta.xml``, or a flat file's one XML document (``.fodt``, ``.fods``, ``.fodp``, as
    LibreOffice saves them), both."""
    if data.lstrip()[:1] == b"<":
        return data, data
    with open_zip(data, lambda: f"not a zip file, so not an {suffix}") as archive:
        content = read_part(archive, "content.xml")
        meta_xml = read_part(archive, "meta.xml")
    if content is None:
        raise OfficeError("no content.xml inside: not an OpenDocument file")
    return content, meta_xml


def _odf_text(data: bytes, suffix: str) -> tuple[str, dict[str, str]]:
    content, meta_xml = odf_content(data, suffix)
    paragraphs: list[str] = []
    document = parse_part(content, "content.xml")
    root = document.find(f"{_OFFICE}body")  # not a flat file's styles (headers, footers)
    root = document if root is None else root
    hidden = {style.get(f"{_STYLE}name") for style in document.iter(f"{_STYLE}style")
              if any(p.get(f"{_TEXT}display") == "none"
                     for p in style.iter(f"{_STYLE}text-properties"))}
    for page in root.iter(f"{_DRAW}page"):  # a slide's speaker notes: after its text
        for speaker in page.findall(f"{_PRESENTATION}notes"):
            page.remove(speaker)
            page.extend(list(speaker))
    _walk_odt(root, [], paragraphs, hidden)
    notes = list(root.iter(f"{_TEXT}note"))  # after the body: footnotes, then endnotes
    for note in sorted(notes, key=lambda n: n.get(f"{_TEXT}note-class") == "endnote"):
        found: list[str] = []
        for body in note.iter(f"{_TEXT}note-body"):
            _walk_odt(body, [], found, hidden)
        paragraphs += [p.strip() for p in found if p.strip()]
    meta = {}
    if meta_xml is not None:
        for element in (document if meta_xml is content else parse_part(meta_xml,
                                                                          "meta.xml")).iter():
            if element.tag in _META and (element.text or "").strip():
                meta[_META[element.tag]] = element.text.strip()  # type: ignore[union-attr]
    return "\n\n".join(paragraphs), meta


def _walk_odt(element: ElementTree.Element, open_paragraphs: list[list[str]],
              paragraphs: list[str], hidden: set[str | None]) -> None:
    """``_walk`` for OpenDocument: text is the elements' text and tails; a span in a hidden
    style (``text:display="none"``, LibreOffice's hidden text) is not."""
    for child in element:
        tag = child.tag
        if tag in _ODT_SKIPPED or (tag == f"{_TEXT}span"
                                   and child.get(f"{_TEXT}style-name") in hidden):
            pass
        elif tag in _ODT_PARAGRAPHS:
            open_paragraphs.append([child.text or ""])
            _walk_odt(child, open_paragraphs, paragraphs, hidden)
            text = "".join(open_paragraphs.pop())
            if text.strip():
                paragraphs.append(text)
        elif open_paragraphs and tag == f"{_TEXT}s":
            open_paragraphs[-1].append(" " * int(child.get(f"{_TEXT}c", "1") or 1))
        elif open_paragraphs and tag in _ODT_CHARS:
            open_paragraphs[-1].append(_ODT_CHARS[tag])
        else:
            if open_paragraphs:
                open_paragraphs[-1].append(child.text or "")
            _walk_odt(child, open_paragraphs, paragraphs, hidden)
        if open_paragraphs and child.tail:
            open_paragraphs[-1].append(child.tail)


class OdtInput(_OfficeInput):
    """An OpenDocument text (``.odt``): one document, its paragraphs' text (``odt_text``), its
    title, author and dates as metadata."""

    name = "odt"
    suffixes = (".odt", ".ott", ".fodt")

    @staticmethod
    def read_text(data: bytes) -> tuple[str, dict[str, str]]:
        return odt_text(data)


class OdpInput(_OfficeInput):
    """An OpenDocument presentation (``.odp``, LibreOffice Impress's): one document, its
    slides' text in order (``odp_text``), its title, author and dates as metadata."""

    name = "odp"
    suffixes = (".odp", ".otp", ".fodp")

    @staticmethod
    def read_text(data: bytes) -> tuple[str, dict[str, str]]:
        return odp_text(data)
