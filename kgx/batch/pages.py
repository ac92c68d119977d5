"""Text taken out of PDFs page by page: running headers, footers and page numbers out, and a
sentence that runs on over a page break read as one.

``pdftotext`` and other extractors write each page's text followed by a form feed, and every
page repeats the document's furniture: a running header ("Globex Annual Report 2025"), a footer,
a page number. Read as they are, the furniture lands inside the sentences that cross a page,
and the break itself ("\\n\\f": two line breaks) is a paragraph break to
``kgx_layout_boundaries``, so such a sentence is cut in two and its relations are lost (issue 19:
documents as users have them). ``mask_page_furniture`` blanks, with spaces, the first and last
two lines of a page that are a page number or that recur, digits aside, at the top or bottom of
at least half the pages (and of two or more) or of the page before or after it (a book's
running head, "Chapter 4: Results", changes with the chapter); where the text before a break
does not end a sentence, the break and the blanked lines around it become one line break and
spaces, which reads as a hard-wrapped line (a word broken by a hyphen there is joined, as at
any line end). The text keeps its length, so every offset still points into the file as
written.
"""

from __future__ import annotations

import re
from collections import Counter

_PAGE_NUMBER = re.compile(r"(?i)[\s\-\u2013\u2014]*(?:page\s+|p\.\s*)?(?:\d{1,5}|[ivxlcdm]{1,8})"
                          r"(?:\s*(?:of|/)\s*\d{1,5})?[\s\-\u2013\u2014]*")
_LINE = re.compile(r"[^\n\r\f\v]+")
_EDGE = 2  # the lines at each end of a page where furniture sits
_ENDS = ".!?:"
_CLOSERS = "\"')]\u201d\u2019"


def mask_page_furniture(text: str) -> str:
    """``text`` with its pages' furniture as spaces and its page breaks inside sentences as
    line breaks (``text`` itself when it has no form feed)."""
    if "\f" not in text:
        return text
    breaks = [m.start() for m in re.finditer("\f", text)]
    pages = list(zip([0] + [b + 1 for b in breaks], breaks + [len(text)], strict=True))
    edges = []  # each page's candidate lines: (start, end) of its first and last few
    for a, b in pages:
        lines = [(m.start(), m.end()) for m in _LINE.finditer(text, a, b) if m.group().strip()]
        edges.append(lines[:_EDGE] + [line for line in lines[-_EDGE:]
                                      if line not in lines[:_EDGE]])
    keys = [{furniture_key(text[a:b]) for a, b in lines} for lines in edges]
    counts = Counter(key for page in keys for key in page)
    enough = max(2, (sum(1 for lines in edges if lines) + 1) // 2)
    chars = list(text)
    for i, lines in enumerate(edges):
        # a running head that changes with the chapter recurs on the pages around it only
        around = (keys[i - 1] if i else set()) | (keys[i + 1] if i + 1 < len(keys) else set())
        for a, b in lines:
            key = furniture_key(text[a:b])
            if page_number(text[a:b]) or counts[key] >= enough or key in around:
                chars[a:b] = " " * (b - a)
    for _, brk in pages[:-1]:
        before, after = brk, brk + 1
        while before and chars[before - 1].isspace():
            before -= 1
        while after < len(chars) and chars[after].isspace():
            after += 1
        if before and after < len(chars) and continues(chars, before):
            chars[before:after] = "\n" + " " * (after - before - 1)
    return "".join(chars)


def furniture_key(line: str) -> str:
    """A furniture line's identity across pages: case, spacing and numbers aside."""
    return re.sub(r"\d+", "#", " ".join(line.lower().split()))


def page_number(line: str) -> bool:
    """Whether ``line`` is a page number ("12", "- 3 -", "Page 4 of 9", "xiv")."""
    return _PAGE_NUMBER.fullmatch(line) is not None


def continues(chars: str | list[str], end: int) -> bool:
    """Whether the text ending at ``end`` stops inside a sentence (closing quotes and brackets
    aside)."""
    while end and chars[end - 1] in _CLOSERS:
        end -= 1
    return bool(end) and chars[end - 1] not in _ENDS
