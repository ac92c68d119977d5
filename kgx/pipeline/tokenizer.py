"""spaCy's tokenizer, with Markdown's link brackets split off the words they touch, and
ligatures read as letters.

kgx reads ``.md`` files as they are, and spaCy's English rules leave a Markdown link's closing
bracket glued to its text: ``[Globex](https://globex.example)`` gives the tokens "[",
"Globex](https://globex.example" and ")", so no entity span can be "Globex" and a name in a link
is lost (issue 19: documents as users have them). Splitting "](" and "][" (a link's text from
its target or its reference label) as infixes gives "Globex", "](", the address. No training
corpus has either pair, so a model trained with this tokenizer is trained on the same tokens.

spaCy's letter class has no Latin ligatures (U+FB00-FB06, which PDF extractors keep), so
"5-ﬂuorouracil" stayed one token where "5-fluorouracil" is three. ``LIGATURE_INFIXES`` are
English's hyphen, comma and symbol infixes with the ligatures counted as letters: the same
splits as spaCy's on any text without ligatures.

Justified text taken out of PDFs breaks words at line ends with a hyphen ("Glo-", a line break,
"bex"), and spaCy's tokenizer, which splits at whitespace before anything else, makes three
tokens of them. ``merge_line_end_hyphens`` makes such a word one token again after the
tokenizer (``kgx_layout_boundaries`` calls it), so the encoder and the recogniser read one word,
as they were trained to.
"""

from __future__ import annotations

from collections.abc import Callable

from spacy.lang.char_classes import ALPHA, HYPHENS
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, registry

from ..text import line_end_hyphens

LINK_INFIXES = (r"\]\(", r"\]\[")
_LETTERS = ALPHA + "\ufb00-\ufb06"
LIGATURE_INFIXES = (
    rf"(?<=[{_LETTERS}0-9])(?:{HYPHENS})(?=[{_LETTERS}])",
    rf"(?<=[{_LETTERS}]),(?=[{_LETTERS}])",
    rf"(?<=[{_LETTERS}0-9])[:<>=/](?=[{_LETTERS}])",
)


def _add_infixes(tokenizer: Tokenizer, nlp: Language, added: tuple[str, ...]) -> Tokenizer:
    finditer = tokenizer.infix_finditer
    current = getattr(finditer, "__self__", None)  # the compiled pattern
    if current is not None and all(rule in current.pattern for rule in added):
        return tokenizer
    rules = [current.pattern] if current is not None else list(nlp.Defaults.infixes or [])
    tokenizer.infix_finditer = compile_infix_regex([*rules, *added]).finditer
    return tokenizer


def split_markdown_links(tokenizer: Tokenizer, nlp: Language) -> Tokenizer:
    """``tokenizer`` with ``LINK_INFIXES`` added to its infix rules (``nlp``'s language's when
    it has none), its own rules kept. Also upgrades a loaded pipeline saved without them: call
    it on ``nlp.tokenizer`` and save."""
    return _add_infixes(tokenizer, nlp, LINK_INFIXES)


def split_at_ligatures(tokenizer: Tokenizer, nlp: Language) -> Tokenizer:
    """``tokenizer`` with ``LIGATURE_INFIXES`` added to its infix rules, as
    ``split_markdown_links`` adds its own (and upgrades a saved pipeline the same way)."""
    return _add_infixes(tokenizer, nlp, LIGATURE_INFIXES)


@registry.tokenizers("kgx.Tokenizer.v1")
def make_tokenizer(markdown_links: bool = True,
                   ligatures: bool = True) -> Callable[[Language], Tokenizer]:
    """spaCy's rule-based tokenizer for the pipeline's language (``spacy.Tokenizer.v1``), with
    Markdown link brackets split where ``markdown_links`` is true and ligatures counted as
    letters in the infix rules where ``ligatures`` is true."""
    create_base = registry.tokenizers.get("spacy.Tokenizer.v1")()

    def create(nlp: Language) -> Tokenizer:
        tokenizer = create_base(nlp)
        if markdown_links:
            tokenizer = split_markdown_links(tokenizer, nlp)
        return split_at_ligatures(tokenizer, nlp) if ligatures else tokenizer

    return create


def merge_line_end_hyphens(doc: Doc, text: str | None = None) -> Doc:
    """``doc`` with each word broken at a line end ("Glo-\\nbex") merged into one token, its
    text as written; none where a sentence starts after the break. ``text`` is ``doc.text``
    where the caller has it. Returns ``doc``."""
    ranges: list[list[int]] = []
    for start, end in line_end_hyphens(doc.text if text is None else text):
        span = doc.char_span(start - 1, end + 1, alignment_mode="expand")
        if span is None or len(span) < 2 or any(t.is_sent_start for t in span[1:]):
            continue
        if ranges and span.start < ranges[-1][1]:  # a word broken twice
            ranges[-1][1] = span.end
        else:
            ranges.append([span.start, span.end])
    if ranges:
        with doc.retokenize() as retokenizer:
            for first, last in ranges:
                retokenizer.merge(doc[first:last])
    return doc
