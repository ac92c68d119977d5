"""benchmarks/eval_missed_boundaries.py: what a segmenter's missed record starts cost."""

from __future__ import annotations

import pytest
import spacy

from helpers import load_benchmark

cost = load_benchmark("eval_missed_boundaries")


def _doc(text: str):
    nlp = spacy.blank("en")
    return nlp.make_doc(text)


def test_preset_starts_round_trip():
    doc = _doc("Wei Chen works for Globex . Moscow IZVESTIYA He said so .")
    he = doc.text.index("He said")
    moscow = doc.text.index("Moscow")
    cost.preset(doc, {he})
    assert cost.starts(doc) == {he}
    doc = _doc(doc.text)
    cost.preset(doc, {moscow, he})
    assert cost.starts(doc) == {moscow, he}
    assert [s.text for s in doc.sents] == ["Wei Chen works for Globex .", "Moscow IZVESTIYA",
                                           "He said so ."]


def test_segmenters_are_the_components_that_set_sentence_starts():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("kgx_layout_boundaries")
    nlp.add_pipe("ner")
    assert cost.segmenters(nlp) == ["sentencizer", "kgx_layout_boundaries"]
    text = "Wei Chen works for Globex. Moscow IZVESTIYA He said so."
    doc = nlp.make_doc(text)
    assert cost.own_starts(nlp, cost.segmenters(nlp), doc) == {text.index("Moscow")}
    assert not doc.has_annotation("SENT_START")


def test_merged_records_and_tally():
    # records start at 0, 10, 20, 30; the segmenter missed 20, so records 1 and 2 merged
    gold, own = {10, 20, 30}, {10, 30, 25}
    merged = cost.merged_records(gold, own)
    assert merged == {1, 2}
    # relations keyed as eval_trailing_period.facts keys them
    a, b, c, d = (12, 15), (16, 19), (21, 24), (31, 33)
    gold_rels = {(a, "Peop", b, "Loc", "Live_In"), (d, "Org", d, "Org", "X")}
    # the second crosses records 1 and 2
    pred_rels = {(a, "Peop", b, "Loc", "Live_In"), (a, "Peop", c, "Loc", "Live_In")}
    n = cost.tally([(gold_rels, pred_rels, gold, merged)])
    assert (n["tp"], n["fp"], n["fn"], n["cross"]) == (1, 1, 1, 1)
    assert (n["merged_tp"], n["merged_fp"], n["merged_fn"]) == (1, 1, 0)
    assert round(cost.f1(n), 2) == 50.0
    assert cost.f1(dict.fromkeys(n, 0)) == 0.0


def test_run_preset_keeps_the_starts_and_refuses_a_segmenter_that_moves_them():
    text = "Wei Chen works for Globex . Moscow IZVESTIYA He said so ."
    want = {text.index("Moscow"), text.index("He said")}
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")  # overwrite = false: keeps what is preset
    doc = nlp.make_doc(text)
    (out,) = cost.run_preset(nlp, [doc], [want])
    assert cost.starts(out) == want
    assert not doc.has_annotation("SENT_START")  # the caller's doc is left as it was
    # a segmenter that overwrites drops the preset start before "He" (no period there)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer", config={"overwrite": True})
    with pytest.raises(SystemExit, match="moved 1 preset sentence starts"):
        cost.run_preset(nlp, [nlp.make_doc(text)], [want])
