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
    """``tokenizer`` with ``LINK_INFIXES`` added to ``nlp``'s language's infix rules. Also
    upgrades a loaded pipeline saved without them: call it on ``nlp.tokenizer`` and save."""
    infixes = list(nlp.Defaults.infixes or [])
    infixes += [rule for rule in LINK_INFIXES if rule not in infixes]
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
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
