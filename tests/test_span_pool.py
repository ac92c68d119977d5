"""kgx.SpanCategorizer.v1's in-place span pooling computes what spaCy's extract_spans + mean/max
reducer compute, forward and backward, so a recogniser trained with either gives the same
entities with the other (issue 16: the recogniser without per-span Python work)."""

from __future__ import annotations

import numpy
import pytest
from spacy.ml.extract_spans import extract_spans
from thinc.api import chain, concatenate, reduce_first, reduce_last, reduce_max, reduce_mean
from thinc.types import Ragged

from kgx.pipeline.span_pool import span_pool


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
def test_span_pool_equals_extract_spans_and_mean_max_reducer(doc_lengths, max_width):
    X, S, rng = _batch(doc_lengths, max_width)
    spacy_way = chain(extract_spans(),
                      concatenate(reduce_last(), reduce_first(), reduce_mean(), reduce_max()))
    spacy_way.initialize()
    pooled = span_pool()
    Y1, back1 = spacy_way((X, S), is_train=True)
    Y2, back2 = pooled((X, S), is_train=True)
    assert Y2.shape == Y1.shape == (len(S.dataXd), 4 * X.dataXd.shape[1])
    numpy.testing.assert_allclose(Y2, Y1, atol=1e-5)
    dY = rng.normal(size=Y1.shape).astype("f")
    numpy.testing.assert_allclose(back2(dY)[0].dataXd, back1(dY)[0].dataXd, atol=1e-4)


def test_span_pool_with_no_spans():
    X = Ragged(numpy.ones((3, 4), dtype="f"), numpy.asarray([3], dtype="int32"))
    S = Ragged(numpy.zeros((0, 2), dtype="int32"), numpy.asarray([0], dtype="int32"))
    Y, back = span_pool()((X, S), is_train=True)
    assert Y.shape == (0, 16)
    assert not back(Y)[0].dataXd.any()


def test_the_shipped_recogniser_uses_in_place_pooling(repo_root):
    from spacy.util import load_config

    for name in ("kgx_trf.cfg", "kgx_demo.cfg"):
        config = load_config(repo_root / "configs" / name)
        model = config["components"]["ner"]["model"]
        assert model["@architectures"] == "kgx.SpanCategorizer.v1", name
