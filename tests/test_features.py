"""kgx.WithLexicalFeatures.v1: case and affix features beside an uncased encoder."""

from __future__ import annotations

import numpy
import pytest
import spacy
from spacy.training import Example
from spacy.util import fix_random_seed, registry
from thinc.api import Adam

# a case-blind stand-in for the uncased transformer: it sees only the lower-cased form
CASE_BLIND = {
    "@architectures": "spacy.Tok2Vec.v2",
    "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": 32, "attrs": ["LOWER"],
              "rows": [500], "include_static_vectors": False},
    "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 32, "depth": 1,
               "window_size": 1, "maxout_pieces": 2},
}


def _wrapped(width: int = 16) -> dict:
    return {"@architectures": "kgx.WithLexicalFeatures.v1", "width": width,
            "tok2vec": CASE_BLIND}


def _resolve(cfg: dict):
    return registry.resolve({"m": cfg})["m"]


def test_registered_through_entry_points():
    assert registry.architectures.get("kgx.WithLexicalFeatures.v1") is not None


def test_output_adds_width_columns_and_sees_case():
    nlp = spacy.blank("en")
    docs = [nlp("Apple sold apple pies"), nlp("Apple"), nlp("apple")]
    blind, wrapped = _resolve(CASE_BLIND), _resolve(_wrapped(16))
    blind.initialize(X=docs)
    wrapped.initialize(X=docs)
    assert wrapped.get_dim("nO") == 32 + 16
    out = wrapped.predict(docs)
    assert [a.shape for a in out] == [(4, 48), (1, 48), (1, 48)]
    inner = blind.predict(docs)
    assert numpy.allclose(inner[1], inner[2])  # the stand-in cannot tell them apart
    own = wrapped.get_ref("tok2vec").predict(docs)
    assert all(numpy.allclose(o[:, :32], i) for o, i in zip(out, own, strict=True))
    assert not numpy.allclose(out[1], out[2])  # the wrapped model can


def test_inference_in_torch_gives_thincs_numbers(monkeypatch):
    # at inference the lexical features' Maxout and LayerNorm run in torch, all docs at once:
    # the numbers of thinc's layers, doc by doc
    from kgx.pipeline import features

    nlp = spacy.blank("en")
    docs = [nlp("Apple sold apple pies in Cupertino ."), nlp("IBM"), nlp(""),
            nlp("the ﬁrst Glo-\nbex")]
    model = _resolve(_wrapped(16))
    model.initialize(X=docs)
    got = model.predict(docs)
    assert features._infer_lexical(model.get_ref("lexical"), docs) is not None
    monkeypatch.setattr(features, "_infer_lexical", lambda lexical, docs: None)
    expected = model.predict(docs)
    shapes = [(7, 48), (1, 48), (0, 48), (5, 48)]
    assert [a.shape for a in got] == [a.shape for a in expected] == shapes
    for a, b in zip(got, expected, strict=True):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert numpy.abs(numpy.concatenate(expected)[:, 32:]).max() > 0.1


def test_joined_rows_take_an_empty_docs_shapeless_encoder_rows():
    # spacy-transformers' listener gives an empty doc a (0, 0) array
    from thinc.api import NumpyOps

    from kgx.pipeline.features import _joined

    encoded = [numpy.ones((2, 3), dtype="f"), numpy.zeros((0, 0), dtype="f"),
               numpy.full((1, 3), 2.0, dtype="f")]
    lexical = numpy.arange(12, dtype="f").reshape(3, 4)
    rows = _joined(NumpyOps(), encoded, lexical)
    assert [r.shape for r in rows] == [(2, 7), (0, 7), (1, 7)]
    assert rows[0][:, :3].tolist() == [[1.0] * 3] * 2 and rows[2][0, :3].tolist() == [2.0] * 3
    assert numpy.concatenate(rows)[:, 3:].tolist() == lexical.tolist()


def test_another_lexical_layer_runs_as_thincs(monkeypatch):
    from kgx.pipeline import features

    nlp = spacy.blank("en")
    docs = [nlp("Apple sold apple pies")]
    model = _resolve(_wrapped(16))
    model.initialize(X=docs)
    assert features._infer_lexical(model.get_ref("tok2vec"), docs) is None


def test_gradient_reaches_both_parts():
    nlp = spacy.blank("en")
    docs = [nlp("Apple sold apple pies")]
    model = _resolve(_wrapped(16))
    model.initialize(X=docs)
    params = [(node, name, node.get_param(name).copy())
              for node in model.walk() for name in node.param_names if node.has_param(name)]
    out, backprop = model.begin_update(docs)
    backprop([numpy.ones_like(a) for a in out])
    model.finish_update(Adam(0.01))
    changed = {id(node) for node, name, old in params
               if not numpy.allclose(old, node.get_param(name))}
    assert any(id(n) in changed for n in model.get_ref("tok2vec").walk())
    assert any(id(n) in changed for n in model.get_ref("lexical").walk())


def test_attrs_and_rows_must_pair_up():
    with pytest.raises(ValueError, match="3 attrs but 2 rows"):
        _resolve({"@architectures": "kgx.WithLexicalFeatures.v1", "tok2vec": CASE_BLIND,
                  "attrs": ["NORM", "SHAPE", "PREFIX"], "rows": [100, 100]})


def _case_task(nlp):
    # "Apple" (capitalised) is the organisation, "apple" the fruit, in mirrored contexts,
    # so only case tells them apart
    rows = ["Apple and apple .", "apple and Apple .", "apple or Apple", "Apple or apple"]
    examples = []
    for text in rows:
        doc = nlp.make_doc(text)
        ents = [(t.idx, t.idx + len(t), "ORG") for t in doc if t.text == "Apple"]
        examples.append(Example.from_dict(doc, {"entities": ents}))
    return examples


def _train_ner(tok2vec: dict):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner",
        "extra_state_tokens": False, "hidden_width": 32, "maxout_pieces": 2,
        "use_upper": True, "tok2vec": tok2vec}})
    examples = _case_task(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(30):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    return nlp, examples


def _ents(nlp, examples):
    return [[(e.text, e.start) for e in nlp(eg.reference.text).ents] for eg in examples]


def test_ner_learns_case_only_with_the_features(tmp_path):
    gold = [[("Apple", 0)], [("Apple", 2)], [("Apple", 2)], [("Apple", 0)]]
    blind, examples = _train_ner(CASE_BLIND)
    assert _ents(blind, examples) != gold
    nlp, examples = _train_ner(_wrapped(16))
    assert _ents(nlp, examples) == gold
    nlp.to_disk(tmp_path / "ner")
    assert _ents(spacy.load(tmp_path / "ner"), examples) == gold
