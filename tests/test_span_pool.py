"""kgx.SpanCategorizer.v1's in-place span pooling computes what spaCy's extract_spans + mean/max
reducer compute, forward and backward, so a recogniser trained with either gives the same
entities with the other (issue 16: the recogniser without per-span Python work)."""

from __future__ import annotations

import numpy
import pytest
from spacy.ml.extract_spans import extract_spans
from thinc.api import (
    Maxout,
    chain,
    concatenate,
    reduce_first,
    reduce_last,
    reduce_max,
    reduce_mean,
)
from thinc.types import Ragged

from kgx.pipeline.span_pool import span_maxout


def _batch(doc_lengths, max_width, width=6, seed=0):
    rng = numpy.random.default_rng(seed)
    lengths = numpy.asarray(doc_lengths, dtype="int32")
    X = Ragged(rng.normal(size=(int(lengths.sum()), width)).astype("f"), lengths)
    if len(X.dataXd) > 4:
        X.dataXd[3] = X.dataXd[4]  # ties: the first maximum gets the gradient
    spans, counts = [], []
    for n in doc_lengths:
        mine = [(i, j) for i in range(n) for j in range(i + 1, min(n, i + max_width) + 1)]
        spans += mine
        counts.append(len(mine))
    S = Ragged(numpy.asarray(spans, dtype="int32").reshape(-1, 2),
               numpy.asarray(counts, dtype="int32"))
    return X, S, rng


@pytest.mark.parametrize("doc_lengths,max_width", [
    ([7, 1, 12, 5], 8), ([30], 3), ([2, 0, 3], 8), ([1], 1),
])
def test_span_maxout_equals_extract_spans_mean_max_reducer_and_maxout(doc_lengths, max_width):
    X, S, rng = _batch(doc_lengths, max_width)
    maxout = Maxout(nO=5, nP=3, normalize=False, dropout=None)
    spacy_way = chain(extract_spans(),
                      concatenate(reduce_last(), reduce_first(), reduce_mean(), reduce_max()),
                      maxout)
    fused = span_maxout(nO=5, nP=3)
    fused.initialize(X=(X, S))
    spacy_way.initialize(X=(X, S))
    for name in ("W", "b"):  # the same weights in both
        fused.set_param(name, maxout.get_param(name) + rng.normal(size=1).astype("f"))
        maxout.set_param(name, fused.get_param(name).copy())
    assert fused.get_param("W").shape == (5, 3, 4 * X.dataXd.shape[1])
    Y1, back1 = spacy_way((X, S), is_train=True)
    Y2, back2 = fused((X, S), is_train=True)
    assert Y2.shape == Y1.shape == (len(S.dataXd), 5)
    numpy.testing.assert_allclose(Y2, Y1, atol=1e-4)
    dY = rng.normal(size=Y1.shape).astype("f")
    numpy.testing.assert_allclose(back2(dY)[0].dataXd, back1(dY)[0].dataXd, atol=1e-4)
    for name in ("W", "b"):
        numpy.testing.assert_allclose(fused.get_grad(name), maxout.get_grad(name), atol=1e-3)


def test_span_maxout_with_no_spans():
    X = Ragged(numpy.ones((3, 4), dtype="f"), numpy.asarray([3], dtype="int32"))
    S = Ragged(numpy.zeros((0, 2), dtype="int32"), numpy.asarray([0], dtype="int32"))
    model = span_maxout(nO=2)
    model.initialize(X=(X, S))
    Y, back = model((X, S), is_train=True)
    assert Y.shape == (0, 2)
    assert not back(Y)[0].dataXd.any()
    assert model.predict((X, S)).shape == (0, 2)


def test_the_shipped_recogniser_uses_in_place_pooling(repo_root):
    from spacy.util import load_config

    for name in ("kgx_trf.cfg", "kgx_demo.cfg"):
        config = load_config(repo_root / "configs" / name)
        model = config["components"]["ner"]["model"]
        assert model["@architectures"] == "kgx.SpanCategorizer.v1", name


@pytest.mark.parametrize("block_rows", [1, 3, 2048])
def test_inference_in_blocks_gives_the_training_pass_output(monkeypatch, block_rows):
    """Inference pools block by block of token rows (bounded memory on long documents): the
    same outputs as the one-piece training pass, whatever the block size."""
    from kgx.pipeline import span_infer

    X, S, _ = _batch([7, 1, 12, 5, 30], 8, seed=3)
    model = span_maxout(nO=4, nP=3)
    model.initialize(X=(X, S))
    Y_train, _ = model((X, S), is_train=True)
    monkeypatch.setattr(span_infer, "INFERENCE_BLOCK_ROWS", block_rows)
    Y_pred = model.predict((X, S))
    numpy.testing.assert_allclose(Y_pred, Y_train, atol=1e-5)
    with pytest.raises(ValueError, match="no gradient"):
        model((X, S), is_train=False)[1](Y_pred)



def test_inference_gives_the_same_entities_as_a_numpy_inference_pass():
    """Inference runs in torch; on a batch with ties and one-token docs its outputs are the
    numpy training pass's, whatever torch's thread count."""
    import torch

    X, S, _ = _batch([7, 1, 12, 5, 30, 1], 8, seed=5)
    model = span_maxout(nO=6, nP=3)
    model.initialize(X=(X, S))
    Y_train, _ = model((X, S), is_train=True)
    threads = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            numpy.testing.assert_allclose(model.predict((X, S)), Y_train, atol=1e-5)
    finally:
        torch.set_num_threads(threads)


def _recogniser(scorer):
    import spacy
    from spacy.util import fix_random_seed
    from test_span_ner import DATA, _examples

    from kgx.pipeline.span_ner import DEFAULT_MODEL

    fix_random_seed(0)
    nlp = spacy.blank("en")
    model = {k: v for k, v in DEFAULT_MODEL.items() if k != "reducer"}
    model.update({"@architectures": "kgx.SpanCategorizer.v1", "hidden_size": 16,
                  "scorer": scorer})
    pipe = nlp.add_pipe("kgx_span_ner", config={"model": model})
    examples = _examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(10):
        nlp.update(examples, sgd=optimizer)
    docs = [nlp.make_doc(t) for t, _ in DATA]
    return pipe, docs


@pytest.mark.parametrize("scorer", [
    {"@layers": "Softmax.v2"},
    {"@layers": "Softmax.v2", "temperature": 2.0},
    {"@layers": "Softmax.v2", "normalize_outputs": False},
])
def test_recogniser_inference_in_torch_equals_thincs_layers(scorer):
    """At inference the Maxout, LayerNorm and output layer run in one torch pass: the outputs
    of thinc's chain of the same layers."""
    from thinc.layers.chain import forward as chain_forward

    pipe, docs = _recogniser(scorer)
    model = pipe.model
    spans = pipe.suggester(docs, ops=model.ops)
    expected = chain_forward(model, (docs, spans), False)[0]
    got = model.predict((docs, spans))
    assert got.shape == expected.shape == (len(spans.dataXd), len(pipe.labels) + 1)
    assert numpy.abs(expected).max() > 0.1
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # training still runs through thinc's layers, and gets their gradients
    Y, backprop = model((docs, spans), is_train=True)
    numpy.testing.assert_allclose(Y, chain_forward(model, (docs, spans), True)[0], atol=1e-5)
    # layers swapped in by a caller (benchmarks/_variants.py does): thinc's chain, as it was
    model.layers[1:2] = list(model.layers[1].layers)
    numpy.testing.assert_allclose(model.predict((docs, spans)), expected, atol=1e-6)


def test_recogniser_weights_load_into_the_chain_it_was_before():
    """The recogniser is thinc's chain of the same layers with one more inference path: a
    pipeline saved by an earlier kgx (a plain chain) loads, and the reverse."""
    from thinc.api import chain

    pipe, docs = _recogniser({"@layers": "Softmax.v2"})
    model = pipe.model
    plain = chain(*model.copy().layers)
    assert [n.name for n in plain.walk()] == [n.name for n in model.walk()]
    plain.from_bytes(model.to_bytes())
    model.from_bytes(plain.to_bytes())
    spans = pipe.suggester(docs, ops=model.ops)
    numpy.testing.assert_allclose(model.predict((docs, spans)), plain.predict((docs, spans)),
                                  atol=1e-6)


def test_whitespace_tokens_count_in_no_span_feature():
    """A line break inside a span ("Acme\\nBank", hard-wrapped text) is a token of its own; the
    recogniser reads the words only: a span's scores, training and inference, are those of the
    same words on one line, and the whitespace rows get no gradient. A doc of the batch
    without whitespace is unchanged beside it."""
    import spacy
    from thinc.api import Softmax

    from helpers import fixed_tok2vec
    from kgx.pipeline.span_pool import build_span_categorizer

    nlp = spacy.blank("en")
    plain = nlp("Maria Lopez works for Acme Bank in Paris .")
    wrapped = nlp("Maria Lopez works\nfor Acme \n Bank in\nParis .")
    other = nlp("Nothing wraps here .")
    words_at = [t.i for t in wrapped if not t.is_space]
    assert [wrapped[i].text for i in words_at] == [t.text for t in plain]
    rng = numpy.random.default_rng(0)
    vectors = {doc.text: rng.normal(size=(len(doc), 8)).astype("float32")
               for doc in (plain, other)}
    rows = rng.normal(size=(len(wrapped), 8)).astype("float32")  # whitespace rows: anything
    rows[words_at] = vectors[plain.text]
    vectors[wrapped.text] = rows
    grads: dict[str, numpy.ndarray] = {}

    stub = fixed_tok2vec(vectors, grads, 8)
    model = build_span_categorizer(stub, Softmax(nO=4), hidden_size=6)
    n = len(plain)
    plain_spans = [(i, j) for i in range(n) for j in range(i + 1, min(n, i + 3) + 1)]
    wrapped_spans = [(words_at[i], words_at[j - 1] + 1) for i, j in plain_spans]
    assert any(wrapped[s:e].text.count("\n") for s, e in wrapped_spans)
    other_spans = [(0, 1), (1, 3)]

    def batch(doc, spans):
        data = numpy.asarray(spans + other_spans, dtype="int32")
        lengths = numpy.asarray([len(spans), len(other_spans)], dtype="int32")
        return [doc, other], Ragged(data, lengths)

    model.initialize(X=batch(plain, plain_spans))
    scorer = model.get_ref("scorer")  # thinc's Softmax starts at zero: give it weights
    scorer.set_param("W", rng.normal(size=scorer.get_param("W").shape).astype("float32"))
    a = model.predict(batch(plain, plain_spans))
    b = model.predict(batch(wrapped, wrapped_spans))
    assert numpy.abs(a - a.mean(axis=0)).max() > 1e-3
    numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    out_a, bp_a = model.begin_update(batch(plain, plain_spans))
    out_b, bp_b = model.begin_update(batch(wrapped, wrapped_spans))
    numpy.testing.assert_allclose(out_a, out_b, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(out_a, a, rtol=1e-4, atol=1e-5)
    d = rng.normal(size=out_a.shape).astype("float32")
    bp_a(d)
    plain_grad, other_grad = grads[plain.text], grads[other.text]
    bp_b(d)
    g = grads[wrapped.text]
    assert numpy.abs(plain_grad).max() > 0
    assert not g[[t.is_space for t in wrapped]].any()
    numpy.testing.assert_allclose(g[words_at], plain_grad, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(grads[other.text], other_grad, rtol=1e-5, atol=1e-6)


def test_a_span_of_whitespace_only_keeps_its_docs_rows():
    """spaCy's own suggester proposes spans of whitespace alone; such a doc is pooled with all
    its rows, as before, rather than giving a span no tokens."""
    import spacy
    from thinc.api import Model, Softmax
    from thinc.layers.chain import forward as chain_forward

    from kgx.pipeline.span_pool import build_span_categorizer

    nlp = spacy.blank("en")
    doc = nlp("Acme \n Bank")
    assert doc[1].is_space
    vecs = numpy.random.default_rng(1).normal(size=(len(doc), 4)).astype("float32")
    stub = Model("stub", lambda m, docs, is_train: ([vecs for _ in docs], lambda d: []),
                 dims={"nO": 4})
    model = build_span_categorizer(stub, Softmax(nO=3), hidden_size=5)
    spans = Ragged(numpy.asarray([[0, 1], [1, 2], [0, 3]], dtype="int32"),
                   numpy.asarray([3], dtype="int32"))
    model.initialize(X=([doc], spans))
    scorer = model.get_ref("scorer")
    scorer.set_param("W", numpy.ones(scorer.get_param("W").shape, dtype="float32"))
    # thinc's chain of the same layers reads every row
    expected = chain_forward(model, ([doc], spans), False)[0]
    assert expected.shape == (3, 3)
    numpy.testing.assert_allclose(model.predict(([doc], spans)), expected, atol=1e-6)


def test_per_token_grads_scatter_as_numpy_add_at_does():
    """The training pass's scatter of span gradients onto tokens (torch's index_add_) adds what
    numpy.add.at adds: shared starts and ends, widths 1 to 8, a span covering one token."""
    from kgx.pipeline.span_pool import _per_token_grads

    rng = numpy.random.default_rng(3)
    n_tok, K = 40, 6
    starts = rng.integers(0, n_tok - 8, size=300)
    ends = starts + rng.integers(1, 9, size=300)
    dZ = rng.normal(size=(300, K)).astype("float32")
    expected = numpy.zeros((n_tok, 3, K), dtype="float64")
    numpy.add.at(expected[:, 0], ends - 1, dZ)
    numpy.add.at(expected[:, 1], starts, dZ)
    for span, (s, e) in enumerate(zip(starts, ends, strict=True)):
        expected[s:e, 2] += dZ[span] / (e - s)
    got = _per_token_grads(dZ, starts, ends, n_tok)
    assert got.shape == (n_tok, 3 * K) and got.dtype == numpy.float32
    numpy.testing.assert_allclose(got, expected.reshape(n_tok, 3 * K), rtol=1e-5, atol=1e-5)
