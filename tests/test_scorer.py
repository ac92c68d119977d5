"""The relation scorer, checked number by number on hand-made predictions."""

from __future__ import annotations

import pytest
import spacy
from spacy.training import Example

from kgx.pipeline.scorer import score_relations
from kgx.relations import set_relations

TEXT = "Ann Lee works for Acme in Paris and Bob Roe lives in Rome ."
#        0   4   8     14  18   23 26    32  36  40  44    50 53 58
ENTS = {
    "ann": (0, 7, "PER"),
    "acme": (18, 22, "ORG"),
    "paris": (26, 31, "LOC"),
    "bob": (36, 43, "PER"),
    "rome": (53, 57, "LOC"),
}


def make_doc(nlp, ents: list[tuple[int, int, str]], rels: list[tuple[int, int, str]]):
    doc = nlp.make_doc(TEXT)
    doc.ents = [doc.char_span(s, e, label=label) for s, e, label in ents]
    set_relations(doc, [{"head": h, "tail": t, "label": lab} for h, t, lab in rels])
    return doc


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


@pytest.fixture(scope="module")
def gold(nlp):
    e = ENTS
    # sorted by position: ann 0, acme 1, paris 2, bob 3, rome 4
    return make_doc(
        nlp,
        [e["ann"], e["acme"], e["paris"], e["bob"], e["rome"]],
        [(0, 1, "Work_For"), (1, 2, "OrgBased_In"), (3, 4, "Live_In")],
    )


def test_perfect_prediction_scores_one(nlp, gold):
    pred = make_doc(nlp, [e for e in (ENTS[k] for k in ENTS)],
                    [(0, 1, "Work_For"), (1, 2, "OrgBased_In"), (3, 4, "Live_In")])
    s = score_relations([Example(pred, gold)])
    for mode in ("strict", "boundaries"):
        for avg in ("micro", "macro"):
            assert s[f"rel_{mode}_{avg}_f"] == pytest.approx(1.0)


def test_missed_entity_counts_gold_relation_as_false_negative(nlp, gold):
    # the pipeline missed "Rome": the Live_In relation can never be predicted; it must
    # still count as a false negative (no KeyError, recall not overstated)
    e = ENTS
    pred = make_doc(nlp, [e["ann"], e["acme"], e["paris"], e["bob"]],
                    [(0, 1, "Work_For"), (1, 2, "OrgBased_In")])
    s = score_relations([Example(pred, gold)])
    assert s["rel_strict_micro_p"] == pytest.approx(1.0)
    assert s["rel_strict_micro_r"] == pytest.approx(2 / 3)
    assert s["rel_strict_micro_f"] == pytest.approx(0.8)
    assert s["rel_strict_per_type"]["Live_In"] == {"p": 0.0, "r": 0.0, "f": 0.0}
    # macro: (1 + 1 + 0) / 3
    assert s["rel_strict_macro_f"] == pytest.approx(2 / 3)


def test_wrong_entity_type_fails_strict_but_not_boundaries(nlp, gold):
    e = ENTS
    wrong_type = (0, 7, "ORG")
    pred = make_doc(nlp, [wrong_type, e["acme"], e["paris"], e["bob"], e["rome"]],
                    [(0, 1, "Work_For"), (1, 2, "OrgBased_In"), (3, 4, "Live_In")])
    s = score_relations([Example(pred, gold)])
    # strict: tp 2, fp 1, fn 1
    assert s["rel_strict_micro_p"] == pytest.approx(2 / 3)
    assert s["rel_strict_micro_r"] == pytest.approx(2 / 3)
    assert s["rel_boundaries_micro_f"] == pytest.approx(1.0)


def test_spurious_pair_absent_from_gold_is_a_false_positive(nlp, gold):
    e = ENTS
    pred = make_doc(nlp, [e[k] for k in ENTS],
                    [(0, 1, "Work_For"), (1, 2, "OrgBased_In"), (3, 4, "Live_In"),
                     (0, 2, "Live_In"), (3, 1, "Work_For")])
    s = score_relations([Example(pred, gold)])
    assert s["rel_strict_micro_p"] == pytest.approx(3 / 5)
    assert s["rel_strict_micro_r"] == pytest.approx(1.0)
    assert s["rel_strict_micro_f"] == pytest.approx(0.75)
    # per label: Work_For p=1/2 r=1, OrgBased_In 1/1, Live_In p=1/2 r=1
    assert s["rel_strict_per_type"]["Work_For"]["p"] == pytest.approx(0.5)
    assert s["rel_strict_macro_p"] == pytest.approx((0.5 + 1 + 0.5) / 3)
    assert s["rel_strict_macro_f"] == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)


def test_wrong_direction_is_wrong(nlp, gold):
    e = ENTS
    pred = make_doc(nlp, [e[k] for k in ENTS], [(1, 0, "Work_For")])
    s = score_relations([Example(pred, gold)])
    assert s["rel_strict_micro_p"] == 0.0
    assert s["rel_strict_micro_r"] == 0.0


def test_no_relations_anywhere_scores_zero_without_error(nlp):
    doc = nlp.make_doc("Nothing here .")
    s = score_relations([Example(doc, nlp.make_doc("Nothing here ."))])
    assert s["rel_strict_micro_f"] == 0.0
    assert s["rel_strict_per_type"] == {}


def test_scores_pool_over_examples(nlp, gold):
    e = ENTS
    perfect = make_doc(nlp, [e[k] for k in ENTS],
                       [(0, 1, "Work_For"), (1, 2, "OrgBased_In"), (3, 4, "Live_In")])
    empty = make_doc(nlp, [e[k] for k in ENTS], [])
    s = score_relations([Example(perfect, gold), Example(empty, gold)])
    assert s["rel_strict_micro_p"] == pytest.approx(1.0)
    assert s["rel_strict_micro_r"] == pytest.approx(0.5)
