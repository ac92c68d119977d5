"""spaCy's tokenizer, with Markdown's link brackets split off the words they touch.

kgx reads ``.md`` files as they are, and spaCy's English rules leave a Markdown link's closing
bracket glued to its text: ``[Globex](https://globex.example)`` gives the tokens "[",
"Globex](https://globex.example" and ")", so no entity span can be "Globex" and a name in a link
is lost (issue 19: documents as users have them). Splitting "](" and "][" (a link's text from
its target or its reference label) as infixes gives "Globex", "](", the address. No training
corpus has either pair, so a model trained with this tokenizer is trained on the same tokens.
"""

from __future__ import annotations

from collections.abc import Callable

from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, registry

LINK_INFIXES = (r"\]\(", r"\]\[")


def split_markdown_links(tokenizer: Tokenizer, nlp: Language) -> Tokenizer:
    """``tokenizer`` with ``LINK_INFIXES`` added to its infix rules (``nlp``'s language's when
    it has none), its own rules kept. Also upgrades a loaded pipeline saved without them: call
    it on ``nlp.tokenizer`` and save."""
    finditer = tokenizer.infix_finditer
    current = getattr(finditer, "__self__", None)  # the compiled pattern
    if current is not None and all(rule in current.pattern for rule in LINK_INFIXES):
        return tokenizer
    rules = [current.pattern] if current is not None else list(nlp.Defaults.infixes or [])
    tokenizer.infix_finditer = compile_infix_regex([*rules, *LINK_INFIXES]).finditer
    return tokenizer


@registry.tokenizers("kgx.Tokenizer.v1")
def make_tokenizer(markdown_links: bool = True) -> Callable[[Language], Tokenizer]:
    """spaCy's rule-based tokenizer for the pipeline's language (``spacy.Tokenizer.v1``), with
    Markdown link brackets split where ``markdown_links`` is true."""
    create_base = registry.tokenizers.get("spacy.Tokenizer.v1")()

    def create(nlp: Language) -> Tokenizer:
        tokenizer = create_base(nlp)
        return split_markdown_links(tokenizer, nlp) if markdown_links else tokenizer

    return create
