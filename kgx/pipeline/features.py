"""Token features that the encoder cannot see, added beside its output.

all-MiniLM-L6-v2 is uncased: "Apple", "apple" and "APPLE" reach it as the same word pieces, yet
capitalisation is among the strongest cues for entity boundaries and types. Hashed embeddings of
the token's shape, prefix, suffix and norm (spaCy's ``MultiHashEmbed``) are concatenated to the
transformer listener's vectors, so a component downstream sees both. A token holding a
presentation form (a ligature, a fullwidth letter: ``kgx.text``) gets the features of the
characters it stands for, as the encoder reads them, and a token holding a word broken at a
line end ("Glo-\\nbex") the features of the whole word ("Globex").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy
from spacy.attrs import NORM
from spacy.ml.models import MultiHashEmbed
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d

from ..text import FOLDED, has_presentation_forms, join_line_end_hyphens, line_end_hyphens

DEFAULT_ATTRS = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
DEFAULT_ROWS = [5000, 1000, 2500, 2500]


@registry.architectures("kgx.WithLexicalFeatures.v1")
def build_with_lexical_features(
    tok2vec: Model[list[Doc], list[Floats2d]],
    width: int = 64,
    attrs: list[str] = DEFAULT_ATTRS,  # noqa: B006  (confection passes plain lists)
    rows: list[int] = DEFAULT_ROWS,  # noqa: B006
) -> Model[list[Doc], list[Floats2d]]:
    """``tok2vec``'s vectors with ``width`` more columns of hashed lexical features.

    tok2vec (Model[List[Doc], List[Floats2d]]): the wrapped layer (a transformer listener).
    width (int): the columns added (spaCy's ``MultiHashEmbed`` over ``attrs``).
    attrs (List[str]): the token attributes hashed (NORM, PREFIX, SUFFIX, SHAPE, ...).
    rows (List[int]): the hash table rows of each attribute, one per entry of ``attrs``.
    """
    if len(attrs) != len(rows):
        raise ValueError(
            f"kgx.WithLexicalFeatures.v1: {len(attrs)} attrs but {len(rows)} rows; "
            "give one table size per attribute"
        )
    lexical = MultiHashEmbed(width=width, attrs=list(attrs), rows=list(rows),
                             include_static_vectors=False)
    return Model(
        "with_lexical_features",
        _forward,
        init=_init,
        layers=[tok2vec, lexical],
        refs={"tok2vec": tok2vec, "lexical": lexical},
        dims={"nO": None},
    )


def _init(model: Model, X: list[Doc] | None = None, Y: Any = None) -> Model:
    tok2vec = model.get_ref("tok2vec")
    lexical = model.get_ref("lexical")
    tok2vec.initialize(X=X)
    lexical.initialize(X=X)
    if tok2vec.has_dim("nO") and lexical.has_dim("nO"):
        model.set_dim("nO", tok2vec.get_dim("nO") + lexical.get_dim("nO"))
    return model


def folded_doc(doc: Doc) -> Doc:
    """``doc`` with presentation forms folded and words broken at a line end joined in its
    tokens' text (the same tokens, so the same rows); ``doc`` itself when it has neither. A
    changed token's norm is its new lexeme's, every other token keeps its own (a tokenizer
    exception's norm, "n't" -> "not")."""
    text = doc.text
    breaks = line_end_hyphens(text)
    if not breaks and not has_presentation_forms(text):
        return doc
    words = [token.text.translate(FOLDED) for token in doc]
    for start, _ in breaks:  # inside one token where merged
        i = doc.char_span(start, start + 1, alignment_mode="expand")[0].i  # type: ignore[index]
        words[i] = join_line_end_hyphens(words[i])
    folded = Doc(doc.vocab, words=words, spaces=[bool(token.whitespace_) for token in doc])
    norms: Any = doc.to_array([NORM])
    changed = [i for i, token in enumerate(doc) if words[i] != token.text]
    norms[changed] = folded.to_array([NORM])[changed]
    folded.from_array([NORM], norms.reshape(-1, 1))
    return folded


# Not thinc's ``concatenate``: its list backprop adds up the layers' input gradients, and
# spacy-transformers' listener returns None there (the gradient goes to the transformer).
def _forward(model: Model, docs: list[Doc], is_train: bool) -> tuple[list[Floats2d], Callable]:
    encoded, backprop_encoded = model.get_ref("tok2vec")(docs, is_train)
    folded = [folded_doc(d) for d in docs]
    if not is_train:
        lexical_rows = _infer_lexical(model.get_ref("lexical"), folded)
        if lexical_rows is not None:
            return _joined(model.ops, encoded, lexical_rows), _no_backprop
    lexical, backprop_lexical = model.get_ref("lexical")(folded, is_train)
    xp = model.ops.xp
    width = encoded[0].shape[1] if encoded else 0
    out = [xp.hstack([a, b]) for a, b in zip(encoded, lexical, strict=True)]

    def backprop(d_out: list[Floats2d]) -> list[Doc]:
        backprop_encoded([model.ops.as_contig(d[:, :width]) for d in d_out])
        backprop_lexical([model.ops.as_contig(d[:, width:]) for d in d_out])
        return []

    return out, backprop


def _no_backprop(d_out: list[Floats2d]) -> list[Doc]:
    raise ValueError("with_lexical_features: no gradient from an inference pass")


def _joined(ops: Any, encoded: list[Floats2d], lexical: Any) -> list[Floats2d]:
    """Each doc's [encoder | lexical] rows, an array a doc (filled in place, no ``hstack``).
    Not one array for the batch with the docs as views of it: the recogniser's
    ``list2ragged`` copies the docs into one array anyway, and a first pass over a large
    batch then paid for two fresh batch-sized arrays (0.11 → 0.24-0.52 s in the whole-batch
    profile, issue 16)."""
    # an empty doc's listener rows can be (0, 0)
    width = max((int(a.shape[1]) for a in encoded), default=0)
    rows: list[Floats2d] = []
    start = 0
    for a in encoded:
        end = start + int(a.shape[0])
        row = ops.alloc2f(end - start, width + int(lexical.shape[1]), zeros=False)
        if end > start:
            row[:, :width] = a
        row[:, width:] = lexical[start:end]
        rows.append(row)
        start = end
    return rows


def _infer_lexical(lexical: Model, docs: list[Doc]) -> Any | None:
    """spaCy's ``MultiHashEmbed`` at inference, its Maxout and LayerNorm in torch (all of
    torch's threads; thinc's single-threaded product and numpy's normalisation took about
    half of the recogniser's input time, issue 16): the hashed rows of all docs, one array.
    The same formulas as thinc's layers (dropout is off at inference); None where the layer
    is not spaCy's ``MultiHashEmbed`` without static vectors, which then runs as thinc's."""
    layers = lexical.layers
    if len(layers) != 5 or [layer.name for layer in (*layers[:2], layers[4])] != [
            "extract_features", "list2ragged", "ragged2list"]:
        return None
    head = {node.name: node for node in layers[3].walk() if not node.layers}
    if set(head) != {"maxout", "layernorm", "dropout"}:
        return None
    import torch

    hashed = layers[2].predict(layers[1].predict(layers[0].predict(docs)))
    maxout, norm = head["maxout"], head["layernorm"]
    ops = lexical.ops
    nO, nP, nI = (maxout.get_dim(d) for d in ("nO", "nP", "nI"))
    # thinc's W is (nO, nP, nI): rows piece-major here, so the max over pieces is
    # elementwise over contiguous blocks
    W = numpy.ascontiguousarray(ops.to_numpy(maxout.get_param("W")).transpose(1, 0, 2)
                                ).reshape(nP * nO, nI)
    b = numpy.ascontiguousarray(ops.to_numpy(maxout.get_param("b")).T).reshape(nP * nO)

    def tensor(values: Any) -> Any:
        return torch.from_numpy(numpy.ascontiguousarray(ops.to_numpy(values), dtype="float32"))

    with torch.no_grad():
        Y = torch.addmm(tensor(b), tensor(hashed.dataXd), tensor(W).T)
        best = Y[:, :nO]
        for piece in range(1, nP):
            best = torch.maximum(best, Y[:, piece * nO:(piece + 1) * nO])
        # thinc's (X - mean) * (var + 1e-8) ** -0.5 * G + b
        out = torch.nn.functional.layer_norm(best, (nO,), tensor(norm.get_param("G")),
                                             tensor(norm.get_param("b")), eps=1e-08)
    return ops.asarray2f(cast(Floats2d, out.numpy()))
