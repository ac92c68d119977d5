"""Documents longer than the pipeline's ``max_length``: where to cut them into pieces.

A long document is split at paragraph, then line, then sentence, then whitespace boundaries
(a hard cut as last resort); :func:`kgx.batch.annotation.assemble` shifts the pieces' records
back into the original text.
"""

from __future__ import annotations

import re

from kgx.text import LINE_BREAK, PARAGRAPH_SEPARATOR

_SENT_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+")
# a paragraph break is two line breaks with only spaces between, or U+2029 alone
_BREAK = f"(?:{LINE_BREAK})"
_PARAGRAPH = re.compile(f"{_BREAK}[ \t]*{_BREAK}|{PARAGRAPH_SEPARATOR}")
_LINE = re.compile(_BREAK)


def split_points(text: str, limit: int) -> list[tuple[int, int]]:
    """``(start, end)`` pieces of ``text``, each at most ``limit`` characters.

    Cuts after the last paragraph break in the window, else the last line break, else the
    last sentence end, else the last whitespace (each only when it keeps the piece at least
    half the limit), else a hard cut.
    """
    if limit < 2:
        raise ValueError(f"the piece limit must be at least 2 characters, got {limit}")
    pieces: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while n - start > limit:
        stop = start + limit
        window = text[start:stop]
        half = limit // 2
        cut = -1
        for sep in (_PARAGRAPH, _LINE):
            ends = [m.end() for m in sep.finditer(window, half)]
            if ends:
                cut = ends[-1]
                break
        if cut < 0:
            last = None
            for m in _SENT_END.finditer(window, half):
                last = m
            if last is not None:
                cut = last.end()
        if cut < 0:
            space = re.search(r"\s(?=\S*$)", window[half:])
            if space is not None:
                cut = half + space.end()
        if cut <= 0:
            cut = limit
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, n))
    return pieces
