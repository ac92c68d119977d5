"""Span pooling without per-span work: ``kgx.SpanCategorizer.v1`` (issue 16).

spaCy's span categoriser copies every token of every candidate span into a new array
(``extract_spans``, a Python loop over the spans) and then reduces each copy (last, first, mean,
max of the span's token vectors, concatenated: ``spacy.mean_max_reducer.v1``). With spans of up
to 8 tokens that is about 36 copied rows per token, and the loop, the copies and the
concatenation cost more than the encoder (BENCHMARKS.md, issue 16). ``span_pool`` computes the
same four vectors from the token array itself: running sums and maxima over all spans of one
width at once, one vectorised step per width. Same numbers (to float rounding), same gradients,
same parameters: ``kgx.SpanCategorizer.v1`` is spaCy's ``SpanCategorizer.v1`` with the
mean/max reducer, with this pooling in place of the extraction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy
from spacy.util import registry
from thinc.api import Maxout, Model, chain, list2ragged, with_getitem
from thinc.types import Floats2d, Ragged


def span_pool() -> Model[tuple[Ragged, Ragged], Floats2d]:
    """(tokens, spans) -> each span's [last; first; mean; max] token vector (the order of
    ``spacy.mean_max_reducer.v1``); spans are (start, end) token offsets within their doc."""
    return Model("span_pool", _pool_forward)


def _global_offsets(X: Ragged, spans: Ragged) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Span starts and ends as rows of the concatenated token array."""
    xp = numpy
    doc_start = xp.concatenate([[0], xp.cumsum(xp.asarray(X.lengths))[:-1]]).astype("int64")
    shift = xp.repeat(doc_start, xp.asarray(spans.lengths))
    bounds = xp.asarray(spans.dataXd, dtype="int64").reshape(-1, 2)
    return bounds[:, 0] + shift, bounds[:, 1] + shift


def _pool_forward(model: Model, inputs: tuple[Ragged, Ragged],
                  is_train: bool) -> tuple[Floats2d, Callable]:
    X, spans = inputs
    ops = model.ops
    data = cast(numpy.ndarray, ops.to_numpy(X.dataXd))
    n_tok, width = data.shape
    starts, ends = _global_offsets(X, spans)
    lengths = ends - starts
    n = len(starts)
    Y = numpy.zeros((n, 4 * width), dtype="float32")
    which = numpy.zeros((n, width), dtype="int64") if is_train else None
    if n:
        if int(lengths.min()) < 1:
            raise ValueError("span_pool: a span has no tokens")
        Y[:, :width] = data[ends - 1]
        Y[:, width:2 * width] = data[starts]
        # running sum/max of the ``w`` tokens from each position, for w = 1, 2, ...: the
        # spans of width w read row ``start`` of them
        run_sum = data.astype("float32", copy=True)
        run_max = data.copy()
        run_arg = numpy.broadcast_to(numpy.arange(n_tok)[:, None], data.shape).copy()
        for w in range(1, int(lengths.max()) + 1):
            if w > 1:
                rows = n_tok - w + 1
                nxt = data[w - 1:]
                run_sum[:rows] += nxt
                greater = nxt > run_max[:rows]  # strict: the first maximum wins, as in thinc
                numpy.copyto(run_max[:rows], nxt, where=greater)
                numpy.copyto(run_arg[:rows], numpy.arange(w - 1, n_tok)[:, None],
                             where=greater)
            sel = numpy.flatnonzero(lengths == w)
            if not len(sel):
                continue
            at = starts[sel]
            Y[sel, 2 * width:3 * width] = run_sum[at] / w
            Y[sel, 3 * width:] = run_max[at]
            if which is not None:
                which[sel] = run_arg[at]

    def backprop(dY: Floats2d) -> tuple[Ragged, Ragged]:
        d = cast(numpy.ndarray, ops.to_numpy(dY))
        dX = numpy.zeros((n_tok, width), dtype="float32")
        if n:
            numpy.add.at(dX, ends - 1, d[:, :width])
            numpy.add.at(dX, starts, d[:, width:2 * width])
            d_mean = d[:, 2 * width:3 * width] / lengths[:, None]
            for k in range(int(lengths.max())):
                sel = numpy.flatnonzero(lengths > k)
                numpy.add.at(dX, starts[sel] + k, d_mean[sel])
            flat = (cast(numpy.ndarray, which) * width + numpy.arange(width)).ravel()
            dX += numpy.bincount(flat, weights=d[:, 3 * width:].ravel(),
                                 minlength=n_tok * width).reshape(n_tok, width)
        return Ragged(ops.asarray2f(cast(Floats2d, dX)), X.lengths), spans

    return ops.asarray2f(cast(Floats2d, Y)), backprop


@registry.architectures("kgx.SpanCategorizer.v1")
def build_span_categorizer(
    tok2vec: Model[list[Any], list[Floats2d]],
    scorer: Model[Floats2d, Floats2d],
    hidden_size: int = 128,
) -> Model[tuple[list[Any], Ragged], Floats2d]:
    """spaCy's ``SpanCategorizer.v1`` with ``spacy.mean_max_reducer.v1``, pooling the spans
    in place (``span_pool``) instead of copying their tokens out first.

    tok2vec (Model): the token vectors.
    scorer (Model): the output layer (``Softmax.v2`` for one label a span).
    hidden_size (int): the width of the Maxout layer over the pooled vectors.
    """
    reducer: Model = chain(span_pool(), Maxout(nO=hidden_size, normalize=True, dropout=0.0))
    model: Model = chain(
        cast(Model, with_getitem(0, chain(tok2vec, cast(Model, list2ragged())))),
        reducer,
        scorer,
    )
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("reducer", reducer)
    model.set_ref("scorer", scorer)
    return model
