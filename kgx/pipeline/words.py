"""A document's words: its tokens without the whitespace tokens.

spaCy makes a token of any whitespace beyond one space: a line break inside a sentence of
hard-wrapped text, the blank line between paragraphs. It holds no word and the encoder gives it
no word piece, yet a span or a pair across one would count it in its means, maxima, width and
distance, so the same words would score otherwise when a line break fell between them (issue
19). The recogniser's suggester and span pooling, the relation component's features and the
encoder's windows over long sentences count a document's words only.
"""

from __future__ import annotations

import numpy
from spacy.tokens import Doc


def word_index(doc: Doc) -> tuple[numpy.ndarray, numpy.ndarray] | None:
    """None when ``doc`` has no whitespace token. Otherwise its words' token rows, and for
    every token offset 0..len(doc) the number of words before it: a (start, end) token span
    becomes the word span ``(before[start], before[end])``."""
    if not len(doc):
        return None
    space = doc.to_array("IS_SPACE").astype(bool)
    if not space.any():
        return None
    words = ~space
    before = numpy.concatenate([[0], numpy.cumsum(words)])
    return numpy.flatnonzero(words), before
