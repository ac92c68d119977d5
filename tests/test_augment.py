"""Mention replacement in training corpora (``kgx.Corpus.v1``'s ``mention_replacement``)."""

from __future__ import annotations

import json
import random

import pytest
import spacy
from spacy.util import registry

from kgx.corpus import read_docs
from kgx.corpus.augment import mention_bank, replace_mentions
from kgx.relations import raw_relations

RECORDS = [
    {"tokens": ["Ann", "Lee", "works", "for", "Acme", "Corp", "."],
     "entities": [{"type": "Peop", "start": 0, "end": 2}, {"type": "Org", "start": 4, "end": 6}],
     "relations": [{"type": "Work_For", "head": 0, "tail": 1}]},
    {"tokens": ["Bo", "lives", "in", "Paris", ",", "says", "Globex", "."],
     "entities": [{"type": "Peop", "start": 0, "end": 1}, {"type": "Loc", "start": 3, "end": 4},
                  {"type": "Org", "start": 6, "end": 7}],
     "relations": [{"type": "Live_In", "head": 0, "tail": 1}]},
]


def triples(doc):
    ents = doc.ents
    return [(ents[r["head"]].label_, r["label"], ents[r["tail"]].label_)
            for r in raw_relations(doc)]


@pytest.fixture
def docs(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(RECORDS))
    return list(read_docs(path))


def test_bank_holds_every_mention_by_label(docs):
    bank = mention_bank(docs)
    assert {label: sorted(" ".join(w) for w, _ in mentions)
            for label, mentions in bank.items()} == {
        "Peop": ["Ann Lee", "Bo"], "Org": ["Acme Corp", "Globex"], "Loc": ["Paris"]}


def test_replaced_mentions_keep_labels_relations_sentences_and_context(docs):
    bank = mention_bank(docs)
    rng = random.Random(0)
    seen = set()
    for _ in range(40):
        for doc in docs:
            new = replace_mentions(doc, bank, 1.0, rng)
            # every mention is one of its label's mentions; the words around them stay
            assert [e.label_ for e in new.ents] == [e.label_ for e in doc.ents]
            for ent in new.ents:
                assert ent.text in {" ".join(w) for w, _ in bank[ent.label_]}
            assert triples(new) == triples(doc)
            context = [t.text for t in new if t.ent_iob_ == "O"]
            assert context == [t.text for t in doc if t.ent_iob_ == "O"]
            assert len(list(new.sents)) == len(list(doc.sents)) == 1
            assert new.user_data.get("kgx_id") == doc.user_data.get("kgx_id")
            seen.add(new.text)
    # mentions of other records come in: "Bo works for Globex ." among them
    assert "Bo works for Globex ." in seen
    assert "Ann Lee lives in Paris , says Acme Corp ." in seen
    # a rate of 0 keeps the doc itself
    assert replace_mentions(docs[0], bank, 0.0, rng) is docs[0]


def test_reader_replaces_mentions_in_training_only_when_asked(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(RECORDS * 10))
    reader = registry.readers.get("kgx.Corpus.v1")
    nlp = spacy.blank("en")
    plain = [eg.reference.text for eg in reader(path=path)(nlp)]
    assert set(plain) == {"Ann Lee works for Acme Corp .", "Bo lives in Paris , says Globex ."}
    random.seed(0)
    swapped = list(reader(path=path, mention_replacement=0.5, documents=2)(nlp))
    assert len(swapped) == 10
    assert {eg.reference.text for eg in swapped} - {" ".join(plain[:2])}
    for eg in swapped:
        assert eg.predicted.text == eg.reference.text
        assert len(raw_relations(eg.reference)) == 2
    with pytest.raises(ValueError, match="mention_replacement is a probability"):
        reader(path=path, mention_replacement=1.5)
