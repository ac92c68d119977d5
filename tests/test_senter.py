"""A trained sentence segmenter: `spacy train configs/kgx_senter.cfg` learns where a corpus's
records begin when punctuation does not say it, and configs/kgx_trf_senter.cfg puts it in front
of a trained kgx pipeline."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import spacy
import torch
from spacy.util import load_config, load_model_from_config

from helpers import TRAIN, make_example
from kgx.corpus import assemble_documents, read_docs

FIRST = ["Anna", "Karl", "Maria", "Omar", "Lena", "Ivan"]
LAST = ["Berg", "Weiss", "Costa", "Haddad", "Novak", "Kim"]
VERBS = ["visits", "lives in", "works for a bank in", "moved to", "was born in"]
PLACES = ["Rome", "Oslo", "Lima", "Cairo", "Quito", "Perth"]


def _records(path: Path, seed: int, n: int) -> Path:
    """Records without a final period, as CoNLL04's fragments are: only the corpus says where
    one ends (a first name starts each)."""
    rng = random.Random(seed)
    path.write_text("".join(
        json.dumps({"text": f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(VERBS)} "
                            f"{rng.choice(PLACES)}"}) + "\n" for _ in range(n)), encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")


def _torch_weights(nlp) -> dict:
    """The encoder's weights (its saved bytes also hold torch's archive, not byte-stable)."""
    shims = [s for node in nlp.get_pipe("transformer").model.walk() for s in node.shims]
    return shims[0]._model.state_dict()


def _starts(doc) -> set[int]:
    return {s.start_char for s in doc.sents if s.start_char > 0}


@pytest.fixture(scope="module")
def senter_corpus(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("senter")
    return _records(root / "train.jsonl", 0, 90), _records(root / "dev.jsonl", 1, 30)


@pytest.fixture(scope="module")
def trained_senter(repo_root, senter_corpus, tmp_path_factory) -> Path:
    train, dev = senter_corpus
    out = tmp_path_factory.mktemp("senter-out")
    run = subprocess.run(
        [sys.executable, "-m", "spacy", "train", str(repo_root / "configs" / "kgx_senter.cfg"),
         "--output", str(out), "--paths.train", str(train), "--paths.dev", str(dev),
         "--training.max_epochs", "40"],
        capture_output=True, text=True, env=_env(), timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return out / "model-last"


@pytest.mark.slow
def test_senter_config_learns_where_the_corpus_records_begin(trained_senter, senter_corpus):
    nlp = spacy.load(trained_senter)
    assert nlp.pipe_names == ["senter"]
    rule = spacy.blank("en")
    rule.add_pipe("sentencizer")
    docs = list(assemble_documents(read_docs(senter_corpus[1], vocab=nlp.vocab), 5))
    gold = [_starts(d) for d in docs]
    assert sum(map(len, gold)) == 24  # 30 records in 6 documents: 24 joins

    def found(seg) -> tuple[int, int]:
        pred = [_starts(seg(d.text)) for d in docs]
        return sum(len(g & p) for g, p in zip(gold, pred, strict=True)), sum(map(len, pred))

    hits, predicted = found(nlp)
    assert hits >= 22 and predicted <= hits + 2, (hits, predicted)
    assert found(rule) == (0, 0)  # no punctuation: the rules see one sentence


@pytest.mark.slow
def test_trf_senter_config_puts_the_senter_in_front_of_a_trained_pipeline(
        repo_root, minilm_path, trained_senter, tmp_path):
    config = load_config(repo_root / "configs" / "kgx_demo.cfg", interpolate=True)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    examples = [make_example(nlp, *row) for row in TRAIN]
    nlp.initialize(lambda: examples)
    source = tmp_path / "source"
    nlp.to_disk(source)
    out = tmp_path / "assembled"
    run = subprocess.run(
        [sys.executable, "-m", "spacy", "assemble",
         str(repo_root / "configs" / "kgx_trf_senter.cfg"), str(out),
         "--paths.source", str(source), "--paths.senter", str(trained_senter)],
        capture_output=True, text=True, env=_env(), timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assembled = spacy.load(out)
    assert assembled.pipe_names == ["senter", "kgx_punct_boundaries", "kgx_layout_boundaries",
                                    "transformer", "ner", "kgx_relation_extractor"]
    senter = spacy.load(trained_senter)
    # the senter's two joins, and the rules' split after "Rome."
    text = "Anna Berg visits Rome. Then Oslo Karl Weiss lives in Oslo Maria Costa moved to Lima"
    doc = assembled(text)
    assert doc.has_annotation("SENT_START")
    learnt = _starts(senter(text))
    assert {text.index("Karl"), text.index("Maria")} <= learnt
    assert _starts(doc) == learnt | {text.index("Then")}
    # the other components are the source's, weights unchanged: given the same boundaries,
    # the source pipeline (whose sentencizer keeps them) predicts the same
    source_nlp = spacy.load(source)
    for name in ("ner", "kgx_relation_extractor"):
        assert assembled.get_pipe(name).model.to_bytes() == \
            source_nlp.get_pipe(name).model.to_bytes(), name
    weights = [_torch_weights(n) for n in (assembled, source_nlp)]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert assembled.get_pipe("senter").model.to_bytes() == \
        senter.get_pipe("senter").model.to_bytes()
    same = source_nlp.make_doc(text)
    starts = _starts(doc)
    for tok in same:
        tok.is_sent_start = tok.idx in starts or tok.i == 0
    same = source_nlp(same)
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == \
        [(e.start_char, e.end_char, e.label_) for e in same.ents]
    assert doc._.kgx_relations == same._.kgx_relations


def _senter_model(words_only: bool):
    config = load_config(Path(__file__).resolve().parents[1] / "configs" / "kgx_senter.cfg")
    block = config["components"]["senter"]["model"]
    config["components"]["senter"]["model"] = block if words_only else block["layer"]
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    docs = [nlp.make_doc("Anna Berg visits Rome. Karl Weiss lives in Oslo")]
    model = nlp.get_pipe("senter").model
    model.initialize(X=docs, Y=[numpy.eye(2, dtype="f")[[1] + [0] * 9]])
    out = model.get_ref("output_layer")  # zeros at first: every token would score 0.5 / 0.5
    out.set_param("W", numpy.random.default_rng(0).normal(size=out.get_param("W").shape)
                  .astype("f"))
    return nlp


def test_words_only_senter_reads_wrapped_text_as_running_text():
    """A line break in place of a space changes neither the words' scores nor any weight's
    gradient: the CNN's window holds the same words. The tagger alone (what spaCy's senter
    is) scores the words beside a line break otherwise."""
    running = "Anna Berg visits Rome Karl Weiss lives in Oslo Maria Costa moved to Lima"
    wrapped = running.replace("Rome ", "Rome\n").replace("in ", "in\n\n  ")
    for words_only in (True, False):
        nlp = _senter_model(words_only)
        model = nlp.get_pipe("senter").model
        docs = [nlp.make_doc(running), nlp.make_doc(wrapped)]
        assert [t.is_space for t in docs[1]].count(True) == 2
        (a, b), backprop = model.begin_update(docs)
        words = [i for i, t in enumerate(docs[1]) if not t.is_space]
        if not words_only:
            assert not numpy.allclose(a, b[words])
            continue
        assert b.shape == (len(docs[1]), 2)
        numpy.testing.assert_array_equal(a, b[words])
        assert b[[t.is_space for t in docs[1]]].tolist() == [[1.0, 0.0], [1.0, 0.0]]
        # a gradient on the whitespace rows reaches no weight
        d_b = numpy.zeros_like(b)
        d_b[[t.is_space for t in docs[1]]] = 1.0
        backprop([numpy.zeros_like(a), d_b])
        grads = [g for node in model.walk() for name in node.param_names
                 if node.has_grad(name) for g in [node.get_grad(name)]]
        assert grads and not any(numpy.abs(g).sum() for g in grads)


def test_words_only_senter_loads_a_plain_tagger_and_sets_no_start_at_a_line_break():
    plain, words = _senter_model(False), _senter_model(True)
    words.get_pipe("senter").model.layers[0].from_bytes(
        plain.get_pipe("senter").model.to_bytes())
    text = "Anna Berg visits Rome. Karl Weiss lives in Oslo"
    running = [words(text), plain(text)]
    assert [t.is_sent_start for t in running[0]] == [t.is_sent_start for t in running[1]]
    doc = words(text.replace(" ", "\n"))
    assert not any(t.is_sent_start for t in doc if t.is_space)
    assert [t.is_sent_start for t in doc if not t.is_space] == \
        [t.is_sent_start for t in running[0]]


def test_punct_boundaries_add_the_rules_starts_and_remove_none():
    nlp = spacy.blank("en")
    nlp.add_pipe("kgx_punct_boundaries")
    doc = nlp.make_doc("Anna works in Rome. Karl lives in Oslo Maria moved there! Then")
    for tok in doc:  # a segmenter's decisions: one start, "no" everywhere else
        tok.is_sent_start = tok.i in (0, 9)
    doc = nlp(doc)
    assert [s.text for s in doc.sents] == ["Anna works in Rome.", "Karl lives in Oslo",
                                          "Maria moved there!", "Then"]
    # with its own punctuation only "!" ends a sentence
    custom = spacy.blank("en")
    custom.add_pipe("kgx_punct_boundaries", config={"punct_chars": ["!"]})
    doc = custom.make_doc("Anna works in Rome. Karl moved there! Then")
    for tok in doc:
        tok.is_sent_start = tok.i == 0
    assert [s.text for s in custom(doc).sents] == ["Anna works in Rome. Karl moved there!",
                                                  "Then"]
