"""The recogniser's inference pass in torch (issue 16): ``span_maxout``'s numbers for
``is_train=False``, computed block by block of token rows with torch's threads, and the
LayerNorm and output layer after it (``Tail``). The training pass, in numpy, and the model
itself are in ``span_pool.py``; this module holds what inference runs: the prepared
(piece-major, packed for int8 or bf16) weights kept between calls, the pooled products and
the torch tail, and the per-token weight layout (``_per_token_weights``) that the training
pass reads too."""

from __future__ import annotations

from typing import Any

import numpy
from thinc.api import Model

from kgx.pipeline.precision import linear_product

# inference pools the spans starting in one block of this many token rows at a time, so that
# its scratch memory is bounded by the block, not by the batch or the document (a 10,000-word
# document has 80,000 candidate spans; issue 16)
INFERENCE_BLOCK_ROWS = 512


def _per_token_weights(W: numpy.ndarray, nI: int) -> numpy.ndarray:
    """The blocks of ``W`` (K, 4 * nI) applied once per token, stacked (3 * K, nI): last,
    first, mean."""
    K = W.shape[0]
    return W[:, :3 * nI].reshape(K, 3, nI).transpose(1, 0, 2).reshape(-1, nI)


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
    W_tok = _per_token_weights(Wp, nI)
    # last, first, mean: three products, so that last and first run on the rows spans end
    # and start at only (about 6 in 10 tokens with the edge filter on)
    per_token = tuple(
        linear_product(torch.from_numpy(numpy.ascontiguousarray(W_tok[i * K:(i + 1) * K])),
                       precision)
        for i in range(3))
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
    nI = data.shape[1]
    (last_product, first_product, mean_product), W_max, max_product, bias = _prepared(
        W, b, nO, nP, nI, precision, cache)
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
            # x W_last on the rows spans end at (every span reads one: the bias there), x
            # W_first on those they start at, x W_mean on all (running sums)
            rows, at = torch.unique(e - 1, return_inverse=True)
            Z = last_product(x.index_select(0, rows))
            Z += bias
            Z = Z.index_select(0, at)
            rows, at = torch.unique(s, return_inverse=True)
            Z += first_product(x.index_select(0, rows)).index_select(0, at)
            lengths = e - s
            Z += _running_torch(mean_product(x), lengths, s, "sum").div_(lengths[:, None])
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
