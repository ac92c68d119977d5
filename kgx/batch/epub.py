"""E-books (``.epub``) as their text: the chapters in reading order, each read as a web page.

An EPUB is a zip: ``META-INF/container.xml`` names the package document (OPF), whose manifest
lists the book's files and whose spine gives the order a reader shows them in. ``epub_text``
reads each spine item that is a page (XHTML, HTML) as ``kgx.batch.html`` reads an ``.html``
file (the text a browser shows, each block a paragraph; not its ``<title>``, which a reader
does not show) and joins the chapters by a blank line,
so that ``kgx_layout_boundaries`` starts a sentence at each. Items a reader shows only when
linked (``linear="no"``: covers, notes) and other media are left out. The package's Dublin Core
title, creator, date and language are the document's metadata. The parts together may unpack
to at most the document limit (``kgx.batch.limits``). The offsets of a book's records count in
this text (``kgx.batch.read_document`` gives it back).
"""

from __future__ import annotations

import posixpath
import zipfile
from urllib.parse import unquote

from kgx.batch.html import HtmlInput, html_document
from kgx.batch.office import OfficeError, _OfficeInput, budgeted_parts, open_zip, parse_part

_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_META = {"title": "title", "creator": "author", "date": "created", "language": "language"}
_PAGES = {"application/xhtml+xml", "text/html"}


class EpubError(OfficeError):
    """A file that is not a readable EPUB book."""


def epub_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the EPUB file in ``data`` (its chapters in spine order) and its metadata."""
    with open_zip(data, lambda: "not a zip file, so not an EPUB", EpubError) as archive:
        return _book(archive)


def _book(archive: zipfile.ZipFile) -> tuple[str, dict[str, str]]:
    part = budgeted_parts(archive)
    container = part("META-INF/container.xml")
    if container is None:
        raise EpubError("no META-INF/container.xml inside: not an EPUB")
    root = parse_part(container, "META-INF/container.xml").find(
        f"{_CONTAINER}rootfiles/{_CONTAINER}rootfile")
    opf_name = root.get("full-path") if root is not None else None
    opf = part(opf_name) if opf_name else None
    if opf_name is None or opf is None:
        raise EpubError(f"its container names no package document ({opf_name or 'none'})")
    package = parse_part(opf, opf_name)
    base = posixpath.dirname(opf_name)
    manifest = {item.get("id"): item for item in package.iter(f"{_OPF}item")}
    chapters = []
    for ref in package.iter(f"{_OPF}itemref"):
        item = manifest.get(ref.get("idref"))
        if item is None:
            raise EpubError(f"its spine names {ref.get('idref')!r}, which its manifest lacks")
        if ref.get("linear") == "no" or item.get("media-type") not in _PAGES:
            continue
        name = posixpath.normpath(posixpath.join(base, unquote(item.get("href") or "")))
        page = part(name)
        if page is None:
            raise EpubError(f"its spine names {name}, which is not inside")
        markup, problem = HtmlInput.decode(page, name)
        if markup is None:
            raise EpubError(problem or f"{name} cannot be decoded")
        text = html_document(markup, title_text=False)[0]
        if text.strip():
            chapters.append(text)
    meta: dict[str, str] = {}
    for element in package.iter():
        key = _META.get(element.tag[len(_DC):]) if element.tag.startswith(_DC) else None
        if key and key not in meta and (element.text or "").strip():
            meta[key] = element.text.strip()  # type: ignore[union-attr]
    return "\n\n".join(chapters), meta


class EpubInput(_OfficeInput):
    """An e-book (``.epub``): one document, its chapters' text in reading order
    (``epub_text``), its title, author, date and language as metadata."""

    name = "epub"
    suffixes = (".epub",)

    @staticmethod
    def read_text(data: bytes) -> tuple[str, dict[str, str]]:
        return epub_text(data)
