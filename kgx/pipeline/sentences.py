"""Sentence boundaries from three sources: a trained segmenter's, the punctuation rules' and
the text's layout.

A relation pipeline trained with spaCy's ``sentencizer`` annotating its single training records
learnt from sentences split at every sentence-final period, inside a record too. A ``senter``
trained on a corpus's record boundaries (``configs/kgx_senter.cfg``) finds the joins the rules
miss (CoNLL04's datelines and fragments) but, having learnt that a record is one unit, no
longer splits inside it. ``kgx_punct_boundaries`` after the senter keeps both: every boundary
the senter set, and every one the rules would set. On CoNLL04 dev documents that union scored
higher than either segmenter alone with the same trained pipelines (BENCHMARKS.md).

Neither reads the layout of users' documents: a heading, a list item or a paragraph without a
final period runs into the next one. ``kgx_layout_boundaries`` starts a sentence after a blank
line and at a line that opens with a list or heading marker; a single line break (hard-wrapped
text) is not a boundary, and a word broken across it by a hyphen is made one token again.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from kgx.text import LINE_BREAK, PARAGRAPH_SEPARATOR

from .tokenizer import merge_line_end_hyphens


class PunctBoundaries:
    """Adds the rule-based sentencizer's sentence starts to those a doc has; removes none."""

    def __init__(self, name: str, punct_chars: list[str] | None = None) -> None:
        self.name = name
        self.rules = Sentencizer(name=name, punct_chars=punct_chars)

    def __call__(self, doc: Doc) -> Doc:
        (starts,) = self.rules.predict([doc])
        for i, is_start in enumerate(starts):
            if is_start and i:
                doc[i].is_sent_start = True
        return doc


@Language.factory(
    "kgx_punct_boundaries",
    assigns=["token.is_sent_start"],
    default_config={"punct_chars": None},
)
def make_punct_boundaries(nlp: Language, name: str,
                          punct_chars: list[str] | None) -> PunctBoundaries:
    """``punct_chars``: the sentence-final characters (spaCy's sentencizer's list when null)."""
    return PunctBoundaries(name, punct_chars)


# a line opening with one of these tokens is a list item (or, "#", a Markdown heading)
BULLETS = frozenset({"-", "*", "+", "\u2022", "\u2023", "\u25e6", "\u25aa", "\u2043", "\u2013",
                     "\u2014", "\u00b7", "#"})
# "1." "12)" "a)" as spaCy tokenises them: the number or letter, then the "." or ")"
_ENUMERATOR = re.compile(r"\d{1,2}|[A-Za-z]")


def _marker_length(doc: Doc, i: int) -> int:
    """The tokens of the list or heading marker that opens the line at token ``i`` (0: none):
    ``-``, ``*``, ``\u2022`` ..., ``##``, ``1.``, ``12)``, ``a)``, ``(3)``."""
    n, tok = len(doc), doc[i]
    if tok.text == "#":  # "#" to "######" and a space, as Markdown writes a heading
        j = i
        while j + 1 < n and doc[j].text == "#" and not doc[j].whitespace_ and j - i < 5:
            j += 1
        return j - i + 1 if doc[j].text == "#" and doc[j].whitespace_ else 0
    if tok.text in BULLETS:
        return 1
    if i + 1 < n and _ENUMERATOR.fullmatch(tok.text) and not tok.whitespace_:
        nxt = doc[i + 1]
        if (nxt.text == ")" or (nxt.text == "." and tok.text.isdigit())) and nxt.whitespace_:
            return 2
    if (tok.text == "(" and i + 2 < n and doc[i + 1].text.isdigit()
            and doc[i + 2].text == ")" and doc[i + 2].whitespace_):
        return 3
    return 0


_LINE_BREAK = re.compile(LINE_BREAK)


def _breaks(text: str) -> int:
    """The line breaks in ``text``; a paragraph separator (U+2029) counts two: a blank line."""
    return len(_LINE_BREAK.findall(text)) + text.count(PARAGRAPH_SEPARATOR)


# a line ending in one of these (closing quotes and brackets aside) ends its text: a list may
# follow it
_LINE_FINAL = frozenset({".", "!", "?", ":", ";", "\u2026"})


class LayoutBoundaries:
    """Adds sentence starts where the layout marks them: the first token after a blank line
    (``paragraphs``); a list item's or a Markdown heading's marker and the text after it, and
    the line after a heading (``list_items``: the marker is a sentence of its own, so that the
    encoder reads the item as it reads any sentence); with ``line_breaks``, every line. Removes
    none, and puts none on a line break that a sentence already starts in (no sentence of
    whitespace alone).

    A line that opens with a list marker is an item where a list can be: at the start of a
    paragraph, after a heading or another item of the same paragraph, after a line that ends
    its text (".", ":", ...), or before a line that opens with a marker too. Elsewhere it is
    hard-wrapped text whose line happens to begin with a dash ("gold\\n- salt"), which is no
    boundary."""

    def __init__(self, name: str, paragraphs: bool = True, list_items: bool = True,
                 line_breaks: bool = False, line_end_hyphens: bool = True) -> None:
        self.name = name
        self.line_end_hyphens = line_end_hyphens
        self.paragraphs = paragraphs
        self.line_breaks = line_breaks
        self.list_items = list_items

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        if not _LINE_BREAK.search(text):
            return doc
        if self.line_end_hyphens:
            merge_line_end_hyphens(doc, text)
        n = len(doc)
        i = 0
        while i < n and doc[i].is_space:
            i += 1
        first = self._item(doc, i)  # the first line opens a paragraph: a list may start
        heading = first and doc[i].text == "#"  # the current line is a heading
        in_list = first and not heading  # an item of this paragraph came before
        while i < n:
            if not doc[i].is_space:
                i += 1
                continue
            run_start = i
            while i < n and doc[i].is_space:
                i += 1
            if i == n:
                break
            # the token before the run ends in at most a space: the breaks are the run's
            breaks = sum(_breaks(t.text_with_ws) for t in doc[run_start:i])
            if not breaks:
                continue
            # a Markdown heading is one line: the line after it starts a sentence too
            after_heading = heading
            if breaks >= 2:
                in_list = False
            marker = self._marker(doc, i)
            item = bool(marker) and (
                doc[i].text == "#" or breaks >= 2 or after_heading or in_list
                or _ends_text(doc, run_start)
                or self._marker(doc, _next_line(doc, i)) > 0)
            if item:
                self._item(doc, i)
                in_list = doc[i].text != "#"
            heading = item and doc[i].text == "#"
            if any(t.is_sent_start for t in doc[run_start:i]):
                continue
            if ((self.paragraphs and breaks >= 2) or self.line_breaks or after_heading
                    or item):
                doc[i].is_sent_start = True
        return doc

    def _marker(self, doc: Doc, i: int) -> int:
        return _marker_length(doc, i) if self.list_items and i < len(doc) else 0

    def _item(self, doc: Doc, i: int) -> bool:
        """Whether the line at token ``i`` opens with a marker; if so, the text after the
        marker starts a sentence."""
        length = self._marker(doc, i)
        if length and i + length < len(doc) and not doc[i + length].is_space:
            doc[i + length].is_sent_start = True
        return bool(length)


def _ends_text(doc: Doc, run_start: int) -> bool:
    """Whether the line before the whitespace run at ``run_start`` ends in sentence-final
    punctuation or a colon (closing quotes and brackets after it aside)."""
    j = run_start - 1
    while j > 0 and (doc[j].is_quote or doc[j].is_right_punct):
        j -= 1
    return doc[j].text[-1:] in _LINE_FINAL


def _next_line(doc: Doc, i: int) -> int:
    """The first token of the line after the one at token ``i`` (len(doc): none)."""
    n = len(doc)
    while i < n and not (doc[i].is_space and _LINE_BREAK.search(doc[i].text_with_ws)):
        i += 1
    while i < n and doc[i].is_space:
        i += 1
    return i


@Language.factory(
    "kgx_layout_boundaries",
    assigns=["token.is_sent_start"],
    retokenizes=True,
    default_config={"paragraphs": True, "list_items": True, "line_breaks": False,
                    "line_end_hyphens": True},
)
def make_layout_boundaries(nlp: Language, name: str, paragraphs: bool, list_items: bool,
                           line_breaks: bool, line_end_hyphens: bool) -> LayoutBoundaries:
    """``paragraphs``: a sentence starts after a blank line. ``list_items``: at a line that
    opens with a list marker (-, *, \u2022, 1., 1), a), (1)) where a list can be, or with a
    Markdown heading's #.
    ``line_breaks``: after every line break, for text with one unit a line (subtitles, logs,
    records); off by default because hard-wrapped prose breaks lines inside sentences.
    ``line_end_hyphens``: a word broken at a line end by a hyphen ("Glo-\\nbex", justified
    text from PDFs) becomes one token, as the models read words (``kgx.pipeline.tokenizer``)."""
    return LayoutBoundaries(name, paragraphs, list_items, line_breaks, line_end_hyphens)
