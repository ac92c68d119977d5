"""thinc architectures of the relation component: pair features and classifier (the candidate
pairs they read are built in ``kgx.pipeline.candidates``).

A candidate is an ordered pair of entity spans. Its representation concatenates
the mean-pooled token vectors of the head span, the tail span and the context between them,
hashed embeddings of both entity types, and an embedding of the bucketed token distance
(signed by direction). Span means are computed from a prefix sum over the document's token
vectors, so pooling costs O(tokens + pairs) per document however many pairs there are, and
the backward pass is a scatter into the prefix-sum gradient followed by a reverse cumulative
sum. The classifier outputs one logit per label (multi-label); the component applies the
sigmoid, so the loss is a true binary cross-entropy.

``kgx.RelationModel.v2`` adds two features: the mean of the pair's enclosing context (the
sentences holding the two entities, or a fixed token margin around them when the document has
no sentence boundaries), because relations such as Live_In are often signalled outside the
tokens between the entities; and the element-wise product of the head and tail means, which a
single hidden layer cannot otherwise form. ``kgx.RelationModel.v3`` adds the element-wise
maximum over the tokens between the entities beside their mean (SpERT's "localized context",
Eberts & Ulges 2020, is max-pooled): a mean over a long gap dilutes the one word that signals
the relation. On four held-out CoNLL04 folds it did not pay (BENCHMARKS.md), so the configs
keep v2; v3 is an option to measure on other corpora.

Every version reads a document's words only: whitespace tokens (a line break inside a sentence
of hard-wrapped text) count in no mean and no distance (``_words_only``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, cast

import numpy
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Dropout, HashEmbed, Linear, Model, Relu, chain
from thinc.types import Floats2d

from kgx.pipeline.candidates import Candidates, distance_buckets
from kgx.pipeline.words import word_index

InT = tuple[list[Doc], list[Candidates]]


@registry.architectures("kgx.RelationModel.v1")
def build_relation_model(
    tok2vec: Model[list[Doc], list[Floats2d]],
    hidden_width: int = 256,
    type_width: int = 32,
    distance_width: int = 32,
    dropout: float = 0.1,
    nO: int | None = None,
) -> Model[InT, Floats2d]:
    """Pair classifier over a token-vector layer (a transformer listener or a CNN tok2vec).

    tok2vec (Model[List[Doc], List[Floats2d]]): the token vectors pooled into pair features.
    hidden_width (int): the classifier's hidden layer.
    type_width (int): the embedding of each entity's type.
    distance_width (int): the embedding of the bucketed, directional token distance.
    dropout (float): dropout after the hidden layer.
    nO (Optional[int]): the number of labels (set by the component from its labels).
    """
    return _build(tok2vec, hidden_width, type_width, distance_width, dropout, nO,
                  pair_context=False)


@registry.architectures("kgx.RelationModel.v2")
def build_relation_model_v2(
    tok2vec: Model[list[Doc], list[Floats2d]],
    hidden_width: int = 256,
    type_width: int = 32,
    distance_width: int = 32,
    dropout: float = 0.1,
    nO: int | None = None,
) -> Model[InT, Floats2d]:
    """v1 plus the enclosing-context mean and the head-tail product (see the module doc);
    the same arguments as ``kgx.RelationModel.v1``."""
    return _build(tok2vec, hidden_width, type_width, distance_width, dropout, nO,
                  pair_context=True)


@registry.architectures("kgx.RelationModel.v3")
def build_relation_model_v3(
    tok2vec: Model[list[Doc], list[Floats2d]],
    hidden_width: int = 256,
    type_width: int = 32,
    distance_width: int = 32,
    dropout: float = 0.1,
    nO: int | None = None,
) -> Model[InT, Floats2d]:
    """v2 plus the maximum over the tokens between head and tail (see the module doc); the
    same arguments as ``kgx.RelationModel.v1``."""
    return _build(tok2vec, hidden_width, type_width, distance_width, dropout, nO,
                  pair_context=True, between_max=True)


def _build(tok2vec: Model, hidden_width: int, type_width: int, distance_width: int,
           dropout: float, nO: int | None, pair_context: bool,
           between_max: bool = False) -> Model[InT, Floats2d]:
    type_embed: Model = HashEmbed(nO=type_width, nV=128, seed=17)
    distance_embed: Model = HashEmbed(nO=distance_width, nV=64, seed=23)
    hidden = Relu(nO=hidden_width)
    output = Linear(nO=nO)
    classifier: Model = chain(hidden, Dropout(dropout), output)
    return Model(
        "kgx_relation_model",
        _forward,
        init=_init,
        layers=[tok2vec, type_embed, distance_embed, classifier],
        refs={
            "tok2vec": tok2vec,
            "type_embed": type_embed,
            "distance_embed": distance_embed,
            "classifier": classifier,
            "hidden": hidden,
            "output": output,
        },
        dims={"nO": nO},
        attrs={"type_width": type_width, "distance_width": distance_width,
               "n_pooled": (5 if pair_context else 3) + int(between_max),
               "pair_context": pair_context, "between_max": between_max},
    )


def _init(model: Model, X: InT | None = None, Y: Any = None) -> Model:
    tok2vec = model.get_ref("tok2vec")
    classifier = model.get_ref("classifier")
    docs = X[0] if X is not None else None
    tok2vec.initialize(X=docs)
    model.get_ref("type_embed").initialize()
    model.get_ref("distance_embed").initialize()
    width = tok2vec.get_dim("nO") if tok2vec.has_dim("nO") else None
    if not width:
        if not docs:
            raise ValueError("kgx.RelationModel.v1 needs sample docs to infer the token width")
        width = int(tok2vec.predict(docs)[0].shape[1])
    n_in = (model.attrs["n_pooled"] * width + 2 * model.attrs["type_width"]
            + model.attrs["distance_width"])
    model.get_ref("hidden").set_dim("nI", n_in)
    if model.has_dim("nO") and model.get_dim("nO"):
        model.get_ref("output").set_dim("nO", model.get_dim("nO"))
    model.get_ref("output").set_dim("nI", model.get_ref("hidden").get_dim("nO"))
    classifier.initialize()
    return model


def _cumsum_rows(xp: Any, X: Any) -> Any:
    """``cumsum(X, axis=0)``. numpy runs that down the columns of a C-ordered array at about
    half the speed of a cumsum along rows, so on the CPU the transpose is summed instead:
    the same additions in the same order, the same numbers (issue 16's profile)."""
    if xp is numpy:
        return numpy.cumsum(numpy.ascontiguousarray(X.T), axis=1).T
    return xp.cumsum(X, axis=0)


def _prefix_sums(xp: Any, X: Floats2d) -> Floats2d:
    """A zero row, then the running sums of X's rows: span sums are two reads."""
    cs = xp.zeros((X.shape[0] + 1, X.shape[1]), dtype=X.dtype)
    cs[1:] = _cumsum_rows(xp, X)
    return cs


def _span_means(ops: Any, X: Floats2d, starts: Any, ends: Any,
                cs: Floats2d | None = None) -> tuple[Floats2d, Callable]:
    """Mean of X[start:end] for each (start, end); zeros for empty ranges. ``cs`` is X's
    ``_prefix_sums`` when the caller pools several span sets of one X."""
    xp = ops.xp
    T, W = X.shape
    if cs is None:
        cs = _prefix_sums(xp, X)
    denom = xp.maximum(ends - starts, 1).astype(X.dtype)[:, None]
    out = (cs[ends] - cs[starts]) / denom

    def backprop(d_out: Floats2d) -> Floats2d:
        g = d_out / denom
        d_cs = xp.zeros((T + 1, W), dtype=X.dtype)
        ops.scatter_add(d_cs, xp.ascontiguousarray(ends.astype("int32")), g)
        ops.scatter_add(d_cs, xp.ascontiguousarray(starts.astype("int32")), -g)
        return _cumsum_rows(xp, d_cs[::-1])[::-1][1:]

    return out, backprop


def _span_maxes(ops: Any, X: Floats2d, starts: Any, ends: Any, grad: bool = True
                ) -> tuple[Floats2d, Callable]:
    """Element-wise maximum of X[start:end] for each (start, end); zeros for empty ranges.
    A sparse table (the maxima of every run of 2**k rows, k up to the longest range's) answers
    each range with two overlapping runs, so a pair costs two reads whatever its length; the
    table holds log2(longest range) copies of X. The gradient goes to the row that held each
    maximum (the first, on ties); without ``grad`` (inference) those rows are not tracked."""
    xp = ops.xp
    T, W = X.shape
    out = xp.zeros((int(starts.shape[0]), W), dtype=X.dtype)
    rows = xp.zeros(out.shape, dtype="int64") if grad else None
    lengths = ends - starts
    full = xp.nonzero(lengths > 0)[0]
    if len(full):
        # floor(log2(length)), exactly: frexp's exponent
        level = numpy.frexp(ops.to_numpy(lengths[full]).astype("float64"))[1] - 1
        values, argmax = [X], [xp.arange(T)[:, None]]
        for k in range(1, int(level.max()) + 1):
            half, m = 1 << (k - 1), T - (1 << k) + 1
            a, b = values[-1][:m], values[-1][half:half + m]
            later = b > a
            values.append(xp.where(later, b, a))
            if rows is not None:
                argmax.append(xp.where(later, argmax[-1][half:half + m], argmax[-1][:m]))
        for k in numpy.unique(level):
            sel = full[xp.asarray(level == k)]
            first, last = starts[sel], ends[sel] - (1 << int(k))
            a, b = values[k][first], values[k][last]
            later = b > a
            out[sel] = xp.where(later, b, a)
            if rows is not None:
                rows[sel] = xp.where(later, argmax[k][last], argmax[k][first])

    def backprop(d_out: Floats2d) -> Floats2d:
        if rows is None:
            raise ValueError("_span_maxes: no gradient without grad=True")
        flat = (rows * W + xp.arange(W)[None, :])[full].reshape(-1)
        d_X = xp.bincount(flat, weights=d_out[full].reshape(-1), minlength=T * W)
        return cast(Floats2d, d_X.reshape(T, W).astype(X.dtype))

    return cast(Floats2d, out), backprop


def _words_only(ops: Any, docs: list[Doc], tokvecs: list[Floats2d], cands: list[Candidates]
                ) -> tuple[list[Floats2d], list[Candidates], list[Any]]:
    """Each document's token vectors and candidate offsets without its whitespace tokens (a
    line break inside a sentence, hard-wrapped text): they carry no word, yet they counted in
    the between and context means and in the distance, so a pair scored otherwise when a line
    break fell between its words. Documents without such tokens, every training corpus's,
    pass unchanged. Returns the vectors, the candidates and each document's kept rows (None:
    all)."""
    out_X: list[Floats2d] = []
    out_c: list[Candidates] = []
    keeps: list[Any] = []
    for doc, X, cand in zip(docs, tokvecs, cands, strict=True):
        index = word_index(doc) if len(cand) else None
        if index is None:
            out_X.append(X)
            out_c.append(cand)
            keeps.append(None)
            continue
        words, before = index
        rows = ops.xp.asarray(words)
        out_X.append(X[rows])
        out_c.append(replace(cand, spans=before[cand.spans], windows=before[cand.windows]))
        keeps.append(rows)
    return out_X, out_c, keeps


def _forward(model: Model, inputs: InT, is_train: bool) -> tuple[Floats2d, Callable]:
    docs, cands = inputs
    ops = model.ops
    xp = ops.xp
    tokvecs, bp_tokvecs = model.get_ref("tok2vec")(docs, is_train)
    full_shapes = [X.shape for X in tokvecs]
    tokvecs, cands, keeps = _words_only(ops, docs, tokvecs, cands)
    if not is_train:
        return _predict_pairs(model, tokvecs, cands), _no_backprop
    features: list[Floats2d] = []
    pool_backprops: list[tuple[int, Callable]] = []
    for i, (X, cand) in enumerate(zip(tokvecs, cands, strict=True)):
        if not len(cand):
            continue
        feats, bp_feats = _pool_pairs(ops, X, cand, model.attrs["pair_context"],
                                      model.attrs.get("between_max", False))
        features.append(feats)
        pool_backprops.append((i, bp_feats))
    n_pairs = sum(len(c) for c in cands)
    width = model.get_ref("hidden").get_dim("nI")
    if n_pairs:
        pooled = xp.concatenate(features, axis=0)
        type_ids = numpy.concatenate([c.labels for c in cands if len(c)], axis=0).reshape(-1)
        dist_ids = numpy.concatenate([distance_buckets(c.spans) for c in cands if len(c)])
    else:
        pooled = ops.alloc2f(0, width - 2 * model.attrs["type_width"]
                             - model.attrs["distance_width"])
        type_ids = numpy.zeros((0,), dtype="uint64")
        dist_ids = numpy.zeros((0,), dtype="uint64")
    types, bp_types = model.get_ref("type_embed")(
        ops.asarray(cast(Any, type_ids), dtype="uint64"), is_train)
    types = types.reshape((n_pairs, 2 * model.attrs["type_width"]))
    dists, bp_dists = model.get_ref("distance_embed")(
        ops.asarray(cast(Any, dist_ids), dtype="uint64"), is_train
    )
    pair_repr = xp.concatenate([pooled, types, dists], axis=1).astype("float32")
    logits, bp_classifier = model.get_ref("classifier")(pair_repr, is_train)
    pooled_width = pooled.shape[1]
    type_width = 2 * model.attrs["type_width"]

    def backprop(d_logits: Floats2d) -> list[Doc]:
        d_repr = bp_classifier(d_logits)
        bp_types(
            xp.ascontiguousarray(d_repr[:, pooled_width:pooled_width + type_width]).reshape(
                (-1, model.attrs["type_width"])
            )
        )
        bp_dists(xp.ascontiguousarray(d_repr[:, pooled_width + type_width:]))
        d_tokvecs = [ops.alloc2f(*shape) for shape in full_shapes]
        offset = 0
        for i, bp in pool_backprops:
            n = len(cands[i])
            d_words = bp(d_repr[offset:offset + n, :pooled_width])
            if keeps[i] is None:
                d_tokvecs[i] += d_words
            else:  # whitespace rows get no gradient
                d_tokvecs[i][keeps[i]] += d_words
            offset += n
        return bp_tokvecs(d_tokvecs)

    return logits, backprop


def _predict_pairs(model: Model, tokvecs: list[Floats2d], cands: list[Candidates]) -> Floats2d:
    """The classifier's inference pass (dropout is off), its hidden layer's product split by
    what each block of features depends on: the head's and tail's means and types are an
    entity's, so their columns of the hidden weights are applied once per entity, the
    enclosing context's once per distinct window (a sentence), and only the between-context,
    the head-tail product and the distance once per pair (5 x 384 + 96 input columns a pair
    become 2 x 384 + 32). The same function as the training pass to float rounding (issue 16).

    Products are thinc's ``gemm`` (BLIS on the CPU: single-threaded, so the rounding does not
    depend on the thread count; numpy's OpenBLAS product gave other last digits with one
    thread than with two, and a Dask worker's records differed from a local run's), one
    document at a time: a BLAS product's rounding depends on the matrix's shape, so a
    record's score would otherwise change with the documents batched beside it. With more
    than one thread the documents run side by side, one thread each (issue 16): a document's
    products are the same calls as alone, so the same digits."""
    ops = model.ops
    hidden, output = model.get_ref("hidden"), model.get_ref("output")
    n_labels = output.get_dim("nO")
    docs = [(X, c) for X, c in zip(tokvecs, cands, strict=True) if len(c)]
    if not docs:
        return ops.alloc2f(0, n_labels)
    W1 = cast(Any, hidden.get_param("W"))
    H = W1.shape[0]
    width = int(docs[0][0].shape[1])
    tw = model.attrs["type_width"]
    pair_context = model.attrs["pair_context"]
    P = model.attrs["n_pooled"] * width  # the pooled columns; then head type, tail type, distance
    cols = ops.xp.concatenate
    weights = {
        # (2H, width + tw): the head's rows over [mean, type], then the tail's
        "entity": ops.as_contig(cols([
            cols([W1[:, :width], W1[:, P:P + tw]], axis=1),
            cols([W1[:, width:2 * width], W1[:, P + tw:P + 2 * tw]], axis=1)], axis=0)),
        # (H, between [+ head * tail] + distance)
        "pair": ops.as_contig(cols(
            [W1[:, 2 * width:3 * width]]
            + ([W1[:, 4 * width:5 * width]] if pair_context else [])
            + ([W1[:, P - width:P]] if model.attrs.get("between_max") else [])
            + [W1[:, P + 2 * tw:]], axis=1)),
        "window": ops.as_contig(W1[:, 3 * width:4 * width]) if pair_context else None,
        "b1": hidden.get_param("b"),
        "W2": output.get_param("W"),
        "b2": output.get_param("b"),
    }
    workers = min(_threads(), len(docs))
    if workers < 2:
        out = [_predict_doc(model, ops, X, cand, weights, H) for X, cand in docs]
    else:  # BLIS releases the GIL: documents side by side, each on one thread as alone
        with ThreadPoolExecutor(workers, thread_name_prefix="kgx-relations") as pool:
            out = list(pool.map(lambda d: _predict_doc(model, ops, d[0], d[1], weights, H), docs))
    return cast(Floats2d, ops.xp.concatenate(out, axis=0))


def _threads() -> int:
    """The threads the pipeline was given (torch's count: ``torch.set_num_threads``,
    ``OMP_NUM_THREADS``), which the classifier's per-document products share out; one where
    torch is not loaded (a pipeline without a transformer): importing it here would cost
    such a pipeline torch's memory and its OpenMP pool in ``n_process`` children."""
    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else 1


def _predict_doc(model: Model, ops: Any, X: Floats2d, cand: Candidates,
                 weights: dict[str, Any], H: int) -> Floats2d:
    """One document's pair logits (``_predict_pairs``)."""
    xp = ops.xp
    X = cast(Floats2d, X.astype("float32", copy=False))
    cs = _prefix_sums(xp, X)
    pairs = xp.asarray(cand.pairs)
    spans = xp.asarray(cand.spans)
    n_ents = int(pairs.max()) + 1
    ent_start = xp.zeros((n_ents,), dtype="int64")
    ent_end = xp.zeros((n_ents,), dtype="int64")
    ent_type = numpy.zeros((n_ents,), dtype="uint64")
    for side in (0, 1):  # entities that are no pair's head or tail keep an empty range
        ent_start[pairs[:, side]] = spans[:, 2 * side]
        ent_end[pairs[:, side]] = spans[:, 2 * side + 1]
        ent_type[cand.pairs[:, side]] = cand.labels[:, side]
    ent_mean, _ = _span_means(ops, X, ent_start, ent_end, cs)
    types = model.get_ref("type_embed").predict(ops.asarray(cast(Any, ent_type), dtype="uint64"))
    per_entity = ops.gemm(xp.concatenate([ent_mean, types], axis=1).astype("float32"),
                          weights["entity"], trans2=True)
    head, tail = ent_mean[pairs[:, 0]], ent_mean[pairs[:, 1]]
    ctx_start = xp.minimum(spans[:, 1], spans[:, 3])
    ctx_end = xp.maximum(xp.maximum(spans[:, 0], spans[:, 2]), ctx_start)
    between, _ = _span_means(ops, X, ctx_start, ctx_end, cs)
    dists = model.get_ref("distance_embed").predict(
        ops.asarray(cast(Any, distance_buckets(cand.spans)), dtype="uint64"))
    parts = ([between] + ([head * tail] if model.attrs["pair_context"] else [])
             + ([_span_maxes(ops, X, ctx_start, ctx_end, grad=False)[0]]
                if model.attrs.get("between_max")
                else []) + [dists])
    Z = ops.gemm(xp.concatenate(parts, axis=1).astype("float32"), weights["pair"], trans2=True)
    Z += per_entity[pairs[:, 0], :H]
    Z += per_entity[pairs[:, 1], H:]
    if weights["window"] is not None:
        windows = xp.asarray(cand.windows)
        keys = windows[:, 0] * (X.shape[0] + 1) + windows[:, 1]
        distinct, inverse = xp.unique(keys, return_inverse=True)
        starts, ends = distinct // (X.shape[0] + 1), distinct % (X.shape[0] + 1)
        window_mean, _ = _span_means(ops, X, starts, ends, cs)
        Z += ops.gemm(window_mean, weights["window"], trans2=True)[inverse.reshape(-1)]
    Z += weights["b1"]
    xp.maximum(Z, 0, out=Z)
    Y = ops.gemm(Z, weights["W2"], trans2=True)
    Y += weights["b2"]
    return cast(Floats2d, Y)


def _no_backprop(d_logits: Floats2d) -> list[Doc]:
    raise ValueError("kgx.RelationModel: no gradient from an inference pass (is_train=False)")


def _pool_pairs(ops: Any, X: Floats2d, cand: Candidates, pair_context: bool,
                between_max: bool = False) -> tuple[Floats2d, Callable]:
    """One document's pooled pair features: [head, tail, between] (+ [window, head*tail])
    (+ [between maximum])."""
    xp = ops.xp
    spans = xp.asarray(cand.spans)
    ctx_start = xp.minimum(spans[:, 1], spans[:, 3])
    ctx_end = xp.maximum(xp.maximum(spans[:, 0], spans[:, 2]), ctx_start)
    cs = _prefix_sums(xp, X)  # once for all four span sets
    head, bp_head = _span_means(ops, X, spans[:, 0], spans[:, 1], cs)
    tail, bp_tail = _span_means(ops, X, spans[:, 2], spans[:, 3], cs)
    ctx, bp_ctx = _span_means(ops, X, ctx_start, ctx_end, cs)
    parts = [head, tail, ctx]
    if pair_context:
        windows = xp.asarray(cand.windows)
        window, bp_window = _span_means(ops, X, windows[:, 0], windows[:, 1], cs)
        parts += [window, head * tail]
    if between_max:
        most, bp_most = _span_maxes(ops, X, ctx_start, ctx_end)
        parts.append(most)
    W = X.shape[1]

    def backprop(d_feats: Floats2d) -> Floats2d:
        d = [xp.ascontiguousarray(d_feats[:, k * W:(k + 1) * W]) for k in range(len(parts))]
        d_head, d_tail = d[0], d[1]
        if pair_context:
            d_head = d_head + d[4] * tail
            d_tail = d_tail + d[4] * head
        d_X = bp_head(d_head) + bp_tail(d_tail) + bp_ctx(d[2])
        if pair_context:
            d_X += bp_window(d[3])
        if between_max:
            d_X += bp_most(d[-1])
        return d_X

    return xp.concatenate(parts, axis=1), backprop
