"""A document's words: its tokens without the whitespace tokens.

spaCy makes a token of any whitespace beyond one space: a line break inside a sentence of
hard-wrapped text, the blank line between paragraphs. It holds no word and the encoder gives it
no word piece, yet a span or a pair across one would count it in its means, maxima, width and
distance, so the same words would score otherwise when a line break fell between them (issue
19). The recogniser's suggester and span pooling, the relation component's features, the
encoder's windows over long sentences and the trained senter (``kgx.WordsOnly.v1``) count a
document's words only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy
from spacy.attrs import NORM
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d


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


def words_doc(doc: Doc, rows: numpy.ndarray) -> Doc:
    """A doc of ``doc``'s tokens at ``rows``, token norms kept (a tokenizer exception's norm,
    "n't" -> "not", belongs to the token, not to its lexeme)."""
    words = Doc(doc.vocab, words=[doc[int(i)].text for i in rows])
    if len(rows):
        words.from_array([NORM], doc.to_array([NORM])[rows].reshape(-1, 1))
    return words


@registry.architectures("kgx.WordsOnly.v1")
def build_words_only(
    layer: Model[list[Doc], list[Floats2d]], space_class: int = 0
) -> Model[list[Doc], list[Floats2d]]:
    """``layer`` run on each doc's words; a whitespace token's row is class ``space_class``.

    For a tagger that reads the tokens itself (spaCy's senter: a hashed-embedding CNN whose
    window would hold the line breaks of wrapped text, which no training document has). On a
    doc without whitespace tokens it is ``layer``: same output, same weights, and a model
    trained before loads into its ``layer``.

    layer (Model[List[Doc], List[Floats2d]]): the tagger (e.g. ``spacy.Tagger.v2``), reading
        lexical attributes only (not a listener: a words doc has no encoder output).
    space_class (int): the class a whitespace token gets with certainty (the senter's 0: "I",
        no sentence starts at a line break; the word after it may start one).
    """
    names = ("tok2vec", "output_layer", "softmax")  # spacy.Tagger.v2's, for code that asks
    refs: dict[str, Model | None] = {n: layer.get_ref(n) for n in names if layer.has_ref(n)}
    return Model("kgx_words_only", _forward, init=_init, layers=[layer], refs=refs,
                 dims={"nO": None}, attrs={"space_class": space_class})


def _views(docs: list[Doc]) -> list[tuple[Doc, numpy.ndarray | None]]:
    views: list[tuple[Doc, numpy.ndarray | None]] = []
    for doc in docs:
        index = word_index(doc)
        views.append((doc, None) if index is None else (words_doc(doc, index[0]), index[0]))
    return views


def _init(model: Model, X: list[Doc] | None = None, Y: Any = None) -> Model:
    layer = model.layers[0]
    if X is not None:
        views = _views(X)
        X = [words for words, _ in views]
        if Y is not None:
            Y = [y if rows is None else y[rows] for y, (_, rows) in zip(Y, views, strict=True)]
    layer.initialize(X=X, Y=Y)
    if layer.has_dim("nO"):
        model.set_dim("nO", layer.get_dim("nO"))
    return model


def _forward(model: Model, docs: list[Doc], is_train: bool) -> tuple[list[Floats2d], Callable]:
    views = _views(docs)
    scores, backprop_layer = model.layers[0]([words for words, _ in views], is_train)
    out = []
    for doc, (_, rows), y in zip(docs, views, scores, strict=True):
        if rows is None:
            out.append(y)
            continue
        full: Any = model.ops.alloc2f(len(doc), y.shape[1])
        full[:, model.attrs["space_class"]] = 1.0
        full[rows] = y
        out.append(full)

    def backprop(d_out: list[Floats2d]) -> Any:
        # a whitespace row's class is fixed: its gradient goes nowhere
        return backprop_layer([d if rows is None else model.ops.as_contig(cast(Any, d)[rows])
                               for d, (_, rows) in zip(d_out, views, strict=True)])

    return out, backprop
