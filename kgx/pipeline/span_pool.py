"""Span pooling without per-span work: ``kgx.SpanCategorizer.v1`` (issue 16).

spaCy's span categoriser copies every token of every candidate span into a new array
(``extract_spans``, a Python loop over the spans) and then reduces each copy (last, first, mean,
max of the span's token vectors, concatenated: ``spacy.mean_max_reducer.v1``). With spans of up
to 8 tokens that is about 36 copied rows per token, and the loop, the copies, the concatenation
and the Maxout over 4 x 448 inputs per span cost more than the encoder (BENCHMARKS.md, issue 16).
``span_maxout`` computes the same Maxout from the token array itself: last, first and mean
are linear, so their part of the Maxout's weights is applied once per token and the spans
read the products (means by running sums); only the max part is multiplied per span, its
maxima taken by running maxima over all spans of one width at once. Same numbers (to float
rounding), same gradients, same parameters as thinc's Maxout: ``kgx.SpanCategorizer.v1`` is
spaCy's ``SpanCategorizer.v1`` with ``spacy.mean_max_reducer.v1``, computed this way, on a
document's words only: a whitespace token inside a span (a line break in hard-wrapped text)
counts in no pooled vector and not in its width (``_words_only``). The inference pass, in
torch, is ``span_infer.py``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

import numpy
from spacy.util import registry
from thinc.api import (
    LayerNorm,
    Model,
    chain,
    glorot_uniform_init,
    list2ragged,
    with_getitem,
    zero_init,
)
from thinc.layers.chain import forward as chain_forward
from thinc.layers.chain import init as chain_init
from thinc.types import Floats2d, Ragged

from kgx.pipeline.precision import QUANTIZE_CHOICES
from kgx.pipeline.span_infer import Tail, _per_token_weights, _predict, _torch_tail, _WeightsCache
from kgx.pipeline.words import word_index


def span_maxout(nO: int | None = None, nP: int = 3) -> Model[tuple[Ragged, Ragged], Floats2d]:
    """(tokens, spans) -> Maxout over each span's [last; first; mean; max] token vector: what
    spaCy's ``extract_spans`` + ``spacy.mean_max_reducer.v1`` compute, with the same ``W``
    (nO, nP, 4 * nI) and ``b`` (nO, nP) as thinc's Maxout. Last, first and mean are linear, so
    their share of ``W`` is applied once per token, not once per span; only the max part is
    multiplied per span. Spans are (start, end) token offsets within their doc."""
    return Model("span_maxout", _forward, init=_init, dims={"nO": nO, "nI": None, "nP": nP},
                 params={"W": None, "b": None})


def _init(model: Model, X: tuple[Ragged, Ragged] | None = None, Y: Any = None) -> None:
    if X is not None:
        model.set_dim("nI", int(cast(Any, X[0]).dataXd.shape[1]))
    if Y is not None:
        model.set_dim("nO", int(Y.shape[1]))
    nO, nP, nI = model.get_dim("nO"), model.get_dim("nP"), model.get_dim("nI")
    model.set_param("W", glorot_uniform_init(model.ops, (nO, nP, 4 * nI)))
    model.set_param("b", zero_init(model.ops, (nO, nP)))


def _global_offsets(X: Ragged, spans: Ragged) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Span starts and ends as rows of the concatenated token array."""
    doc_start = numpy.concatenate([[0], numpy.cumsum(numpy.asarray(X.lengths))[:-1]])
    shift = numpy.repeat(doc_start.astype("int64"), numpy.asarray(spans.lengths))
    bounds = numpy.asarray(spans.dataXd, dtype="int64").reshape(-1, 2)
    return bounds[:, 0] + shift, bounds[:, 1] + shift


def _running(values: numpy.ndarray, lengths: numpy.ndarray, starts: numpy.ndarray,
             reduce: str, with_arg: bool = False
             ) -> tuple[numpy.ndarray, numpy.ndarray | None]:
    """For each span, the sum (or max, and the row of each maximum) of ``values`` over its
    rows: running sums/maxima of the w rows from every position, w = 1, 2, ..., read at the
    starts of the spans of width w. One vectorised step per width."""
    n_rows, width = values.shape
    out = numpy.zeros((len(starts), width), dtype="float32")
    arg = numpy.zeros((len(starts), width), dtype="int64") if with_arg else None
    run = values.astype("float32", copy=True)
    run_arg = (numpy.broadcast_to(numpy.arange(n_rows)[:, None], values.shape).copy()
               if with_arg else None)
    for w in range(1, int(lengths.max()) + 1):
        if w > 1:
            rows = n_rows - w + 1
            nxt = values[w - 1:]
            if reduce == "sum":
                run[:rows] += nxt
            else:
                greater = nxt > run[:rows]  # strict: the first maximum wins, as in thinc
                numpy.copyto(run[:rows], nxt, where=greater)
                if run_arg is not None:
                    numpy.copyto(run_arg[:rows], numpy.arange(w - 1, n_rows)[:, None],
                                 where=greater)
        sel = numpy.flatnonzero(lengths == w)
        if len(sel):
            out[sel] = run[starts[sel]]
            if arg is not None and run_arg is not None:
                arg[sel] = run_arg[starts[sel]]
    return out, arg


def _maxout_inputs(data: numpy.ndarray, W: numpy.ndarray, b: numpy.ndarray,
                   starts: numpy.ndarray, ends: numpy.ndarray
                   ) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray | None]:
    """The training pass's Maxout pre-activations (n, K) of the spans over the token rows
    ``data``, and the span maxima with their rows, which the backward pass reads (inference
    computes the same pre-activations in torch: ``span_infer._predict``)."""
    K, nI = W.shape[0], data.shape[1]
    lengths = ends - starts
    P = data @ _per_token_weights(W, nI).T  # per token: x W_last, x W_first, x W_mean
    Z = P[ends - 1, :K]
    Z += P[starts, K:2 * K]
    sums, _ = _running(P[:, 2 * K:3 * K], lengths, starts, "sum")
    sums /= lengths[:, None]
    Z += sums
    del sums, P
    maxima, which_row = _running(data, lengths, starts, "max", with_arg=True)
    Z += maxima @ W[:, 3 * nI:].T
    Z += b
    return Z, maxima, which_row


def _inputs(model: Model, inputs: tuple[Ragged, Ragged]) -> tuple[Any, ...]:
    """The token rows, weights and span offsets as numpy arrays."""
    X, spans = inputs
    ops = model.ops
    K = model.get_dim("nO") * model.get_dim("nP")
    data = cast(numpy.ndarray, ops.to_numpy(X.dataXd)).astype("float32", copy=False)
    nI = data.shape[1]
    W = cast(numpy.ndarray, ops.to_numpy(model.get_param("W"))).reshape(K, 4 * nI)
    b = cast(numpy.ndarray, ops.to_numpy(model.get_param("b"))).reshape(K)
    starts, ends = _global_offsets(X, spans)
    if len(starts) and int((ends - starts).min()) < 1:
        raise ValueError("span_maxout: a span has no tokens")
    return data, W, b, starts, ends


def _infer(model: Model, inputs: tuple[Ragged, Ragged], tail: Tail | None = None,
           precision: str | None = None, cache: dict | None = None) -> Floats2d:
    """The inference pass of ``span_maxout`` (and of ``tail`` after it)."""
    data, W, b, starts, ends = _inputs(model, inputs)
    return model.ops.asarray2f(cast(Floats2d, _predict(
        data, W, b, starts, ends, model.get_dim("nO"), model.get_dim("nP"), tail, precision,
        cache)))


def _no_backprop(dY: Floats2d) -> tuple[Ragged, Ragged]:
    raise ValueError("span_maxout: no gradient from an inference pass (is_train=False)")


def _forward(model: Model, inputs: tuple[Ragged, Ragged],
             is_train: bool) -> tuple[Floats2d, Callable]:
    if not is_train:
        return _infer(model, inputs), _no_backprop
    X, spans = inputs
    ops = model.ops
    nO, nP = model.get_dim("nO"), model.get_dim("nP")
    K = nO * nP
    data, W, b, starts, ends = _inputs(model, inputs)
    n_tok, nI = data.shape
    n = len(starts)
    W_tok = _per_token_weights(W, nI)
    maxima = which_row = None
    if n:
        Z, maxima, which_row = _maxout_inputs(data, W, b, starts, ends)
    else:
        Z = numpy.empty((0, K), dtype="float32")
    Y, which_piece = ops.maxout(ops.reshape3f(ops.asarray2f(cast(Floats2d, Z)), n, nO, nP))

    def backprop(dY: Floats2d) -> tuple[Ragged, Ragged]:
        dZ = (cast(numpy.ndarray, ops.to_numpy(ops.backprop_maxout(dY, which_piece, nP)))
              .reshape(n, K) if n else numpy.zeros((0, K), dtype="float32"))
        dX = numpy.zeros((n_tok, nI), dtype="float32")
        dW = numpy.zeros((K, 4 * nI), dtype="float32")
        if n:
            G2 = _per_token_grads(dZ, starts, ends, n_tok)
            dW[:, :3 * nI] = (G2.T @ data).reshape(3, K, nI).transpose(1, 0, 2).reshape(K, -1)
            dW[:, 3 * nI:] = dZ.T @ cast(numpy.ndarray, maxima)
            dX += G2 @ W_tok
            d_max = dZ @ W[:, 3 * nI:]
            flat = (cast(numpy.ndarray, which_row) * nI + numpy.arange(nI)).ravel()
            dX += numpy.bincount(flat, weights=d_max.ravel(),
                                 minlength=n_tok * nI).reshape(n_tok, nI)
        model.inc_grad("W", ops.asarray3f(cast(Any, dW.reshape(nO, nP, 4 * nI))))
        model.inc_grad("b", ops.asarray2f(cast(Any, dZ.sum(axis=0).reshape(nO, nP))))
        return Ragged(ops.asarray2f(cast(Floats2d, dX)), X.lengths), spans

    return Y, backprop


def _per_token_grads(dZ: numpy.ndarray, starts: numpy.ndarray, ends: numpy.ndarray,
                     n_tok: int) -> numpy.ndarray:
    """The gradient (n_tok, 3 * K) of the per-token products (x W_last, x W_first, x W_mean)
    from the spans' ``dZ`` (n, K): each span's row added to its last token, its first token
    and (divided by its width) every token it covers. Scattered with torch's ``index_add_``:
    numpy's ``add.at`` took a fifth of a training step's time (issue 16)."""
    import torch

    K = dZ.shape[1]
    G = numpy.zeros((n_tok, 3, K), dtype="float32")
    grads, dZt = torch.from_numpy(G), torch.from_numpy(numpy.ascontiguousarray(dZ))
    grads[:, 0].index_add_(0, torch.from_numpy(ends - 1), dZt)
    grads[:, 1].index_add_(0, torch.from_numpy(starts), dZt)
    lengths = ends - starts
    d_mean = dZt / torch.from_numpy(lengths.astype("float32"))[:, None]
    for k in range(int(lengths.max())):
        sel = numpy.flatnonzero(lengths > k)
        grads[:, 2].index_add_(0, torch.from_numpy(starts[sel] + k),
                               d_mean.index_select(0, torch.from_numpy(sel)))
    return G.reshape(n_tok, 3 * K)


def _words_only(ops: Any, docs: list[Any], X: Ragged, spans: Ragged
                ) -> tuple[Ragged, Ragged, Callable[[Ragged], Ragged]]:
    """The token rows and span offsets without the docs' whitespace tokens
    (``kgx.pipeline.words``): a span across a line break ("San\\nFrancisco") pools, and counts
    its width, as the same words on one line. A doc with a span of whitespace only (spaCy's
    ``ngram_range_suggester`` proposes them; kgx's suggester does not) keeps all its rows.
    Docs without whitespace tokens, every training corpus's, pass unchanged; so does the
    batch when none has any. Returns the rows, the spans and the gradient's way back."""
    indexes = [word_index(doc) for doc in docs]
    if all(index is None for index in indexes):
        return X, spans, _same
    bounds = numpy.asarray(ops.to_numpy(spans.dataXd), dtype="int64").reshape(-1, 2)
    n_spans = numpy.asarray(ops.to_numpy(spans.lengths), dtype="int64")
    n_rows = numpy.asarray(ops.to_numpy(X.lengths), dtype="int64")
    rows, new_bounds, new_lengths = [], [], []
    row0 = span0 = 0
    for index, n, k in zip(indexes, n_rows, n_spans, strict=True):
        own = bounds[span0:span0 + k]
        if index is not None and len(index[1]) == n + 1:  # one row a token, as listeners give
            words, before = index
            moved = before[own]
            if (moved[:, 1] > moved[:, 0]).all():
                rows.append(row0 + words)
                new_bounds.append(moved)
                new_lengths.append(len(words))
                row0, span0 = row0 + n, span0 + k
                continue
        rows.append(row0 + numpy.arange(n))
        new_bounds.append(own)
        new_lengths.append(n)
        row0, span0 = row0 + n, span0 + k
    keep = ops.xp.asarray(numpy.concatenate(rows))
    full_shape = X.dataXd.shape
    words_X = Ragged(X.dataXd[keep], ops.asarray1i(numpy.asarray(new_lengths, dtype="int32")))
    words_spans = Ragged(ops.asarray2i(numpy.concatenate(new_bounds).astype("int32")),
                         spans.lengths)

    def backprop(d_words: Ragged) -> Ragged:
        d_full = ops.alloc2f(*full_shape)
        d_full[keep] = d_words.dataXd  # whitespace rows get no gradient
        return Ragged(d_full, X.lengths)

    return words_X, words_spans, backprop


def _same(d: Ragged) -> Ragged:
    return d


def _categorizer_forward(model: Model, X: Any, is_train: bool, precision: str | None = None,
                         cache: dict | None = None) -> tuple[Floats2d, Callable]:
    """thinc's chain of the three layers, reading the docs' words only (``_words_only``); at
    inference the Maxout, LayerNorm and Softmax run in one torch pass, the Maxout's products
    in ``precision``, their prepared weights kept in ``cache``."""
    if len(model.layers) != 3:  # a caller swapped layers in: thinc's chain, as it was
        return chain_forward(model, X, is_train)
    embed, reducer, scorer = model.layers
    docs = X[0]
    (tokens, spans), bp_embed = embed(X, is_train)
    tokens_w, spans_w, bp_words = _words_only(model.ops, docs, tokens, spans)
    if not is_train:
        tail = _torch_tail(reducer, scorer)
        if tail is not None:
            return (_infer(reducer.layers[0], (tokens_w, spans_w), tail, precision, cache),
                    _no_backprop)
    H, bp_reducer = reducer((tokens_w, spans_w), is_train)
    Y, bp_scorer = scorer(H, is_train)

    def backprop(dY: Floats2d) -> Any:
        d_tokens, _ = bp_reducer(bp_scorer(dY))
        return bp_embed((bp_words(d_tokens), spans))

    return Y, backprop


@registry.architectures("kgx.SpanCategorizer.v1")
def build_span_categorizer(
    tok2vec: Model[list[Any], list[Floats2d]],
    scorer: Model[Floats2d, Floats2d],
    hidden_size: int = 128,
    quantize: str | None = None,
) -> Model[tuple[list[Any], Ragged], Floats2d]:
    """spaCy's ``SpanCategorizer.v1`` with ``spacy.mean_max_reducer.v1``, the spans pooled in
    place and the Maxout's linear part for last/first/mean applied per token (``span_maxout``).

    tok2vec (Model): the token vectors.
    scorer (Model): the output layer (``Softmax.v2`` for one label a span).
    hidden_size (int): the width of the Maxout layer over the pooled vectors.
    quantize (str | None): "int8" or "bf16" for the Maxout's products at inference (set by
        ``kgx quantize``; training and the weights stay float32).
    """
    if quantize not in QUANTIZE_CHOICES:
        raise ValueError(f"kgx.SpanCategorizer.v1: quantize must be null, 'int8' or 'bf16', "
                         f"got {quantize!r}")
    reducer: Model = chain(span_maxout(nO=hidden_size), LayerNorm(nI=hidden_size))
    layers: Model = chain(
        cast(Model, with_getitem(0, chain(tok2vec, cast(Model, list2ragged())))),
        reducer,
        scorer,
    )
    # thinc's chain with one more inference path; the same layers, so the same weights file
    # the model's own cache of prepared weights (not attrs: thinc saves and restores those)
    forward = partial(_categorizer_forward, precision=quantize, cache=_WeightsCache())
    model: Model = Model(layers.name, forward, init=chain_init,
                         dims={name: layers.maybe_get_dim(name) for name in layers.dim_names},
                         layers=layers.layers)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("reducer", reducer)
    model.set_ref("scorer", scorer)
    return model
