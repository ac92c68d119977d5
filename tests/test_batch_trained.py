"""Batch extraction with a trained pipeline's components (a Cython ``ner``), not only rules."""

from __future__ import annotations

import spacy
from spacy.util import fix_random_seed

from helpers import TRAIN, make_example
from kgx.batch import extract


def test_extract_runs_a_pipeline_with_a_trained_ner(trained, tmp_path):
    """spaCy's Cython parsers cannot hold an error handler; the batch layer must still run."""
    rel_nlp, _, _ = trained
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("ner")
    nlp.add_pipe("kgx_relation_extractor", source=rel_nlp)
    examples = [make_example(nlp, *row) for row in TRAIN]
    nlp.get_pipe("ner").initialize(lambda: examples, nlp=nlp)  # the sourced part stays trained
    optimizer = nlp.create_optimizer()
    for _ in range(30):
        nlp.update(examples, sgd=optimizer, exclude=["kgx_relation_extractor"])
    corpus = tmp_path / "docs"
    corpus.mkdir()
    for i, (text, _, _) in enumerate(TRAIN):
        (corpus / f"{i}.txt").write_text(text, encoding="utf-8")
    records = list(extract([corpus], nlp))
    assert {r["doc_id"] for r in records} <= {f"{i}.txt" for i in range(len(TRAIN))}
    assert any(r["relation"] == "Work_For" and r["head"]["text"] == "Maria Lopez"
               for r in records)
