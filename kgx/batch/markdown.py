"""Markdown's inline link syntax blanked out, so a name in a link reads as plain text.

A ``.md`` file's links put markup and an address between the words (``works for
[Globex](https://globex.example) in Osaka``), which no training sentence has: the recogniser
and the relation component then miss names they find in plain text (issue 19: documents as
users have them). ``mask_links`` replaces the brackets and the target of inline, reference and
image links, and reference definitions (``[1]: https://...``), with spaces, one for one: the
text keeps its length, so every character offset still points into the file as written, and
the runs of spaces are whitespace tokens, which the pipeline's components skip
(``kgx.pipeline.words``). Code spans and fenced code blocks are left as written.
"""

from __future__ import annotations

import bisect
import re

# [text](target "title"), [text][label], [text][]; "!" before "[" makes an image. The target
# may hold one level of balanced parentheses (wiki addresses: Foo_(bar)).
LINK = re.compile(
    r"!?\[(?P<text>[^\[\]\n]+)\]"
    r"(?:\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"\n]*\")?\)|\[[^\[\]\n]*\])"
)
# a reference link's definition line, "[label]: https://example.org "title"": no text at all
DEFINITION = re.compile(r"^ {0,3}\[[^\[\]\n]+\]:[ \t]+\S+(?:[ \t]+\"[^\"\n]*\")?[ \t]*$",
                        re.MULTILINE)
CODE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^(?P=fence)[ \t]*$|`[^`\n]+`",
                  re.MULTILINE | re.DOTALL)


def mask_links(text: str) -> str:
    """``text`` with each link's markup and target as spaces, its link text kept in place."""
    code = [m.span() for m in CODE.finditer(text)]  # in order, apart
    code_ends = [end for _, end in code]
    chars = None
    # (start, end) of the markup, and the part of it kept: a link's text; a definition: none
    found = [(m.start(), m.end(), m.start("text"), m.end("text")) for m in LINK.finditer(text)]
    found += [(m.start(), m.end(), m.end(), m.end()) for m in DEFINITION.finditer(text)]
    for start, end, keep_start, keep_end in found:
        at = bisect.bisect_right(code_ends, start)  # the first code span ending after start
        if at < len(code) and code[at][0] < end:
            continue
        if chars is None:
            chars = list(text)
        chars[start:keep_start] = " " * (keep_start - start)
        chars[keep_end:end] = " " * (end - keep_end)
    return text if chars is None else "".join(chars)
