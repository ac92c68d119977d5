"""The relation component, in the style of spaCy's own component tests (CPU tok2vec model)."""

from __future__ import annotations

import logging

import numpy
import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import fix_random_seed
from thinc.api import NumpyOps

from helpers import TRAIN, annotate, blank_pipeline, make_example, with_gold_ents
from kgx.pipeline.candidates import (
    CONTEXT_MARGIN,
    Candidates,
    distance_buckets,
    make_candidate_generator,
)
from kgx.pipeline.component import DEFAULT_MODEL
from kgx.pipeline.model import _pool_pairs, _predict_pairs, _span_maxes, _span_means
from kgx.relations import get_relations, raw_relations, set_relations


@pytest.mark.slow  # a fresh interpreter imports spaCy
def test_factory_is_found_through_entry_points():
    # a fresh interpreter, so nothing of kgx is imported before spaCy looks the name up
    import subprocess
    import sys

    code = (
        "import spacy; nlp = spacy.blank('en'); "
        "nlp.add_pipe('kgx_relation_extractor'); print(nlp.pipe_names)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "kgx_relation_extractor" in out.stdout


def test_installed_version_is_kgx_version():
    # pyproject reads the version from kgx.__version__: one source for pip, spacy package
    # (its "kgx>=x.y,<x.y+1" requirement) and the graphs' kgx_version
    from importlib.metadata import version

    import kgx

    assert version("kgx") == kgx.__version__


def test_add_pipe_declares_its_contract():
    nlp = blank_pipeline()
    meta = nlp.get_pipe_meta("kgx_relation_extractor")
    assert meta.requires == ["doc.ents"]
    assert meta.assigns == ["doc._.kgx_relations"]
    assert meta.default_score_weights["rel_strict_micro_f"] == 1.0


def test_running_before_initialize_raises_E109():
    nlp = blank_pipeline()
    with pytest.raises(ValueError, match="E109"):
        nlp("Maria Lopez works for Acme .")


def test_initialize_without_relations_or_labels_is_a_clear_error():
    nlp = blank_pipeline()
    eg = Example(nlp.make_doc("Plain text ."), nlp.make_doc("Plain text ."))
    with pytest.raises(ValueError, match="no relation labels"):
        nlp.initialize(lambda: [eg])


def test_initialize_with_explicit_labels():
    nlp = blank_pipeline()
    eg = make_example(nlp, *TRAIN[0])
    nlp.get_pipe("kgx_relation_extractor").initialize(
        lambda: [eg], nlp=nlp, labels=["A", "B"]
    )
    assert nlp.get_pipe("kgx_relation_extractor").labels == ("A", "B")


@pytest.mark.parametrize("weight", [1.0, 0.25])
def test_negative_weight_scales_the_no_decisions_only(weight):
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("kgx_relation_extractor", config={"negative_weight": weight})
    logits = numpy.array([[2.0, -1.0], [0.0, 3.0]], dtype="f")
    truth = numpy.array([[1.0, 0.0], [0.0, 1.0]], dtype="f")
    loss, d_logits = pipe.get_loss([], (logits, truth))
    probs = 1.0 / (1.0 + numpy.exp(-logits))
    expected = numpy.where(truth == 1.0, probs - 1.0, weight * probs)
    assert numpy.allclose(pipe.model.ops.to_numpy(d_logits), expected, atol=1e-6)
    bce = numpy.where(truth == 1.0, -numpy.log(probs), -weight * numpy.log(1.0 - probs))
    assert loss == pytest.approx(float(bce.sum()), rel=1e-4)


def test_negative_weight_must_be_positive():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="kgx_relation_extractor: negative_weight"):
        nlp.add_pipe("kgx_relation_extractor", config={"negative_weight": 0.0})


def test_training_loss_falls_and_training_relations_are_predicted(trained):
    nlp, examples, losses = trained
    assert losses[-1] < losses[0] / 10
    for eg in examples:
        doc = annotate(nlp, with_gold_ents(nlp, eg))
        got = {(r["head"], r["tail"], r["label"]) for r in raw_relations(doc)}
        want = {(r["head"], r["tail"], r["label"]) for r in raw_relations(eg.reference)}
        assert got == want


def test_empty_doc_and_docs_with_zero_or_one_entity(trained):
    nlp, _, _ = trained
    assert raw_relations(nlp("")) == []
    assert raw_relations(nlp("No entities at all here .")) == []
    doc = nlp.make_doc("Maria Lopez slept .")
    doc.ents = [doc.char_span(0, 11, label="PER")]
    assert raw_relations(annotate(nlp, doc)) == []
    # a batch mixing all of them
    docs = list(nlp.pipe(["", "Nothing .", "Maria Lopez works for Acme ."]))
    assert all(isinstance(d._.kgx_relations, list) for d in docs)


def test_doc_without_sentence_boundaries_uses_the_token_window(trained):
    nlp, examples, _ = trained
    rel = nlp.get_pipe("kgx_relation_extractor")
    doc = with_gold_ents(nlp, examples[0])
    assert not doc.has_annotation("SENT_START")
    doc = rel(doc)
    assert {r["label"] for r in raw_relations(doc)} == {"Work_For", "OrgBased_In"}


def test_relations_helpers_give_spans(trained):
    nlp, examples, _ = trained
    doc = annotate(nlp, with_gold_ents(nlp, examples[0]))
    rels = {(r.head.text, r.tail.text, r.label) for r in get_relations(doc)}
    assert ("Maria Lopez", "Acme", "Work_For") in rels
    assert all(0.0 <= r.score <= 1.0 for r in get_relations(doc))


def test_to_disk_and_spacy_load_round_trip(trained, tmp_path):
    nlp, examples, _ = trained
    rel = nlp.get_pipe("kgx_relation_extractor")
    rel.set_thresholds({"Work_For": 0.3})
    try:
        nlp.to_disk(tmp_path / "pipe")
        loaded = spacy.load(tmp_path / "pipe")
        rel2 = loaded.get_pipe("kgx_relation_extractor")
        assert rel2.labels == rel.labels
        assert rel2.thresholds == pytest.approx(rel.thresholds)
        for eg in examples:
            a = raw_relations(annotate(nlp, with_gold_ents(nlp, eg)))
            b = raw_relations(annotate(loaded, with_gold_ents(loaded, eg)))
            assert [(r["head"], r["tail"], r["label"]) for r in a] == [
                (r["head"], r["tail"], r["label"]) for r in b
            ]
            assert [r["score"] for r in a] == pytest.approx([r["score"] for r in b], abs=1e-6)
    finally:
        rel.set_thresholds({})


def test_thresholds_global_and_per_label(trained):
    nlp, examples, _ = trained
    rel = nlp.get_pipe("kgx_relation_extractor")
    doc = with_gold_ents(nlp, examples[0])
    assert raw_relations(rel(doc))
    try:
        rel.set_thresholds({label: 1.01 for label in rel.labels})
        assert raw_relations(rel(with_gold_ents(nlp, examples[0]))) == []
        rel.set_thresholds({"Work_For": 0.0})
        labels = {r["label"] for r in raw_relations(rel(with_gold_ents(nlp, examples[0])))}
        assert "Work_For" in labels
        with pytest.raises(ValueError, match="unknown labels"):
            rel.set_thresholds({"Nope": 0.5})
    finally:
        rel.set_thresholds({})


def _ruler_pipeline(trained_nlp: Language, tmp_path) -> Language:
    """The trained component behind an entity_ruler, saved and loaded from disk."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([
        {"label": "PER", "pattern": "Maria Lopez"}, {"label": "PER", "pattern": "John Smith"},
        {"label": "PER", "pattern": "Ana Diaz"}, {"label": "ORG", "pattern": "Acme"},
        {"label": "ORG", "pattern": "Nordwind"}, {"label": "LOC", "pattern": "Paris"},
        {"label": "LOC", "pattern": "Berlin"}, {"label": "LOC", "pattern": "Oslo"},
        {"label": "LOC", "pattern": "Lyon"}, {"label": "LOC", "pattern": "France"},
    ])
    nlp.add_pipe("kgx_relation_extractor", source=trained_nlp)
    nlp.to_disk(tmp_path / "ruler_pipe")
    return spacy.load(tmp_path / "ruler_pipe")


TEXTS = [row[0] for row in TRAIN] * 3 + [
    "", "Nothing to see .", "Ana Diaz lives in Berlin . John Smith works for Nordwind in Oslo .",
]


def _relation_view(docs):
    return [[(r["head"], r["tail"], r["label"], round(r["score"], 5)) for r in raw_relations(d)]
            for d in docs]


def test_pipe_batching_matches_one_by_one(trained, tmp_path):
    nlp = _ruler_pipeline(trained[0], tmp_path)
    one_by_one = _relation_view(nlp(t) for t in TEXTS)
    batched = _relation_view(nlp.pipe(TEXTS, batch_size=4))
    assert batched == one_by_one
    assert any(one_by_one)


@pytest.mark.slow
def test_pipe_with_two_processes_matches_one_process(trained, tmp_path):
    nlp = _ruler_pipeline(trained[0], tmp_path)
    single = _relation_view(nlp.pipe(TEXTS, batch_size=3, n_process=1))
    multi = _relation_view(nlp.pipe(TEXTS, batch_size=3, n_process=2))
    assert multi == single
    assert any(single)


# --- candidates and the pair model ----------------------------------------------------


def _doc_with_ents(nlp, text, spans, sentences=True):
    doc = nlp.make_doc(text)
    doc.ents = [doc.char_span(s, e, label=label) for s, e, label in spans]
    if sentences:
        doc = nlp.get_pipe("sentencizer")(doc) if "sentencizer" in nlp.pipe_names else doc
    return doc


def test_candidates_respect_sentences_tokens_and_cap(caplog):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    text = "Ann met Bob . Carl saw Dan ."
    doc = _doc_with_ents(nlp, text, [(0, 3, "PER"), (8, 11, "PER"), (14, 18, "PER"),
                                     (23, 26, "PER")])
    same_sentence = make_candidate_generator(max_sentences=1, max_tokens=100)
    assert same_sentence(doc, doc.ents) == [(0, 1), (1, 0), (2, 3), (3, 2)]
    two_sentences = make_candidate_generator(max_sentences=2, max_tokens=100)
    assert len(two_sentences(doc, doc.ents)) == 12
    near = make_candidate_generator(max_sentences=0, max_tokens=2)
    assert (0, 3) not in near(doc, doc.ents) and (0, 1) in near(doc, doc.ents)
    capped = make_candidate_generator(max_sentences=0, max_tokens=100, max_pairs=4)
    with caplog.at_level(logging.WARNING, logger="kgx"):
        pairs = capped(doc, doc.ents)
    assert len(pairs) == 4 and "max_pairs" in caplog.text
    # the nearest pairs are the ones kept
    assert set(pairs) == {(0, 1), (1, 0), (2, 3), (3, 2)} or all(
        abs(a - b) == 1 for a, b in pairs
    )


def test_cross_sentence_relations_when_the_window_allows():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    cfg = {"candidates": {"@misc": "kgx.candidate_pairs.v1", "max_sentences": 2,
                          "max_tokens": 50, "max_pairs": 100}}
    nlp.add_pipe("kgx_relation_extractor", config=cfg)
    text = "Maria Lopez is an engineer . She works for Acme ."
    ref = nlp.make_doc(text)
    ref.ents = [ref.char_span(0, 11, label="PER"), ref.char_span(43, 47, label="ORG")]
    ref = nlp.get_pipe("sentencizer")(ref)
    set_relations(ref, [{"head": 0, "tail": 1, "label": "Work_For"}])
    eg = Example(nlp.make_doc(text), ref)
    fix_random_seed(0)
    optimizer = nlp.initialize(lambda: [eg])
    for _ in range(30):
        nlp.update([eg], sgd=optimizer)
    doc = nlp.get_pipe("sentencizer")(with_gold_ents(nlp, eg))
    doc = nlp.get_pipe("kgx_relation_extractor")(doc)
    assert [(r["head"], r["tail"], r["label"]) for r in raw_relations(doc)] == [
        (0, 1, "Work_For")
    ]


def test_span_mean_gradient_matches_finite_differences():
    ops = NumpyOps()
    rng = numpy.random.default_rng(0)
    X = rng.normal(size=(7, 3)).astype("float64")
    starts = numpy.asarray([0, 2, 4, 5])
    ends = numpy.asarray([2, 5, 4, 7])  # includes an empty range
    out, backprop = _span_means(ops, X, starts, ends)
    assert numpy.allclose(out[0], X[0:2].mean(0)) and numpy.allclose(out[2], 0)
    d_out = rng.normal(size=out.shape)
    numeric = _numeric_gradient(lambda Xp: _span_means(ops, Xp, starts, ends)[0], X, d_out)
    assert numpy.allclose(backprop(d_out), numeric, atol=1e-4)


def test_span_max_matches_a_loop_and_its_gradient_finite_differences():
    ops = NumpyOps()
    rng = numpy.random.default_rng(0)
    X = rng.normal(size=(23, 4)).astype("float64")
    # every length from 0 to 23, at every start it fits (powers of two and their neighbours)
    pairs = [(s, s + n) for n in range(24) for s in range(0, 24 - n)]
    starts, ends = (numpy.asarray(c) for c in zip(*pairs, strict=True))
    out, backprop = _span_maxes(ops, X, starts, ends)
    for row, (s, e) in zip(out, pairs, strict=True):
        assert numpy.array_equal(row, X[s:e].max(0) if e > s else numpy.zeros(4))
    assert numpy.array_equal(_span_maxes(ops, X, starts, ends, grad=False)[0], out)
    d_out = rng.normal(size=out.shape)
    numeric = _numeric_gradient(lambda Xp: _span_maxes(ops, Xp, starts, ends)[0], X, d_out)
    assert numpy.allclose(backprop(d_out), numeric, atol=1e-4)
    # ties: the gradient goes to one row, not to each row holding the maximum
    same = numpy.ones((5, 2))
    _, backprop = _span_maxes(ops, same, numpy.asarray([0]), numpy.asarray([5]))
    assert backprop(numpy.ones((1, 2))).sum() == 2.0


def _numeric_gradient(f, X, d_out, eps=1e-6):
    """Finite-difference gradient of sum(f(X) * d_out) with respect to X."""
    out = f(X)
    numeric = numpy.zeros_like(X)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            Xp = X.copy()
            Xp[i, j] += eps
            numeric[i, j] = ((f(Xp) - out) * d_out).sum() / eps
    return numeric


def test_distance_buckets_are_directional():
    spans = numpy.asarray([[0, 1, 1, 2], [1, 2, 0, 1], [0, 1, 200, 201]])
    b = distance_buckets(spans)
    assert b[0] != b[1]  # same gap, other direction
    assert b[0] == 0 and b[2] == 10  # gap 199: the last forward bucket (128+)


def test_candidates_arrays():
    nlp = spacy.blank("en")
    doc = _doc_with_ents(nlp, "Ann met Bob", [(0, 3, "PER"), (8, 11, "PER")], sentences=False)
    c = Candidates.from_pairs(doc.ents, [(1, 0)])
    assert c.spans.tolist() == [[2, 3, 0, 1]]
    assert len(Candidates.from_pairs(doc.ents, [])) == 0


def test_candidate_windows_cover_the_sentences_or_a_margin():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    text = "Ann met Bob . Carl saw Dan today ."
    ents = [(0, 3, "PER"), (8, 11, "PER"), (14, 18, "PER"), (23, 26, "PER")]
    doc = _doc_with_ents(nlp, text, ents)
    c = Candidates.from_pairs(doc.ents, [(0, 1), (1, 3)])
    assert c.windows.tolist() == [[0, 4], [0, 9]]  # one sentence; both sentences
    words = ["w"] * 40
    bare = Doc(nlp.vocab, words=words)
    bare.ents = [Span(bare, 20, 21, label="PER"), Span(bare, 23, 25, label="PER")]
    c = Candidates.from_pairs(bare.ents, [(0, 1)])
    assert c.windows.tolist() == [[20 - CONTEXT_MARGIN, 40]]


def _reference_pairs_v2(doc, ents, max_sentences, max_tokens, max_tails):
    """kgx.candidate_pairs.v2 as first written, head by head: the vectorised one must agree."""
    n = len(ents)
    if n < 2:
        return []
    order = sorted(range(n), key=lambda i: (ents[i].start, ents[i].end))
    starts = numpy.asarray([ents[i].start for i in order], dtype="int64")
    ends = numpy.asarray([ents[i].end for i in order], dtype="int64")
    sents = None
    if max_sentences > 0 and doc.has_annotation("SENT_START"):
        sents = (numpy.cumsum(doc.to_array("SENT_START") == 1) - 1)[starts]
    run_ends = numpy.maximum.accumulate(ends)
    found = []
    for a in range(n):
        hi = int(numpy.searchsorted(starts, ends[a] + max_tokens, side="right"))
        lo = int(numpy.searchsorted(run_ends, starts[a] - max_tokens, side="left"))
        if sents is not None:
            lo = max(lo, int(numpy.searchsorted(sents, sents[a] - max_sentences + 1)))
            hi = min(hi, int(numpy.searchsorted(sents, sents[a] + max_sentences - 1,
                                                side="right")))
        near = [b for b in range(lo, hi) if b != a]
        if len(near) > max_tails:
            gaps = [max(starts[b] - ends[a], starts[a] - ends[b], 0) for b in near]
            keep = sorted(sorted(range(len(near)), key=lambda k: (gaps[k], k))[:max_tails])
            near = [near[k] for k in keep]
        found.extend((order[a], order[b]) for b in near)
    return sorted(found)


@pytest.mark.parametrize("seed", range(6))
def test_candidate_pairs_v2_and_windows_agree_with_their_reference(seed):
    # the pairs of every head at once, and the windows from the sentence starts at once,
    # give what the head-by-head generator and Span.sent give: random docs, sentences,
    # shuffled and overlapping spans, crowded heads
    from kgx.pipeline.candidates import make_candidate_generator_v2

    rng = numpy.random.default_rng(seed)
    nlp = spacy.blank("en")
    n_tokens = int(rng.integers(5, 120))
    doc = Doc(nlp.vocab, words=["w"] * n_tokens,
              sent_starts=[True] + [bool(x) for x in rng.random(n_tokens - 1) < 0.1])
    ents = []
    for _ in range(int(rng.integers(0, 40))):
        start = int(rng.integers(0, n_tokens))
        ents.append(Span(doc, start, min(n_tokens, start + int(rng.integers(1, 4))),
                         label="E"))
    for max_sentences, max_tokens, max_tails in [(1, 100, 32), (2, 10, 3), (0, 5, 1),
                                                 (3, 200, 2)]:
        generate = make_candidate_generator_v2(max_sentences, max_tokens, max_tails)
        got = generate(doc, ents)
        assert got == _reference_pairs_v2(doc, ents, max_sentences, max_tokens, max_tails)
        assert all(type(i) is int for pair in got for i in pair)
    if ents:
        c = Candidates.from_pairs(ents, [(i, i) for i in range(len(ents))])
        assert c.windows.tolist() == [[e.sent.start, e.sent.end] for e in ents]


def test_pair_context_features_and_gradient():
    ops = NumpyOps()
    rng = numpy.random.default_rng(1)
    X = rng.normal(size=(9, 4)).astype("float64")
    cand = Candidates(
        pairs=numpy.asarray([[0, 1], [1, 0]]),
        spans=numpy.asarray([[1, 3, 5, 6], [5, 6, 1, 3]]),
        labels=numpy.zeros((2, 2), dtype="uint64"),
        windows=numpy.asarray([[0, 9], [1, 7]]),
    )
    out, backprop = _pool_pairs(ops, X, cand, pair_context=True)
    head, tail = X[1:3].mean(0), X[5:6].mean(0)
    assert numpy.allclose(out[0], numpy.concatenate(
        [head, tail, X[3:5].mean(0), X.mean(0), head * tail]))
    assert numpy.allclose(out[1, 12:16], X[1:7].mean(0))
    assert _pool_pairs(ops, X, cand, pair_context=False)[0].shape == (2, 12)
    d_out = rng.normal(size=out.shape)
    numeric = _numeric_gradient(lambda Xp: _pool_pairs(ops, Xp, cand, True)[0], X, d_out)
    assert numpy.allclose(backprop(d_out), numeric, atol=1e-4)


def _random_docs(lengths, seed):
    """Token vectors and candidate pairs of documents with ``lengths`` pairs each: entities
    of 1-3 tokens in sentences of 12 tokens, some of them heads of no pair."""
    rng = numpy.random.default_rng(seed)
    tokvecs, cands = [], []
    for n in lengths:
        X = rng.normal(size=(60, 16)).astype("float32")
        starts = numpy.sort(rng.choice(numpy.arange(0, 57, 4), size=12, replace=False))
        ends = starts + rng.integers(1, 4, size=12)
        pairs = rng.integers(0, 12, size=(n, 2))
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        spans = numpy.stack([starts[pairs[:, 0]], ends[pairs[:, 0]],
                             starts[pairs[:, 1]], ends[pairs[:, 1]]], 1)
        sent = numpy.stack([spans[:, [0, 2]].min(1) // 12 * 12,
                            numpy.minimum(spans[:, [1, 3]].max(1) // 12 * 12 + 12, 60)], 1)
        labels = rng.choice(numpy.asarray([11, 22, 33], dtype="uint64"), size=(12,))
        tokvecs.append(X)
        cands.append(Candidates(pairs=pairs.astype("int64"), spans=spans.astype("int64"),
                                labels=numpy.stack([labels[pairs[:, 0]], labels[pairs[:, 1]]],
                                                   1),
                                windows=sent.astype("int64")))
    return tokvecs, cands


def _relation_model(pair_context, between_max=False):
    from thinc.api import Model

    from kgx.pipeline.model import (
        build_relation_model,
        build_relation_model_v2,
        build_relation_model_v3,
    )

    tok2vec = Model("fixed", lambda model, docs, is_train: (docs, lambda d: d),
                    dims={"nO": 16})
    build = (build_relation_model_v3 if between_max else
             build_relation_model_v2 if pair_context else build_relation_model)
    model = build(tok2vec, hidden_width=24, type_width=8, distance_width=8, nO=3)
    model.get_ref("type_embed").initialize()
    model.get_ref("distance_embed").initialize()
    n_in = (model.attrs["n_pooled"] * 16 + 2 * 8 + 8)
    model.get_ref("hidden").set_dim("nI", n_in)
    model.get_ref("output").set_dim("nI", 24)
    model.get_ref("classifier").initialize()
    rng = numpy.random.default_rng(3)
    for layer in (model.get_ref("hidden"), model.get_ref("output")):
        layer.set_param("b", rng.normal(size=layer.get_param("b").shape).astype("float32"))
    return model


@pytest.mark.parametrize("pair_context,between_max", [(True, False), (False, False),
                                                     (True, True)])
def test_inference_pass_computes_the_training_pass(pair_context, between_max):
    # inference applies the hidden layer's head/tail/type columns once per entity and the
    # window's once per window: the same function as the features + thinc classifier
    model = _relation_model(pair_context, between_max)
    tokvecs, cands = _random_docs([30, 0, 200, 1], seed=0)
    ops = model.ops
    feats = [_pool_pairs(ops, X, c, pair_context, between_max)[0]
             for X, c in zip(tokvecs, cands, strict=True) if len(c)]
    n = sum(len(c) for c in cands)
    types = model.get_ref("type_embed").predict(
        numpy.concatenate([c.labels for c in cands]).reshape(-1)).reshape(n, -1)
    dists = model.get_ref("distance_embed").predict(
        numpy.concatenate([distance_buckets(c.spans) for c in cands]))
    X = numpy.concatenate([numpy.concatenate(feats), types, dists], axis=1).astype("float32")
    expected = model.get_ref("classifier").predict(X)
    got = _predict_pairs(model, tokvecs, cands)
    assert got.shape == expected.shape == (n, 3)
    assert numpy.abs(expected).max() > 0.1
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert _predict_pairs(model, tokvecs[1:2], cands[1:2]).shape == (0, 3)


def test_inference_scores_do_not_depend_on_the_batch():
    # a BLAS product's rounding depends on the matrix's shape: a document's pairs are
    # classified on their own, so its scores are the same alone and batched with others
    model = _relation_model(True)
    tokvecs, cands = _random_docs([3, 0, 170, 1, 40], seed=1)
    batched = _predict_pairs(model, tokvecs, cands)
    offset = 0
    for X, c in zip(tokvecs, cands, strict=True):
        alone = _predict_pairs(model, [X], [c])
        assert numpy.array_equal(batched[offset:offset + len(c)], alone)
        offset += len(c)
    assert offset == len(batched)


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_relation_model_v2_trains_and_round_trips(tmp_path, version):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    model = dict(DEFAULT_MODEL, **{"@architectures": f"kgx.RelationModel.{version}"})
    nlp.add_pipe("kgx_relation_extractor", config={"model": model})
    examples = [make_example(nlp, *row) for row in TRAIN]
    optimizer = nlp.initialize(lambda: examples)
    losses = []
    for _ in range(40):
        step: dict[str, float] = {}
        nlp.update(examples, sgd=optimizer, losses=step)
        losses.append(step["kgx_relation_extractor"])
    assert losses[-1] < losses[0] / 10
    for eg in examples:
        doc = annotate(nlp, with_gold_ents(nlp, eg))
        assert {(r["head"], r["tail"], r["label"]) for r in raw_relations(doc)} == {
            (r["head"], r["tail"], r["label"]) for r in raw_relations(eg.reference)}
    nlp.to_disk(tmp_path / "v2")
    loaded = spacy.load(tmp_path / "v2")
    doc = annotate(loaded, with_gold_ents(loaded, examples[0]))
    assert {r["label"] for r in raw_relations(doc)} == {"Work_For", "OrgBased_In"}


def test_type_constraints_keep_labels_to_the_types_seen_in_training(trained, tmp_path):
    nlp, examples, _ = trained
    rel = nlp.get_pipe("kgx_relation_extractor")
    assert rel.cfg["signatures"] == {
        "Live_In": [["PER", "LOC"]], "Located_In": [["LOC", "LOC"]],
        "OrgBased_In": [["ORG", "LOC"]], "Work_For": [["PER", "ORG"]]}
    # "Acme" typed PER: Work_For (PER -> ORG) was never seen between two PERs
    doc = nlp.make_doc("Maria Lopez works for Acme in Paris .")
    doc.ents = [doc.char_span(0, 11, label="PER"), doc.char_span(22, 26, label="PER"),
                doc.char_span(30, 35, label="LOC")]
    doc = nlp.get_pipe("sentencizer")(doc)
    cands, free = rel.predict([doc])
    assert rel.type_constraints is False
    rel.type_constraints = True
    try:
        _, typed = rel.predict([doc])
    finally:
        rel.type_constraints = False
    labels = list(rel.labels)
    for r, (h, t) in enumerate(cands[0].pairs.tolist()):
        pair = (doc.ents[h].label_, doc.ents[t].label_)
        for c, label in enumerate(labels):
            expected = free[r, c] if list(pair) in rel.cfg["signatures"][label] else 0.0
            assert typed[r, c] == expected
    assert (typed == 0).sum() > (free == 0).sum()
    # the signatures travel with the component; the switch comes from the config
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p",
                        config={"components": {"kgx_relation_extractor":
                                               {"type_constraints": True}}})
    lrel = loaded.get_pipe("kgx_relation_extractor")
    assert lrel.type_constraints is True and lrel.cfg["signatures"] == rel.cfg["signatures"]
    _, reloaded = lrel.predict([doc])
    numpy.testing.assert_allclose(reloaded, typed, rtol=1e-6, atol=1e-7)


def test_type_constraints_allow_a_label_without_signatures():
    nlp = blank_pipeline()
    rel = nlp.get_pipe("kgx_relation_extractor")
    rel.type_constraints = True
    for label in ("A", "B"):
        rel.add_label(label)
    rel.cfg["signatures"] = {"A": [["PER", "ORG"]]}
    hashes = [nlp.vocab.strings.add(s) for s in ("PER", "ORG", "LOC")]
    types = numpy.array([[hashes[0], hashes[1]], [hashes[0], hashes[2]]], dtype="uint64")
    assert rel._allowed(types).tolist() == [[1.0, 1.0], [0.0, 1.0]]


def test_documents_side_by_side_give_the_scores_of_one_thread(monkeypatch):
    # with more than one thread the documents' products run side by side, one thread each:
    # the same calls as on one thread, so the same digits, in the documents' order
    import threading

    from kgx.pipeline import model as relation_model

    model = _relation_model(True)
    tokvecs, cands = _random_docs([3, 0, 170, 1, 40, 60, 2], seed=2)
    seen: set[str] = set()
    real = relation_model._predict_doc

    def spy(*args, **kwargs):
        seen.add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(relation_model, "_predict_doc", spy)
    monkeypatch.setattr(relation_model, "_threads", lambda: 1)
    one = _predict_pairs(model, tokvecs, cands)
    assert seen == {threading.current_thread().name}
    seen.clear()
    monkeypatch.setattr(relation_model, "_threads", lambda: 2)
    two = _predict_pairs(model, tokvecs, cands)
    assert seen and all(name.startswith("kgx-relations") for name in seen)
    assert numpy.array_equal(one, two)
    assert not any(t.name.startswith("kgx-relations") for t in threading.enumerate())


def test_relation_threads_follow_torch_and_do_not_import_it(monkeypatch):
    # a pipeline without a transformer never loads torch: the classifier then runs on one
    # thread rather than importing it (its memory, its OpenMP pool in n_process children)
    import sys

    import torch

    from kgx.pipeline.model import _threads

    assert _threads() == torch.get_num_threads()
    monkeypatch.delitem(sys.modules, "torch")
    assert _threads() == 1
    assert "torch" not in sys.modules


def test_inference_scores_do_not_depend_on_the_blas_threads(fixture_model, tmp_path):
    # a Dask worker or a --n-process child runs with one BLAS thread, a local run with all
    # cores: the relation scores must be the same to the last bit. With numpy's OpenBLAS
    # product they differed in the 7th digit for a third of the pairs (2 cores, one thread
    # against two).
    import json
    import os
    import subprocess
    import sys

    from test_batch import make_corpus

    corpus = make_corpus(tmp_path / "c.jsonl", 60)
    texts = [json.loads(line)["text"] for line in corpus.read_text().splitlines()]
    script = ("import json, sys, spacy\n"
              "nlp = spacy.load(sys.argv[1])\n"
              "texts = json.load(open(sys.argv[2]))\n"
              "print(json.dumps([[r['score'] for r in d._.kgx_relations]"
              " for d in nlp.pipe(texts)]))\n")
    (tmp_path / "texts.json").write_text(json.dumps(texts))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    one = subprocess.run([sys.executable, "-c", script, str(fixture_model),
                          str(tmp_path / "texts.json")], env=env, check=True,
                         capture_output=True, text=True)
    nlp = spacy.load(fixture_model)
    here = [[r["score"] for r in d._.kgx_relations] for d in nlp.pipe(texts)]
    assert sum(len(s) for s in here) > 1000
    assert json.loads(one.stdout) == json.loads(json.dumps(here))


def test_whitespace_tokens_count_in_no_relation_feature():
    """A line break inside a sentence (hard-wrapped text) is a token of its own; the relation
    features read the words only: the same logits, training and inference, as the sentence
    without it, and no gradient into the whitespace rows."""
    from helpers import fixed_tok2vec
    from kgx.pipeline.candidates import Candidates
    from kgx.pipeline.model import build_relation_model_v2

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    plain = nlp("Maria Lopez works for Acme in Paris .")
    wrapped = nlp("Maria Lopez works\nfor Acme \n in\nParis .")
    assert [t.text for t in wrapped if not t.is_space] == [t.text for t in plain]
    assert sum(t.is_space for t in wrapped) == 3
    rng = numpy.random.default_rng(0)
    words = rng.normal(size=(len(plain), 8)).astype("float32")
    vectors = {plain.text: words}
    rows = numpy.zeros((len(wrapped), 8), dtype="float32")
    rows[[not t.is_space for t in wrapped]] = words
    rows[[t.is_space for t in wrapped]] = rng.normal(size=(3, 8))  # anything: must not count
    vectors[wrapped.text] = rows
    grads: dict[str, numpy.ndarray] = {}

    stub = fixed_tok2vec(vectors, grads, 8)
    model = build_relation_model_v2(stub, hidden_width=16, type_width=4, distance_width=4,
                                    dropout=0.0, nO=3)
    cands = {}
    for doc in (plain, wrapped):
        doc.ents = [doc.char_span(doc.text.index(w), doc.text.index(w) + len(w), label=lab)
                    for w, lab in [("Maria", "PER"), ("Acme", "ORG"), ("Paris", "LOC")]]
        cands[doc.text] = Candidates.from_pairs(list(doc.ents), [(0, 1), (1, 2), (0, 2), (2, 0)])
    model.initialize(X=([plain], [cands[plain.text]]))
    a = model.predict(([plain], [cands[plain.text]]))
    b = model.predict(([wrapped], [cands[wrapped.text]]))
    numpy.testing.assert_array_equal(a, b)
    out_a, bp_a = model.begin_update(([plain], [cands[plain.text]]))
    out_b, bp_b = model.begin_update(([wrapped], [cands[wrapped.text]]))
    numpy.testing.assert_allclose(out_a, out_b, rtol=1e-6, atol=1e-6)
    d = numpy.ones_like(out_a)
    bp_a(d)
    bp_b(d)
    g_wrapped = grads[wrapped.text]
    assert not g_wrapped[[t.is_space for t in wrapped]].any()
    numpy.testing.assert_allclose(g_wrapped[[not t.is_space for t in wrapped]],
                                  grads[plain.text], rtol=1e-5, atol=1e-6)
