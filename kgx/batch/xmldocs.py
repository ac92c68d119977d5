"""XML files of documents: PubMed's article sets, RSS and Atom feeds (``.xml``, ``.rss``,
``.atom``); an XML Spreadsheet 2003 saved as ``.xml`` is read as a table.

PubMed's baseline and update files (``pubmed25n0001.xml.gz``, some 30,000 citations each) are
how biomedical abstracts come (ADE's sentences are theirs); news and blogs come as feeds. Each
``<PubmedArticle>``, RSS ``<item>`` or Atom ``<entry>`` is a document, read as the file streams
past and let go once read, so a file of any size is never a tree in memory:

* **PubMed**: the id is the PMID; the text the title, then each abstract section a paragraph
  (a labelled one as PubMed shows it, ``BACKGROUND: ...``); the journal, year, DOI and language
  are metadata.
* **RSS and Atom**: the id is the ``guid``/``id``, else the link, else ``<file>[<n>]``; the text
  the title, then the content (else the description or summary), its HTML read as an ``.html``
  file's; the link, date and author are metadata.

An element's location is ``<file>[<n>]``, counted from 0, with its line in messages. Another
root element is an error entry naming it. XML that is not well formed ends the file there, the
documents before kept. Entity declarations are refused (the "billion laughs"), external DTDs
are never fetched, and a document over the document limit is an error entry.
"""

from __future__ import annotations

import xml.parsers.expat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

from kgx.batch import limits
from kgx.batch.html import html_text
from kgx.batch.inputs import Entry, InputFormat, open_input, open_many, record_entry, sha256

_CHUNK = 1 << 20
#: root element → the element each document is
RECORDS = {"PubmedArticleSet": "PubmedArticle", "rss": "item", "RDF": "item", "feed": "entry"}


class XmlError(ValueError):
    """XML that is not well formed, or not of documents kgx reads."""


class _Workbook(Exception):
    """The file is an XML Spreadsheet 2003 (Excel's "XML Spreadsheet" saved as ``.xml``)."""


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1]  # expat gives "namespace local" (namespace_separator=" ")


def records(fh: Any) -> Iterator[tuple[str, int, Element | None]]:
    """``(root, line, record)`` for each record element of the XML in ``fh`` as the parse
    reaches its end (``None`` in place of one over the document limit); XmlError for XML that
    is not well formed, that declares entities or whose root holds no documents kgx reads."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    found: list[tuple[str, int, Element | None]] = []
    state: dict[str, Any] = {"root": None, "builder": None, "size": 0}

    def refuse(*_: Any) -> None:
        raise XmlError("it declares XML entities: refused")

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if state["root"] is None:
            state["root"] = tag
            if tag == "Workbook":
                raise _Workbook
            if tag not in RECORDS:
                raise XmlError(f"an XML file of <{tag}>: kgx reads PubMed's PubmedArticleSet, "
                               "RSS and Atom feeds (other XML: convert it to JSONL)")
        builder = state["builder"]
        if builder is None and tag == RECORDS[state["root"]]:
            builder = state["builder"] = TreeBuilder()
            state["line"], state["size"], state["at"] = parser.CurrentLineNumber, 0, 0
        if builder is not None:
            state["at"] += 1
            builder.start(tag, {_local(k): v for k, v in attrs.items()})

    def end(name: str) -> None:
        builder = state["builder"]
        if builder is None:
            return
        builder.end(_local(name))
        state["at"] -= 1
        if state["at"] == 0:
            element = builder.close()
            big = state["size"] > limits.document_bytes()
            found.append((state["root"], state["line"], None if big else element))
            state["builder"] = None

    def text(data: str) -> None:
        builder = state["builder"]
        if builder is not None:
            state["size"] += len(data)
            if state["size"] <= limits.document_bytes():
                builder.data(data)

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler, parser.EntityDeclHandler = text, refuse
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    while True:
        chunk = fh.read(_CHUNK)
        try:
            parser.Parse(chunk, not chunk)
        except xml.parsers.expat.ExpatError as e:
            reason = xml.parsers.expat.errors.messages[e.code]
            raise XmlError(f"line {e.lineno}: not well-formed XML ({reason})") from None
        yield from found
        found.clear()
        if not chunk:
            return


def _text(element: Element | None) -> str:
    """An element's text, markup inside it (``<i>``, ``<sup>``) read as text, spaces
    collapsed."""
    return "" if element is None else " ".join("".join(element.itertext()).split())


def pubmed_document(article: Element) -> tuple[str, str, dict[str, str]]:
    """``(pmid, text, metadata)`` of a ``<PubmedArticle>`` (module docstring)."""
    citation = article.find("MedlineCitation")
    body = citation.find("Article") if citation is not None else None
    pmid = _text(citation.find("PMID")) if citation is not None else ""
    parts = [_text(body.find("ArticleTitle"))] if body is not None else []
    for section in body.iterfind("Abstract/AbstractText") if body is not None else []:
        label, said = section.get("Label"), _text(section)
        parts.append(f"{label}: {said}" if label and said else said)
    meta: dict[str, str] = {}
    if body is not None:
        journal = body.find("Journal")
        if journal is not None:
            meta["journal"] = _text(journal.find("Title"))
            date = journal.find("JournalIssue/PubDate")
            if date is not None:
                year = _text(date.find("Year")) or _text(date.find("MedlineDate"))[:4]
                meta["year"] = year
        meta["language"] = _text(body.find("Language"))
    for identifier in article.iterfind("PubmedData/ArticleIdList/ArticleId"):
        if identifier.get("IdType") == "doi":
            meta["doi"] = _text(identifier)
    return pmid, "\n\n".join(p for p in parts if p), {k: v for k, v in meta.items() if v}


def _markup(element: Element | None) -> str:
    """A feed's HTML content as text: escaped HTML (RSS, Atom ``type="html"``), or XHTML
    inline (Atom ``type="xhtml"``, its text taken as it stands)."""
    if element is None:
        return ""
    if element.get("type") == "xhtml":
        return _text(element)
    return html_text(element.text or "")


def feed_document(entry: Element) -> tuple[str, str, dict[str, str]]:
    """``(id, text, metadata)`` of an RSS ``<item>`` or an Atom ``<entry>``."""
    links = [(link.get("rel") or "alternate", link.get("href") or _text(link))
             for link in entry.iterfind("link")]
    link = next((href for rel, href in links if rel == "alternate" and href), "")
    doc_id = _text(entry.find("guid")) or _text(entry.find("id")) or link
    content = next((c for c in (entry.find("encoded"), entry.find("content"),
                                entry.find("description"), entry.find("summary"))
                    if c is not None and "".join(c.itertext()).strip()), None)
    title = entry.find("title")
    parts = [_markup(title) if title is not None and title.get("type") else _text(title),
             _markup(content)]
    author = entry.find("author")
    meta = {"link": link,
            "date": next((_text(entry.find(n)) for n in ("pubDate", "published", "updated",
                                                          "date") if entry.find(n) is not None),
                         ""),
            "author": (_text(author.find("name")) if author is not None
                       and author.find("name") is not None else _text(author))
            or _text(entry.find("creator"))}
    return doc_id, "\n\n".join(p for p in parts if p), {k: v for k, v in meta.items() if v}


class XmlInput(InputFormat):
    """An XML file of documents (module docstring)."""

    name = "xml"
    suffixes = (".xml", ".rss", ".atom")

    @classmethod
    def read(cls, path: Path, root: Path | None, *, id_field: str = "id",
             text_field: str = "text", encoding: str | None = None) -> Iterator[Entry]:
        del encoding  # XML declares its own
        where, rel, fh = open_many(path, root)
        if isinstance(fh, Entry):
            yield fh
            return
        n, workbook = -1, False
        with fh:
            try:
                for n, (kind, line, element) in enumerate(records(fh)):
                    loc, at = f"{rel}[{n}]", f"{where}[{n}] (line {line})"
                    if element is None:
                        yield Entry(loc, where, line, sha256(b""), status="error", loc=loc,
                                    error=f"{at}: {limits.over_limit('it holds')}")
                        continue
                    reader = pubmed_document if kind == "PubmedArticleSet" else feed_document
                    try:
                        doc_id, text, meta = reader(element)
                    except Exception as e:  # an odd element costs itself, not the file
                        yield Entry(loc, where, line, sha256(b""), status="error", loc=loc,
                                    error=f"{at}: cannot read it: {e!r}")
                        continue
                    yield record_entry(doc_id or loc, where, line, text, meta, loc)
            except _Workbook:
                workbook = True
            except (XmlError, OSError, EOFError, zlib.error) as e:
                kept = f"; the {n + 1} documents before were kept" if n >= 0 else ""
                yield Entry(f"{rel}[{n + 1}]" if n >= 0 else rel, where, None, sha256(b""),
                            status="error", error=f"{where}: {e}{kept}")
        if workbook:  # read as Excel reads it: one document a row, as a .xls export is
            from kgx.batch.xls import XlsInput

            yield from XlsInput.read(path, root, id_field=id_field, text_field=text_field)

    @classmethod
    def count(cls, path: Path) -> int | None:
        try:
            with open_input(path) as fh:
                return sum(1 for _ in records(fh))
        except (_Workbook, XmlError, OSError, EOFError, zlib.error):
            return None
