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
