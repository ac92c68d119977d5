"""A Word document (``.docx``) as its text: the paragraphs as Word shows them.

A ``.docx`` file is a zip of XML parts; its text sits in ``word/document.xml``, cut into runs
wherever the formatting, a spell check or an edit changed (a name is often "Glo" + "bex" in two
runs), with tracked deletions still inside it. Read as bytes it is binary, an error entry
(issue 19: documents as users have them). ``docx_text`` reads it with the standard library:
each paragraph's runs joined as they are (no space added between them), tabs and line breaks
kept, tracked deletions and field instructions left out, tracked insertions kept, each
paragraph (a table cell's too) apart from the next by a blank line, so that
``kgx_layout_boundaries`` starts a sentence there. The title, author and dates of
``docProps/core.xml`` are the document's metadata. Headers, footers, footnotes and comments
are other parts and are not read. The offsets of a document's records count in this text
(``kgx.batch.read_document`` gives it back).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any
from xml.etree import ElementTree

from kgx.batch.inputs import TextInput

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CORE = {"{http://purl.org/dc/elements/1.1/}title": "title",
         "{http://purl.org/dc/elements/1.1/}creator": "author",
         "{http://purl.org/dc/terms/}created": "created",
         "{http://purl.org/dc/terms/}modified": "modified"}
# what a run's children stand for; others (deleted text, field codes, drawings) are no text
_CHARS = {f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
# subtrees that are not the document's text as shown
_SKIPPED = {f"{_W}del", f"{_W}instrText", f"{_W}delText", f"{_W}moveFrom"}
#: the largest ``word/document.xml`` read (uncompressed): a zip bomb is refused, not unpacked
MAX_XML_BYTES = 256 * 1024 * 1024


class DocxError(ValueError):
    """A file that is not a readable Word document."""


def docx_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the ``.docx`` file in ``data`` and its core properties."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            document = _part(archive, "word/document.xml")
            core = _part(archive, "docProps/core.xml")
    except zipfile.BadZipFile:
        raise DocxError("not a zip file, so not a .docx (an old binary .doc, or an encrypted "
                        "one?)") from None
    if document is None:
        raise DocxError("no word/document.xml inside: not a Word document")
    paragraphs: list[str] = []
    body = _parse(document, "word/document.xml").find(f"{_W}body")
    if body is not None:
        _walk(body, [], paragraphs)
    meta = {}
    if core is not None:
        for element in _parse(core, "docProps/core.xml"):
            if element.tag in _CORE and (element.text or "").strip():
                meta[_CORE[element.tag]] = element.text.strip()  # type: ignore[union-attr]
    return "\n\n".join(paragraphs), meta


def _part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    """The part ``name`` unpacked (None when the archive has none)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_XML_BYTES:
        raise DocxError(f"{name} unpacks to {info.file_size} bytes, over the limit of "
                        f"{MAX_XML_BYTES}")
    return archive.read(info)


def _parse(xml: bytes, name: str) -> ElementTree.Element:
    if b"<!ENTITY" in xml:  # OOXML has no DTDs; entity declarations are an attack
        raise DocxError(f"{name} declares XML entities: refused")
    try:
        return ElementTree.fromstring(xml)
    except ElementTree.ParseError as e:
        raise DocxError(f"{name} is not well-formed XML ({e})") from None


def _walk(element: ElementTree.Element, open_paragraphs: list[list[str]],
          paragraphs: list[str]) -> None:
    """Collect the text under ``element``: each ``w:p`` a paragraph (one inside another, a
    text box's, its own)."""
    for child in element:
        tag = child.tag
        if tag in _SKIPPED:
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


class DocxInput(TextInput):
    """A Word document (``.docx``): one document, its paragraphs' text (``docx_text``), its
    title, author and dates as metadata."""

    name = "docx"
    suffixes = (".docx",)

    @classmethod
    def document(cls, data: bytes, where: str
                 ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        try:
            text, meta = docx_text(data)
        except DocxError as e:
            return None, None, f"{where}: {e}"
        return text, meta or None, None
