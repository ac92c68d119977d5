"""What ends a line in a document's text, for every part of kgx that reads lines; and which
characters the models read as other characters (presentation forms).

The layout component (paragraphs, list items, headings) and the splitter of long documents
must agree on it: the breaks ``str.splitlines`` knows. "\\r\\n" and "\\n", a lone "\\r" (classic
Mac files), vertical tab and form feed (pdftotext's page break), the file, group and record
separators, NEL, and Unicode's line and paragraph separators (text from Word, JavaScript).
U+2029 separates paragraphs: it is a blank line on its own.

Presentation forms are characters that stand for others: the typesetter's ligatures that PDF
extractors keep ("ﬁ" for "fi") and the fullwidth ASCII of East Asian input methods ("Ｇ" for
"G"). A word broken at a line end by a hyphen ("Glo-" / "bex": justified text, as PDF
extractors give it) is one word too. The models read them as what they stand for (the encoder's
word pieces, the recogniser's lexical features); the text, tokens and offsets stay as written.
"""

from __future__ import annotations

import re
import unicodedata

import numpy

LINE_BREAK = "\r\n|\r(?!\n)|[\n\v\f\x1c-\x1e\x85\u2028\u2029]"
PARAGRAPH_SEPARATOR = "\u2029"


# Latin ligatures (U+FB00-FB06) and fullwidth ASCII (U+FF01-FF5E)
_FORMS = [*range(0xFB00, 0xFB07), *range(0xFF01, 0xFF5F)]
FOLDED = {code: unicodedata.normalize("NFKC", chr(code)) for code in _FORMS}
_ANY_FORM = re.compile("[\ufb00-\ufb06\uff01-\uff5e]")


# a letter, a hyphen (or a soft hyphen), one line break, a lower-case letter: the break a
# typesetter makes inside a word. Not before a capital ("Hewlett-" / "Packard" keeps its hyphen),
# a digit or a blank line, and not after a digit ("5-" / "fluorouracil")
# (the hyphen first: a pattern that opens with a character set is searched for 6x faster)
_LINE_END_HYPHEN = re.compile(
    r"[-\u00ad\u2010](?<=[^\W\d_][-\u00ad\u2010])[ \t]*(?:\r\n|[\n\r\v\f\x85\u2028])[ \t]*"
    r"(?=[^\W\d_])")


def line_end_hyphens(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each hyphen, line break and indentation that break a word in
    ``text`` (the word joined is ``text[:start] + text[end:]``)."""
    return [m.span() for m in _LINE_END_HYPHEN.finditer(text) if text[m.end()].islower()]


def join_line_end_hyphens(text: str) -> str:
    """``text`` with the words broken at line ends joined ("Glo-\\nbex" -> "Globex")."""
    for start, end in reversed(line_end_hyphens(text)):
        text = text[:start] + text[end:]
    return text


def fold_for_models(text: str, breaks: list[tuple[int, int]] | None = None
                    ) -> tuple[str, numpy.ndarray | None]:
    """``text`` as the models read it: presentation forms folded and the words broken at
    ``breaks`` (default: every ``line_end_hyphens``) joined; for each character of the result
    the index of the character it came from (None when nothing changed)."""
    if breaks is None:
        breaks = line_end_hyphens(text)
    if not breaks:
        return fold_presentation_forms(text)
    pieces: list[str] = []
    origin: list[int] = []
    last = 0
    for start, end in [*breaks, (len(text), len(text))]:
        folded, mapped = fold_presentation_forms(text[last:start])
        pieces.append(folded)
        origin.extend((mapped + last).tolist() if mapped is not None
                      else range(last, start))
        last = end
    return "".join(pieces), numpy.asarray(origin, dtype="int64")


def has_presentation_forms(text: str) -> bool:
    """Whether ``text`` holds a character that ``fold_presentation_forms`` folds."""
    return _ANY_FORM.search(text) is not None


def fold_presentation_forms(text: str) -> tuple[str, numpy.ndarray | None]:
    """``text`` with ligatures and fullwidth forms folded, and for each character of the
    result the index of the character it came from (None when nothing was folded)."""
    if not has_presentation_forms(text):
        return text, None
    pieces: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        folded = FOLDED.get(ord(char), char)
        pieces.append(folded)
        origin.extend([i] * len(folded))
    return "".join(pieces), numpy.asarray(origin, dtype="int64")


def restore_offsets(offsets: numpy.ndarray, origin: numpy.ndarray) -> numpy.ndarray:
    """Word-piece character offsets into the folded text, mapped back to the text as written
    (a piece inside a folded character covers all of it). Empty offsets (special tokens,
    padding) stay as they are."""
    starts, ends = offsets[..., 0], offsets[..., 1]
    empty = ends <= starts
    last = len(origin) - 1
    mapped_starts = origin[numpy.clip(starts, 0, last)]
    mapped_ends = origin[numpy.clip(ends - 1, 0, last)] + 1
    restored = numpy.stack([mapped_starts, mapped_ends], axis=-1).astype(offsets.dtype)
    return numpy.where(empty[..., None], offsets, restored)
