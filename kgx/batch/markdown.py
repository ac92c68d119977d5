"""Markdown's inline markup blanked out, so a name in a link or in bold reads as plain text.

A ``.md`` file puts markup between the words (``works for [Globex](https://globex.example) in
**Osaka**``), which no training sentence has: the recogniser and the relation component then
miss names they find in plain text (issue 19: documents as users have them). ``mask_markup``
replaces with spaces, one for one, the brackets and the target of inline, reference and image
links, reference definitions (``[1]: https://...``), emphasis delimiters (``**``, ``__``,
``*``, ``_``, ``~~``), raw HTML tags and comments, and front matter. The text keeps its length,
so every character offset still points into the file as written, and the runs of spaces are
whitespace tokens, which the pipeline's components skip (``kgx.pipeline.words``). Code spans
and fenced code blocks are left as written, and so are headings and list markers
(``kgx_layout_boundaries`` reads them).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

# [text](target "title"), [text][label], [text][]; "!" before "[" makes an image. The target
# may hold one level of balanced parentheses (wiki addresses: Foo_(bar)).
LINK = re.compile(
    r"!?\[(?P<text>[^\[\]\n]+)\]"
    r"(?:\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"\n]*\")?\)|\[[^\[\]\n]*\])"
)
# a reference link's definition line, "[label]: https://example.org "title"": no text at all
DEFINITION = re.compile(r"^ {0,3}\[[^\[\]\n]+\]:[ \t]+\S+(?:[ \t]+\"[^\"\n]*\")?[ \t]*$",
                        re.MULTILINE)
# a delimiter pair on one line around text that neither starts nor ends with a space, the
# opening one not inside a word, the closing one not followed by a word character (so
# "2 * 3 * 4", "* item", snake_case and "Globex*" stay text, as CommonMark has them)
# (at most 500 characters apart: an unclosed "*" must not make a long line quadratic)
EMPHASIS = re.compile(r"(?<![\w\\*_~])(?P<d>\*\*|__|~~|\*|_)(?=\S)"
                      r"(?P<text>[^\n]{0,498}?\S)(?P=d)(?![\w*_~])")
# raw HTML, which Markdown allows: a comment, or an opening, closing or empty tag
# ("<b>Globex</b>" is the tokens "<", "b", ">", "Globex</b", ">" to spaCy)
HTML = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", re.DOTALL)
# YAML ("---") or TOML ("+++") front matter opening the file (Jekyll, Hugo, Obsidian): the
# page's settings, not its text. Its first line is a setting ("title: ...", "title = ..."), so
# a file that opens with a thematic break and a paragraph is not taken for one.
FRONT_MATTER = re.compile(r"\A(?P<fence>---|\+\+\+)[ \t]*\r?\n[ \t]*[\w.-]+[ \t]*[:=]"
                          r".*?^(?P=fence)[ \t]*$", re.MULTILINE | re.DOTALL)
# a bare address (GFM autolinks it, so nothing inside it is emphasis: "/_foo_bar_")
URL = re.compile(r"(?:https?|ftp)://[^\s<>]+|www\.[^\s<>]+")
CODE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^(?P=fence)[ \t]*$|`[^`\n]+`",
                  re.MULTILINE | re.DOTALL)


def mask_markup(text: str) -> str:
    """``text`` with its links', definitions', emphasis and HTML markup as spaces, the words
    in place."""
    in_code = _overlaps([m.span() for m in CODE.finditer(text)])
    in_url = _overlaps([m.span() for m in URL.finditer(text)])
    chars = list(text)
    masked = text
    for _ in range(3):  # nested emphasis ("***x***", "**_x_**"), outermost first
        spans = [(m.start(), m.end(), m.start("text"), m.end("text"))
                 for m in EMPHASIS.finditer(masked)
                 if not in_code(*m.span()) and not in_url(*m.span())]
        if not spans:
            break
        _blank(chars, spans)
        masked = "".join(chars)
    # (start, end) of the markup, and the part of it kept: a link's text; a definition: none
    found = [(m.start(), m.end(), m.start("text"), m.end("text")) for m in LINK.finditer(text)]
    found += [(m.start(), m.end(), m.end(), m.end()) for m in DEFINITION.finditer(text)]
    found += [(m.start(), m.end(), m.end(), m.end()) for m in HTML.finditer(text)]
    found += [(m.start(), m.end(), m.end(), m.end()) for m in FRONT_MATTER.finditer(text)]
    _blank(chars, [span for span in found if not in_code(span[0], span[1])])
    masked = "".join(chars)
    return masked


def _overlaps(spans: list[tuple[int, int]]) -> Callable[[int, int], bool]:
    """Whether (start, end) overlaps one of ``spans`` (in order, apart)."""
    ends = [end for _, end in spans]

    def overlaps(start: int, end: int) -> bool:
        at = bisect.bisect_right(ends, start)  # the first span ending after start
        return at < len(spans) and spans[at][0] < end

    return overlaps


def _blank(chars: list[str], spans: list[tuple[int, int, int, int]]) -> None:
    """Spaces over each (start, end) markup span but its kept (start, end) part and its line
    breaks (an HTML comment over several lines keeps the lines around it apart)."""
    for start, end, keep_start, keep_end in spans:
        for i in (*range(start, keep_start), *range(keep_end, end)):
            if chars[i] not in "\r\n":
                chars[i] = " "
