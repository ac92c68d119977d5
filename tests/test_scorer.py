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


def test_entities_are_scored_by_character_offsets_on_any_tokenisation(nlp):
    from spacy.scorer import Scorer
    from spacy.tokens import Doc

    from kgx.pipeline.scorer import score_entities

    # the corpus glued the period to "Texas."; the pipeline's tokens split it off
    gold = Doc(nlp.vocab, words=["Ann", "Lee", "lives", "in", "Texas."])
    gold.ents = [gold.char_span(0, 7, label="PER"), gold.char_span(17, 23, label="LOC")]
    pred = nlp.make_doc("Ann Lee lives in Texas.")
    pred.ents = [pred.char_span(0, 7, label="PER"), pred.char_span(17, 22, label="LOC")]
    s = score_entities([Example(pred, gold)])
    assert (s["ents_p"], s["ents_r"]) == (pytest.approx(0.5), pytest.approx(0.5))
    assert s["ents_per_type"]["LOC"] == {"p": 0.0, "r": 0.0, "f": 0.0}
    assert s["ents_per_type"]["PER"]["f"] == pytest.approx(1.0)
    # spaCy's span scorer leaves "Texas" out (off the gold tokens): precision 1, not 0.5
    spacy_scores = Scorer.score_spans([Example(pred, gold)], "ents")
    assert spacy_scores["ents_p"] == pytest.approx(1.0)
    # on the same tokens both agree
    same = Doc(nlp.vocab, words=["Ann", "Lee", "lives", "in", "Texas."])
    same.ents = [same.char_span(0, 7, label="PER"), same.char_span(17, 23, label="ORG")]
    ours = score_entities([Example(same, gold)])
    theirs = Scorer.score_spans([Example(same, gold)], "ents")
    assert {k: ours[k] for k in ("ents_p", "ents_r", "ents_f")} == pytest.approx(
        {k: theirs[k] for k in ("ents_p", "ents_r", "ents_f")})
    assert score_entities([])["ents_f"] == 0.0
    # a reference without entity annotation is not scored; one with no entities is
    unannotated = Doc(nlp.vocab, words=["Ann", "Lee", "lives", "in", "Texas."])
    assert score_entities([Example(pred, unannotated)])["ents_p"] == 0.0
    assert score_entities([Example(pred, unannotated)])["ents_per_type"] == {}
    empty = Doc(nlp.vocab, words=["Ann", "Lee", "lives", "in", "Texas."])
    empty.ents = []
    assert score_entities([Example(pred, empty)])["ents_per_type"]["PER"]["p"] == 0.0


@pytest.mark.parametrize("name", ["kgx_trf.cfg", "kgx_trf_fast.cfg", "kgx_demo.cfg"])
def test_every_shipped_recogniser_is_scored_by_character_offsets(repo_root, name):
    """Training's dev figures count entities as ``kgx evaluate`` does."""
    from spacy.language import Language
    from spacy.util import load_config, registry

    from kgx.pipeline.scorer import score_entities

    config = load_config(repo_root / "configs" / name, interpolate=False)
    scorer = config["components"]["ner"]["scorer"]
    assert registry.resolve({"s": scorer})["s"] is score_entities
    # the recogniser's default too, for a config that does not name one
    default = Language.get_factory_meta("kgx_span_ner").default_config["scorer"]
    assert registry.resolve({"s": default})["s"] is score_entities
