"""Documents longer than the pipeline's ``max_length``: where to cut them into pieces.

A long document is split at paragraph breaks, then sentence ends, then line breaks, then
whitespace (a hard cut as last resort); :func:`kgx.batch.annotation.assemble` shifts the pieces'
records back into the original text. A sentence end comes before a line break because
hard-wrapped text (e-mail, text taken out of PDFs) breaks its lines inside sentences; and no cut
falls inside a word broken at a line end ("Glo-\\nbex"), which the pipeline reads as one.
"""

from __future__ import annotations

import re

from kgx.text import LINE_BREAK, PARAGRAPH_SEPARATOR, line_end_hyphens

_SENT_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+")
# a paragraph break is two line breaks with only spaces between, or U+2029 alone
_BREAK = f"(?:{LINE_BREAK})"
_PARAGRAPH = re.compile(f"{_BREAK}[ \t]*{_BREAK}|{PARAGRAPH_SEPARATOR}")
_LINE = re.compile(_BREAK)
# an initial, "U.S.", "Mr.", "Dr.", "St." and a few longer titles: their period ends no sentence
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z][a-z]?|\.[A-Za-z]|\b(?:Mrs|Sen|Gen|Gov|Rep|Rev|Col|Capt|Prof))\.$")
_SPACE = re.compile(r"\s+")


def split_points(text: str, limit: int) -> list[tuple[int, int]]:
    """``(start, end)`` pieces of ``text``, each at most ``limit`` characters.

    Cuts after the last paragraph break in the window, else the last sentence end, else the
    last line break, else the last whitespace (each only when it keeps the piece at least half
    the limit, and never inside a word broken at a line end), else a hard cut.
    """
    if limit < 2:
        raise ValueError(f"the piece limit must be at least 2 characters, got {limit}")
    inside_words = {cut for a, b in line_end_hyphens(text) for cut in range(a + 1, b + 1)}
    pieces: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while n - start > limit:
        cut = _last_cut(text, start, start + limit, inside_words)
        pieces.append((start, cut))
        start = cut
    pieces.append((start, n))
    return pieces


def _last_cut(text: str, start: int, stop: int, inside_words: set[int]) -> int:
    """Where to cut ``text[start:stop]``: after its last boundary of the strongest kind in its
    second half."""
    window = text[start:stop]
    half = (stop - start) // 2
    for boundary in (_PARAGRAPH, _SENT_END, _LINE, _SPACE):
        ends = [start + m.end() for m in boundary.finditer(window, half)
                if boundary is not _SENT_END or _ends_sentence(text, start + m.start(),
                                                               start + m.end())]
        for end in reversed(ends):
            if end not in inside_words:
                return end
    return stop


def _ends_sentence(text: str, stop: int, end: int) -> bool:
    """Whether the ``_SENT_END`` match at ``text[stop:end]`` ends a sentence: not when a
    lower-case letter, a digit or a comma follows ("U.S. policy", "Nov. 22", "Conn., was"),
    nor after an initial or a short title ("F. Kennedy", "Dr. King")."""
    after = text[end:end + 1]
    if after and (after.islower() or after.isdigit() or after in ",;:"):
        return False
    return text[stop] != "." or _ABBREVIATION.search(text, max(0, stop - 5), stop + 1) is None
