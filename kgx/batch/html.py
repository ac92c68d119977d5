"""An HTML page's text as a reader sees it: the words, with its blocks as paragraphs.

Saved web pages and HTML exports put tags between the words (``works for <a
href="...">Globex</a>``), entity references inside them (``AT&amp;T``, ``Chen&#8217;s``), and
scripts, styles and navigation around them; fed to the pipeline as text, the tags become
tokens and the names are missed (issue 19: documents as users have them). ``html_text`` keeps
what a browser shows as text: character references decoded, whitespace collapsed as HTML
collapses it (kept in ``<pre>``), a non-breaking space as a space, soft hyphens and zero-width
spaces dropped, ``<br>`` a line break, and every block element (paragraph, heading, list item,
table cell) a paragraph of its own, a blank line between blocks, so that
``kgx_layout_boundaries`` starts a sentence there as it does in plain text. Script, style,
template and other content that is not text is dropped; the ``<title>`` is the first paragraph.

Unlike Markdown (``kgx.batch.markdown``, blanked in place), the text changes length: the
offsets of an HTML document's records count in this text, which ``kgx.batch.read_document``
gives back. A page is UTF-8, or else in the charset its ``<meta>`` declares (older pages:
windows-1252, Shift_JIS); ``declared_charset`` reads that declaration. Python's
``html.parser`` reads broken markup without raising, as browsers do.
"""

from __future__ import annotations

import email
import email.policy
import re
from html.parser import HTMLParser
from typing import Any

from kgx.batch.encodings import not_decoded, utf8_else
from kgx.batch.inputs import TextInput

# elements whose content is not text for a reader
_HIDDEN = frozenset({"script", "style", "template", "noscript", "svg", "math", "iframe",
                     "object", "select", "textarea"})
# elements that start and end a block (a paragraph of their own)
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav",
    "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
    "title", "tr", "ul",
})
# <meta charset="X"> or <meta http-equiv="Content-Type" content="text/html; charset=X">, in the
# first 1024 bytes, where HTML's encoding prescan looks
_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.+-]+)", re.IGNORECASE)
# labels that mean windows-1252 to browsers (the WHATWG Encoding standard's list)
_WINDOWS_1252 = frozenset({
    "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1",
    "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1",
    "us-ascii", "windows-1252", "x-cp1252"})
# soft hyphens (&shy;) and zero-width spaces (&#8203;): break opportunities a browser shows
# as nothing; kept, they would sit inside the words ("Glo\u00adbex")
_INVISIBLE = {0x00AD: None, 0x200B: None}
# <meta name|property=...> and <link rel=...> → a document field (kgx.graph.documents)
_META_FIELDS = {"og:title": "title", "dc.title": "title", "citation_title": "title",
                "author": "author", "dc.creator": "author", "citation_author": "author",
                "date": "date", "dc.date": "date", "article:published_time": "date",
                "citation_publication_date": "date", "article:modified_time": "modified",
                "canonical": "url", "og:url": "url"}
_SPACES = re.compile(r"[ \t\n\r\f\u00a0]+")
_BLOCK_EDGE = "\u2029"  # where a block starts or ends, while collecting


class _Text(HTMLParser):
    def __init__(self, title_text: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.title_text = title_text
        self.out: list[str] = []
        self.hidden: list[str] = []  # the hidden elements open
        self.pre = 0
        self.meta: dict[str, str] = {}
        self.title: list[str] | None = None  # the <title>'s text while it is open

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _HIDDEN or (tag == "title" and not self.title_text):
            self.hidden.append(tag)
        self.handle_startendtag(tag, attrs)
        if tag == "pre":
            self.pre += 1
        elif tag == "title" and self.title is None and "title" not in self.meta:
            self.title = []
        elif tag == "html" and dict(attrs).get("lang"):
            self.meta.setdefault("language", dict(attrs)["lang"])

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag == "br":
            self.out.append("\n")
        elif tag in _BLOCKS:
            self.out.append(_BLOCK_EDGE)
        elif tag in ("meta", "link"):
            found = dict(attrs)
            key = (found.get("name") or found.get("property") or found.get("rel") or "").lower()
            value = found.get("href" if tag == "link" else "content")
            if key in _META_FIELDS and value and value.strip():
                self.meta.setdefault(_META_FIELDS[key], " ".join(value.split()))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.title is not None:
            title = " ".join("".join(self.title).split())
            if title:
                self.meta["title"] = title
            self.title = None
        if tag in self.hidden:
            while self.hidden.pop() != tag:
                pass
        elif tag in _BLOCKS:
            self.out.append(_BLOCK_EDGE)
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_data(self, data: str) -> None:
        if self.title is not None:
            self.title.append(data)
        if self.hidden:
            return
        if self.pre:
            self.out.append(data.replace("\u00a0", " ").replace("\r\n", "\n"))
            return
        text = _SPACES.sub(" ", data.translate(_INVISIBLE))
        if text.startswith(" ") and (not self.out or self.out[-1].endswith(
                (" ", "\n", _BLOCK_EDGE))):
            text = text[1:]
        if text:
            self.out.append(text)


def declared_charset(data: bytes) -> str | None:
    """The character encoding a page's ``<meta>`` declares (None when it declares none), as
    browsers read it (``web_charset``)."""
    found = _CHARSET.search(data[:1024])
    return None if found is None else web_charset(found.group(1).decode("ascii"))


def web_charset(label: str) -> str:
    """A declared charset as browsers and mail clients read it (the WHATWG Encoding
    standard): "iso-8859-1" and "us-ascii" mean windows-1252, which writes the same
    characters and more (curly quotes, the euro sign) where those leave control codes."""
    label = label.strip().lower()
    return "windows-1252" if label in _WINDOWS_1252 else label


def decode_declared(data: bytes, encoding: str | None = None) -> str:
    """``data`` decoded in the charset the page declares, else as UTF-8, else in the run's
    ``encoding`` where it names one; ValueError naming what failed otherwise."""
    charset = declared_charset(data)
    if charset is None:
        try:
            return utf8_else(data, encoding)
        except UnicodeDecodeError as e:
            raise ValueError(not_decoded(data, e.start, encoding)) from None
    try:
        return data.decode(charset)
    except LookupError:
        raise ValueError(f"not UTF-8, and the charset it declares ({charset}) is unknown"
                         ) from None
    except UnicodeDecodeError as e:
        raise ValueError(f"neither UTF-8 nor the {charset} it declares (byte "
                         f"0x{data[e.start]:02x} at offset {e.start})") from None


def html_text(markup: str) -> str:
    """The text of the HTML ``markup``: blocks apart by a blank line, the lines of a
    ``<pre>`` and ``<br>`` breaks kept, spaces collapsed as a browser collapses them."""
    return html_document(markup)[0]


def html_document(markup: str, title_text: bool = True) -> tuple[str, dict[str, str]]:
    """``html_text`` of ``markup``, and what the page says of itself: its ``<title>`` (else
    Open Graph's or Dublin Core's), author, dates, canonical address and language.
    ``title_text=False`` leaves the ``<title>`` out of the text (an e-book's chapter: a
    reader does not show it)."""
    parser = _Text(title_text)
    parser.feed(markup)
    parser.close()
    blocks = []
    for block in "".join(parser.out).split(_BLOCK_EDGE):
        lines = [line.rstrip(" ") for line in block.split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks), parser.meta


class HtmlInput(TextInput):
    """An HTML page: one document, the text a browser shows (tags, scripts and styles out,
    character references decoded, each block a paragraph), what the page says of itself as
    metadata. Its records' offsets count in that text (``read_document`` gives it). UTF-8, or
    else the charset its ``<meta>`` declares."""

    name = "html"
    suffixes = (".html", ".htm", ".xhtml")

    @classmethod
    def document(cls, data: bytes, where: str, *, encoding: str | None = None
                 ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        content, problem = cls.decode(data, where, encoding)
        if content is None:
            return None, None, problem
        text, meta = html_document(content)
        return text, meta or None, None

    @staticmethod
    def decode(data: bytes, where: str, encoding: str | None = None
               ) -> tuple[str | None, str | None]:
        """UTF-8, or else the charset the page declares (a declaration, not a guess), or else
        the run's ``encoding`` (a browser's fallback encoding) where it names one."""
        declared = declared_charset(data)  # before the run's encoding, which is a fallback
        text, problem = TextInput.decode(data, where, None if declared else encoding)
        if text is not None or b"\x00" in data or declared is None:
            return text, problem
        try:
            return decode_declared(data), None
        except ValueError as e:
            return None, f"{where}: {e}"


def mhtml_markup(data: bytes, encoding: str | None = None) -> str:
    """The page of a web archive (``.mht``/``.mhtml``: a browser's or Word's "single file web
    page", a MIME message whose parts are the page and its images): its first ``text/html``
    part, in the charset that part declares (else the page's, else UTF-8, else the run's
    ``encoding``); ValueError naming what is missing."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                break
            charset = part.get_content_charset()
            if charset:
                try:
                    return payload.decode(charset)
                except (LookupError, UnicodeDecodeError):
                    pass
            return decode_declared(payload, encoding)
    raise ValueError("a web archive (MHTML) without an HTML part")


class MhtmlInput(TextInput):
    """A web archive (``.mht``, ``.mhtml``): one document, its page read as ``HtmlInput``
    reads an ``.html`` file (``mhtml_markup``)."""

    name = "mhtml"
    suffixes = (".mht", ".mhtml")

    @classmethod
    def document(cls, data: bytes, where: str, *, encoding: str | None = None
                 ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        try:
            markup = mhtml_markup(data, encoding)
        except ValueError as e:
            return None, None, f"{where}: {e}"
        text, meta = html_document(markup)
        return text, meta or None, None
