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
counts in no pooled vector and not in its width (``_words_only``).
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

from kgx.pipeline.precision import QUANTIZE_CHOICES, linear_product
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


# inference pools the spans starting in one block of this many token rows at a time, so that
# its scratch memory is bounded by the block, not by the batch or the document (a 10,000-word
# document has 80,000 candidate spans; issue 16)
INFERENCE_BLOCK_ROWS = 512


def _per_token_weights(W: numpy.ndarray, nI: int) -> numpy.ndarray:
    """The blocks of ``W`` (K, 4 * nI) applied once per token, stacked (3 * K, nI): last,
    first, mean."""
    K = W.shape[0]
    return W[:, :3 * nI].reshape(K, 3, nI).transpose(1, 0, 2).reshape(-1, nI)


def _maxout_inputs(data: numpy.ndarray, W: numpy.ndarray, b: numpy.ndarray,
                   starts: numpy.ndarray, ends: numpy.ndarray
                   ) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray | None]:
    """The training pass's Maxout pre-activations (n, K) of the spans over the token rows
    ``data``, and the span maxima with their rows, which the backward pass reads (inference
    computes the same pre-activations in torch: ``_predict``)."""
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


class _WeightsCache(dict):
    """A model's prepared inference weights (``_prepared``): rebuilt, not copied, when the
    model is pickled or deep-copied (packed int8 weights are neither)."""

    def __reduce__(self) -> tuple[type, tuple]:
        return (_WeightsCache, ())

    def __deepcopy__(self, memo: dict) -> _WeightsCache:
        return _WeightsCache()


def _prepared(W: numpy.ndarray, b: numpy.ndarray, nO: int, nP: int, nI: int,
              precision: str | None, cache: dict | None) -> tuple[Any, Any, Any, Any]:
    """The Maxout's weights as ``_predict`` multiplies them: the per-token product, the max
    part's weight and product, the bias. Packing int8 weights costs more than a short
    document's whole pass, so they are kept in ``cache`` (one a model) while ``W`` and ``b``
    are the same numbers (compared exactly: training or a weights load updates them in
    place)."""
    import torch

    entry = cache.get("weights") if cache is not None else None
    if (entry is not None and entry[2] == precision and numpy.array_equal(entry[0], W)
            and numpy.array_equal(entry[1], b)):
        return entry[3]
    # W's rows piece-major (row p * nO + o, not o * nP + p): each piece's pre-activations are
    # then one contiguous block of Z and the max over pieces is nP - 1 elementwise maxima
    K = nO * nP
    Wp = W.reshape(nO, nP, -1).transpose(1, 0, 2).reshape(K, -1)
    per_token = linear_product(
        torch.from_numpy(numpy.ascontiguousarray(_per_token_weights(Wp, nI))), precision)
    W_max = torch.from_numpy(numpy.ascontiguousarray(Wp[:, 3 * nI:]))
    max_product = linear_product(W_max, precision) if precision else None
    bias = torch.from_numpy(numpy.ascontiguousarray(b.reshape(nO, nP).T.reshape(K)))
    prepared = (per_token, W_max, max_product, bias)
    if cache is not None:
        cache["weights"] = (W.copy(), b.copy(), precision, prepared)  # one assignment
    return prepared


def _predict(data: numpy.ndarray, W: numpy.ndarray, b: numpy.ndarray, starts: numpy.ndarray,
             ends: numpy.ndarray, nO: int, nP: int, tail: Tail | None = None,
             precision: str | None = None, cache: dict | None = None) -> numpy.ndarray:
    """The Maxout's output for inference, block by block of token rows: the training pass's
    numbers, computed with torch, whose matrix products, gathers and elementwise maxima use
    every thread torch has (numpy's elementwise work runs on one; issue 16). ``tail`` (the
    layers after the Maxout, ``_torch_tail``) is applied to each block in torch too.
    ``precision`` (int8, bf16) is that of the Maxout's two products (``linear_product``);
    ``cache`` keeps their prepared weights between calls (``_prepared``)."""
    import torch

    Y = numpy.empty((len(starts), tail.nO if tail is not None else nO), dtype="float32")
    if not len(starts):
        return Y
    K, nI = nO * nP, data.shape[1]
    per_token, W_max, max_product, bias = _prepared(W, b, nO, nP, nI, precision, cache)
    tokens = torch.from_numpy(numpy.ascontiguousarray(data))
    # the spans grouped by the block their start falls in: one pass, not one scan per block
    block = starts // INFERENCE_BLOCK_ROWS
    order = numpy.argsort(block, kind="stable")
    with torch.no_grad():
        for sel in numpy.split(order, numpy.flatnonzero(numpy.diff(block[order])) + 1):
            first = int(block[sel[0]]) * INFERENCE_BLOCK_ROWS
            last = int(ends[sel].max())
            s = torch.from_numpy(starts[sel] - first)
            e = torch.from_numpy(ends[sel] - first)
            x = tokens[first:last]
            P = per_token(x)  # per token: x W_last, x W_first, x W_mean
            P[:, :K] += bias  # every span reads one "last" row: the bias once per token
            Z = P[:, :K].index_select(0, e - 1)
            Z += P[:, K:2 * K].index_select(0, s)
            lengths = e - s
            Z += _running_torch(P[:, 2 * K:3 * K], lengths, s, "sum").div_(lengths[:, None])
            maxima = _running_torch(x, lengths, s, "max")
            if max_product is None:
                Z.addmm_(maxima, W_max.T)  # in place: no temporary
            else:
                Z += max_product(maxima)
            best = Z[:, :nO]
            for piece in range(1, nP):
                best.clamp_(min=Z[:, piece * nO:(piece + 1) * nO])  # elementwise max
            Y[sel] = (tail(best) if tail is not None else best).numpy()
    return Y


def _running_torch(values: Any, lengths: Any, starts: Any, reduce: str) -> Any:
    """``_running`` for inference, in torch: each span's sum or max of ``values`` over its
    rows. The running sums/maxima of every width are stacked (width-major) and read with one
    gather, not one selection and scatter per width (issue 16)."""
    import torch

    n_rows, width = values.shape
    widths = int(lengths.max())
    run = values.new_empty((widths, n_rows, width))
    run[0] = values
    for w in range(1, widths):
        rows = n_rows - w  # rows past these start no span this wide: never read
        if reduce == "sum":
            torch.add(run[w - 1, :rows], values[w:], out=run[w, :rows])
        else:
            torch.maximum(run[w - 1, :rows], values[w:], out=run[w, :rows])
    return run.view(-1, width).index_select(0, (lengths - 1) * n_rows + starts)


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
    lengths = ends - starts
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
            G = numpy.zeros((n_tok, 3, K), dtype="float32")  # d(x W_last, x W_first, x W_mean)
            numpy.add.at(G[:, 0], ends - 1, dZ)
            numpy.add.at(G[:, 1], starts, dZ)
            d_mean = dZ / lengths[:, None]
            for k in range(int(lengths.max())):
                sel = numpy.flatnonzero(lengths > k)
                numpy.add.at(G[:, 2], starts[sel] + k, d_mean[sel])
            G2 = G.reshape(n_tok, 3 * K)
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


class Tail:
    """LayerNorm and the output layer after the span Maxout, for inference in torch (thinc's
    numpy LayerNorm took as long as the max part's pooling on two threads; issue 16): the same
    formulas as thinc's ``LayerNorm`` and ``Softmax``."""

    def __init__(self, norm: Model, scorer: Model) -> None:
        import torch

        def tensor(layer: Model, name: str) -> Any:
            return torch.from_numpy(numpy.ascontiguousarray(
                layer.ops.to_numpy(layer.get_param(name)), dtype="float32"))

        self.G, self.b = tensor(norm, "G"), tensor(norm, "b")
        self.W, self.W_b = tensor(scorer, "W"), tensor(scorer, "b")
        self.nO = int(self.W.shape[0])
        self.normalize = bool(scorer.attrs["softmax_normalize"])
        self.temperature = float(scorer.attrs["softmax_temperature"])

    def __call__(self, h: Any) -> Any:
        import torch

        # thinc's (h - mean) * (var + 1e-8) ** -0.5 * G + b, in torch's fused kernel
        h = torch.nn.functional.layer_norm(h, (h.shape[1],), self.G, self.b, eps=1e-08)
        Y = torch.addmm(self.W_b, h, self.W.T)
        if self.normalize:
            Y = torch.softmax(Y / self.temperature if self.temperature != 1.0 else Y, dim=1)
        return Y


def _torch_tail(reducer: Model, scorer: Model) -> Tail | None:
    """The torch tail for ``reducer >> scorer`` when they are ``span_maxout >> LayerNorm`` and
    a ``Softmax`` (as ``kgx.SpanCategorizer.v1`` builds them with spancat's scorer); None for
    any other scorer, which then runs as thinc's layer."""
    if (len(reducer.layers) == 2 and reducer.layers[0].name == "span_maxout"
            and reducer.layers[1].name == "layernorm" and scorer.name == "softmax"
            and {"softmax_normalize", "softmax_temperature"} <= set(scorer.attrs)):
        return Tail(reducer.layers[1], scorer)
    return None


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
