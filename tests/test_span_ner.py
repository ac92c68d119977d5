"""kgx_span_ner: span classification into doc.ents, trained from doc.ents."""

from __future__ import annotations

import numpy
import pytest
import spacy
import srsly
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed, registry
from thinc.types import Ragged

from kgx.pipeline.span_ner import SPANS_KEY

DATA = [
    ("Alice Smith works for Acme Corp in Paris .",
     [(0, 11, "PER"), (22, 31, "ORG"), (35, 40, "LOC")]),
    ("Bob visited Berlin with Carol .", [(0, 3, "PER"), (12, 18, "LOC"), (24, 29, "PER")]),
    ("The Acme Corp office in Berlin closed .", [(4, 13, "ORG"), (24, 30, "LOC")]),
    ("Carol Jones left Initech for Paris .", [(0, 11, "PER"), (17, 24, "ORG"), (29, 34, "LOC")]),
]


def _examples(nlp):
    return [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in DATA]


def _trained(steps: int = 80, **config):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("kgx_span_ner", config=config)
    examples = _examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer)
    return nlp, examples


def _ents(doc: Doc) -> list[tuple[str, str]]:
    return [(e.text, e.label_) for e in doc.ents]


def test_registered_through_entry_points():
    assert "kgx_span_ner" in registry._entry_point_factories.get_all()


def test_learns_and_writes_non_overlapping_ents(tmp_path):
    nlp, examples = _trained()
    assert nlp.get_pipe("kgx_span_ner").labels == ("LOC", "ORG", "PER")
    scores = nlp.evaluate(examples)
    assert scores["ents_f"] == pytest.approx(1.0)
    doc = nlp(DATA[0][0])
    assert _ents(doc) == [("Alice Smith", "PER"), ("Acme Corp", "ORG"), ("Paris", "LOC")]
    # the spans (with their probabilities) stay under their key; they never overlap
    group = doc.spans[SPANS_KEY]
    assert len(group.attrs["scores"]) == len(group) == 3
    assert all(0.5 < s <= 1.0 for s in group.attrs["scores"])
    nlp.to_disk(tmp_path / "p")
    again = spacy.load(tmp_path / "p")
    assert [_ents(d) for d in again.pipe(t for t, _ in DATA)] == \
        [_ents(d) for d in nlp.pipe(t for t, _ in DATA)]


def test_entities_longer_than_the_suggester_are_not_proposed():
    nlp, _ = _trained(suggester={"@misc": "spacy.ngram_range_suggester.v1",
                                 "min_size": 1, "max_size": 1})
    assert all(len(e) == 1 for t, _ in DATA for e in nlp(t).ents)


def test_gold_entities_are_aligned_onto_other_tokens():
    nlp = spacy.blank("en")
    nlp.add_pipe("kgx_span_ner")
    # the reference tokenises "Acme-Corp" as one token, the prediction as three
    words, spaces = ["Ann", "joined", "Acme-Corp", "today"], [True, True, True, False]
    ref = Doc(nlp.vocab, words=words, spaces=spaces, ents=["B-PER", "O", "B-ORG", "O"])
    eg = Example(nlp.make_doc("Ann joined Acme-Corp today"), ref)
    assert len(eg.predicted) == 6
    aligned = nlp.get_pipe("kgx_span_ner")._get_aligned_spans(eg)
    assert [(s.text, s.label_) for s in aligned] == [("Ann", "PER"), ("Acme-Corp", "ORG")]


def test_no_entity_labels_is_a_clear_error():
    nlp = spacy.blank("en")
    nlp.add_pipe("kgx_span_ner")
    examples = [Example.from_dict(nlp.make_doc("nothing here"), {})]
    with pytest.raises(ValueError, match="kgx_span_ner: no entity labels"):
        nlp.initialize(lambda: examples)


@pytest.mark.parametrize("scale", [0.0, 1.0])
def test_learn_rate_scale_reaches_the_weights(scale):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("kgx_span_ner", config={"learn_rate_scale": scale})
    examples = _examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    before = [p.copy() for node in pipe.model.walk() for name in node.param_names
              if node.has_param(name) for p in [node.get_param(name)]]
    nlp.update(examples, sgd=optimizer)
    after = [node.get_param(name) for node in pipe.model.walk() for name in node.param_names
             if node.has_param(name)]
    changed = any(not numpy.array_equal(b, a) for b, a in zip(before, after, strict=True))
    assert changed is (scale > 0)


def test_relations_follow_the_span_recogniser():
    nlp, examples = _trained()
    nlp.add_pipe("kgx_relation_extractor")
    assert nlp.analyze_pipes()["problems"]["kgx_relation_extractor"] == []


def _reducer(registered_as: dict, **kw):
    return registry.resolve({"m": {**registered_as, "hidden_size": 8, **kw}})["m"]


def test_span_reducer_sees_the_width():
    # spans [v] and [v, v] pool to the same first/last/mean/max: only the width tells them apart
    v = numpy.random.default_rng(0).random((1, 6), dtype="float32")
    X = Ragged(numpy.concatenate([v, v, v]), numpy.array([1, 2], dtype="int32"))
    plain = _reducer({"@layers": "spacy.mean_max_reducer.v1"})
    plain.initialize(X=X)
    out = plain.predict(X)
    assert numpy.allclose(out[0], out[1])
    ours = _reducer({"@architectures": "kgx.SpanReducer.v1"}, width_size=4, max_width=3)
    ours.initialize(X=X)
    out = ours.predict(X)
    assert not numpy.allclose(out[0], out[1])


def test_span_width_gradient_goes_to_the_spans_rows():
    X = Ragged(numpy.ones((9, 6), dtype="float32"), numpy.array([1, 3, 5], dtype="int32"))
    model = _reducer({"@architectures": "kgx.SpanReducer.v1"}, width_size=4, max_width=3)
    model.initialize(X=X)
    out, backprop = model.begin_update(X)
    dX = backprop(numpy.ones_like(out))
    assert dX.dataXd.shape == (9, 6)
    table = next(n for n in model.walk() if n.name == "span_width_embed")
    grad = table.get_grad("E")
    used = numpy.abs(grad).sum(axis=1) > 0
    assert used.tolist() == [False, True, False, True]  # width 5 shares the last row with 3


def test_entities_already_set_are_kept():
    nlp, _ = _trained()
    ruler = nlp.add_pipe("entity_ruler", before="kgx_span_ner")
    ruler.add_patterns([{"label": "LOC", "pattern": "Acme Corp"}])
    doc = nlp(DATA[0][0])
    # the ruler's span stays; the recogniser's non-overlapping spans join it
    assert _ents(doc) == [("Alice Smith", "PER"), ("Acme Corp", "LOC"), ("Paris", "LOC")]
    assert ("Acme Corp", "ORG") in [(s.text, s.label_) for s in doc.spans[SPANS_KEY]]


def test_whitespace_is_never_part_of_an_entity():
    """A span the model labels is written without its whitespace edges; one that is only
    whitespace is never written (a text's trailing newline had become an ORG: issue 18)."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("kgx_span_ner")
    ner.add_label("ORG")
    doc = nlp.make_doc("Acme\n\nmakes tools .\n")
    assert doc[1].is_space and doc[-1].is_space
    # the decoder's input: "Acme\n\n", the final "\n" and "tools", all labelled ORG
    indices = Ragged(numpy.asarray([[0, 2], [len(doc) - 1, len(doc)], [3, 4]], dtype="i"),
                     numpy.asarray([3], dtype="i"))
    scores = numpy.asarray([[0.9, 0.1], [0.95, 0.05], [0.8, 0.2]], dtype="f")
    ner.set_annotations([doc], (indices, scores))
    assert _ents(doc) == [("Acme", "ORG"), ("tools", "ORG")]


def _decide(entity_threshold, rows):
    # the component's decision on hand-made scores: rows of (start, end, P(A), P(B), P(none))
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("kgx_span_ner", config={"entity_threshold": entity_threshold})
    for label in ("A", "B"):
        ner.add_label(label)
    doc = nlp.make_doc("w0 w1 w2 w3 w4 w5")
    indices = numpy.array([r[:2] for r in rows], dtype="int32")
    scores = numpy.array([r[2:] for r in rows], dtype="float32")
    assert ner._negative_label_i == 2
    group = ner._make_span_group_singlelabel(doc, indices, scores, allow_overlap=False)
    return sorted((s.start, s.end, s.label_) for s in group), group


ROWS = [
    (0, 1, 0.35, 0.25, 0.40),  # more likely an entity than not, yet "none" is the argmax
    (1, 2, 0.20, 0.25, 0.55),  # an entity with 0.45: below 0.5
    (2, 4, 0.10, 0.80, 0.10),  # the surest entity: wins its overlap
    (3, 5, 0.70, 0.00, 0.30),  # overlaps (2, 4)
    (5, 6, 0.05, 0.05, 0.90),
]


def test_argmax_decides_without_an_entity_threshold():
    found, _ = _decide(None, ROWS)
    assert found == [(2, 4, "B")]


def test_entity_threshold_keeps_spans_more_likely_entities_than_not():
    found, group = _decide(0.5, ROWS)
    assert found == [(0, 1, "A"), (2, 4, "B")]
    assert sorted(group.attrs["scores"].tolist()) == pytest.approx([0.6, 0.9])
    found, _ = _decide(0.4, ROWS)
    assert found == [(0, 1, "A"), (1, 2, "B"), (2, 4, "B")]
    found, _ = _decide(0.95, ROWS)
    assert found == []


def test_entity_threshold_is_saved_and_checked(tmp_path):
    nlp, _ = _trained(steps=5, entity_threshold=0.3)
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert loaded.get_pipe("kgx_span_ner").entity_threshold == pytest.approx(0.3)
    # the config decides at load time, as for any factory setting
    loaded = spacy.load(tmp_path / "p",
                        config={"components": {"kgx_span_ner": {"entity_threshold": None}}})
    assert loaded.get_pipe("kgx_span_ner").entity_threshold is None
    with pytest.raises(ValueError, match="entity_threshold must be in"):
        spacy.blank("en").add_pipe("kgx_span_ner", config={"entity_threshold": 1.5})


EDGE_DATA = [
    ("Bob flew to the Hague on Monday .", [(0, 3, "PER"), (12, 21, "LOC")]),
    ("Carol met Dave of Initech in Paris , said Bob .",
     [(0, 5, "PER"), (10, 14, "PER"), (18, 25, "ORG"), (29, 34, "LOC"), (42, 45, "PER")]),
]


def _edge_trained(steps: int = 30, data: list = EDGE_DATA, **config):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("kgx_span_ner", config=config)
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in data]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer)
    return nlp, ner, examples


def _function(token) -> bool:
    """The filters' rule, written out token by token: the reference the tests check against."""
    return token.is_punct or (token.is_stop and not token.is_upper)


def _spans(ragged: Ragged) -> list[tuple[int, int]]:
    return [tuple(row) for row in numpy.asarray(ragged.dataXd).reshape(-1, 2).tolist()]


def test_edge_filter_learns_the_function_words_at_entity_edges():
    _, ner, _ = _edge_trained(steps=1)
    # "the" starts a training entity: spared; nothing ends with a function word
    assert ner.cfg["edge_first"] == ["the"]
    assert ner.cfg["edge_last"] == []


def test_edge_filter_drops_exactly_the_spans_with_unseen_function_word_edges():
    nlp, ner, _ = _edge_trained(steps=1, edge_filter=True)
    doc = nlp.make_doc("Eve of the Hague , and the Acme board said so .")
    every = _spans(ner.suggester([doc], ops=ner.model.ops))
    kept = _spans(ner.candidate_spans([doc]))

    expected = [(s, e) for s, e in every
                if not (_function(doc[s]) and doc[s].lower_ != "the")
                and not _function(doc[e - 1])]
    assert kept == expected
    assert (2, 4) in kept and (0, 1) in kept  # "the Hague", "Eve"
    assert (1, 4) not in kept and (3, 5) not in kept  # "of the Hague", "Hague ,"
    assert len(kept) < len(every) / 2
    # capitals are not function words: "US" is a name more often than a pronoun
    us = nlp.make_doc("US troops")
    assert _spans(ner.candidate_spans([us])) == [(0, 1), (1, 2), (0, 2)]
    ner.edge_filter = False
    assert _spans(ner.candidate_spans([doc])) == every


def test_edge_filter_prunes_prediction_only_and_keeps_the_entities(tmp_path):
    nlp, ner, examples = _edge_trained(steps=60, edge_filter=True)
    texts = [t for t, _ in EDGE_DATA]
    docs = [nlp.make_doc(t) for t in texts]
    pruned, _ = ner.predict(docs)
    with_filter = [[(e.text, e.label_) for e in d.ents] for d in nlp.pipe(texts)]
    ner.edge_filter = False
    every, _ = ner.predict(docs)
    without = [[(e.text, e.label_) for e in d.ents] for d in nlp.pipe(texts)]
    assert with_filter == without
    assert with_filter[0] == [("Bob", "PER"), ("the Hague", "LOC")]
    assert len(pruned.dataXd) < len(every.dataXd) / 2
    # training scores every span the suggester makes: the filter is not in its path
    ner.edge_filter = True
    calls = []
    ner.candidate_spans = lambda docs: calls.append(docs)
    nlp.update(examples)
    assert calls == []
    del ner.candidate_spans
    # the learned words and the switch are saved; the config decides at load time
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert loaded.get_pipe("kgx_span_ner").edge_filter is True
    assert loaded.get_pipe("kgx_span_ner").cfg["edge_first"] == ["the"]
    off = spacy.load(tmp_path / "p",
                     config={"components": {"kgx_span_ner": {"edge_filter": False}}})
    assert off.get_pipe("kgx_span_ner").edge_filter is False


def test_edge_words_are_learned_without_another_pass_over_the_examples():
    # each pass over a shuffling training corpus draws random numbers: one more pass for the
    # edge words would change the training of every seed that follows
    def calls(factory: str, **config) -> int:
        nlp = spacy.blank("en")
        nlp.add_pipe(factory, config=config)
        examples = [Example.from_dict(nlp.make_doc(t), {"entities": e, "spans": {"sc": e}})
                    for t, e in EDGE_DATA]
        count = []
        nlp.initialize(lambda: (count.append(1), examples)[1])
        return len(count)

    spacy_spancat = calls("spancat_singlelabel")
    # kgx's two more passes, as before the edge words: spaCy's check that these are Examples,
    # and the labels from doc.ents (spaCy's spancat reads them from doc.spans in its own)
    assert calls("kgx_span_ner") == spacy_spancat + 2
    assert calls("kgx_span_ner", edge_filter=True) == spacy_spancat + 2


def test_edge_filter_on_a_pipeline_without_learned_words_says_so(tmp_path, caplog):
    nlp, ner, _ = _edge_trained(steps=1)
    nlp.to_disk(tmp_path / "p")
    # a pipeline saved before kgx learned edge words has none in its cfg
    cfg = tmp_path / "p" / "kgx_span_ner" / "cfg"
    saved = srsly.read_json(cfg)
    for key in ("edge_first", "edge_last"):
        del saved[key]
    srsly.write_json(cfg, saved)
    old = spacy.load(tmp_path / "p",
                     config={"components": {"kgx_span_ner": {"edge_filter": True}}})
    pipe = old.get_pipe("kgx_span_ner")
    doc = old.make_doc("Bob flew to the Hague .")
    with caplog.at_level("WARNING", logger="kgx"):
        kept = _spans(pipe.candidate_spans([doc]))
        pipe.candidate_spans([doc])
    # once, not at every batch
    warned = [r.getMessage() for r in caplog.records if "edge words" in r.getMessage()]
    assert len(warned) == 1 and "no learned edge words" in warned[0]
    assert (3, 5) not in kept  # "the Hague": nothing spares "the"
    pipe.learn_edge_words([Example.from_dict(old.make_doc(t), {"entities": e})
                           for t, e in EDGE_DATA])
    assert (3, 5) in _spans(pipe.candidate_spans([doc]))


INNER_DATA = [*EDGE_DATA,
              ("Ann joined the Bank of America .", [(0, 3, "PER"), (15, 30, "ORG")])]


def test_inner_filter_drops_exactly_the_spans_with_unseen_function_words_inside():
    nlp, ner, _ = _edge_trained(steps=0, data=INNER_DATA, inner_filter=True)
    assert ner.cfg["edge_inner"] == ["of"]  # "Bank of America"
    assert ner.cfg["edge_first"] == ["the"] and ner.cfg["edge_last"] == []
    doc = nlp.make_doc("Eve of Acme said that the Bank of America , in Ohio , is big .")
    every = _spans(ner.suggester([doc], ops=ner.model.ops))
    kept = _spans(ner.candidate_spans([doc]))

    expected = [(s, e) for s, e in every
                if not any(_function(t) and t.lower_ != "of" for t in doc[s + 1:e - 1])]
    assert kept == expected
    # "Bank of America", "Eve of Acme", "the Bank of America" (its edge: the edge filter's)
    assert (6, 9) in kept and (0, 3) in kept and (5, 9) in kept
    assert (8, 11) not in kept and (3, 6) not in kept  # "America , in", "said that the"
    assert (9, 10) in kept and (8, 10) in kept  # no inside: edges are the edge filter's
    assert len(kept) < len(every)
    # with the edge filter too: the spans both keep
    ner.edge_filter = True
    both = _spans(ner.candidate_spans([doc]))
    ner.inner_filter = False
    edges = _spans(ner.candidate_spans([doc]))
    assert both == [span for span in edges if span in kept] and len(both) < len(edges)
    ner.edge_filter = False
    assert _spans(ner.candidate_spans([doc])) == every


def test_inner_filter_on_a_pipeline_without_learned_inner_words_says_so(tmp_path, caplog):
    nlp, ner, _ = _edge_trained(steps=0, data=INNER_DATA)
    nlp.to_disk(tmp_path / "p")
    cfg = tmp_path / "p" / "kgx_span_ner" / "cfg"
    saved = srsly.read_json(cfg)
    del saved["edge_inner"]  # saved before kgx learned inner words
    srsly.write_json(cfg, saved)
    old = spacy.load(tmp_path / "p",
                     config={"components": {"kgx_span_ner": {"inner_filter": True}}})
    pipe = old.get_pipe("kgx_span_ner")
    assert pipe.inner_filter is True
    doc = old.make_doc("Eve of Acme said that , in Ohio .")
    with caplog.at_level("WARNING", logger="kgx"):
        kept = _spans(pipe.candidate_spans([doc]))
        pipe.candidate_spans([doc])
    warned = [r.getMessage() for r in caplog.records if "inner words" in r.getMessage()]
    assert len(warned) == 1 and "no learned inner words" in warned[0]
    # off, not "every function word inside": that would drop "Bank of America"
    assert kept == _spans(pipe.suggester([doc], ops=pipe.model.ops))


def test_train_edge_filter_trains_on_the_spans_the_filter_keeps():
    nlp, ner, examples = _edge_trained(steps=1, edge_filter=True)
    docs = [eg.predicted for eg in examples]
    seen = []
    get_loss = ner.get_loss

    def counting(egs, spans_scores):
        seen.append(len(spans_scores[0].dataXd))
        return get_loss(egs, spans_scores)

    ner.get_loss = counting
    suggester = ner.suggester
    nlp.update(examples)
    ner.train_edge_filter = True
    nlp.update(examples)
    assert seen == [len(ner.suggester(docs, ops=ner.model.ops).dataXd),
                    len(ner.candidate_spans(docs).dataXd)]
    assert seen[1] < seen[0]
    # the edge filter only, not the inner filter too (its effect on training is not measured)
    ner.inner_filter = True
    nlp.update(examples)
    assert len(ner.candidate_spans(docs).dataXd) < seen[2] == seen[1]
    # the component's suggester is its own again after the update
    assert ner.suggester is suggester
