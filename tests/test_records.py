"""kgx.records: the one record schema, its validation, and the graph's evidence form of it."""

from __future__ import annotations

import pytest

from kgx.records import (
    EVIDENCE_FIELDS,
    RecordError,
    from_evidence,
    to_evidence,
    validate_record,
)

REC = {
    "doc_id": "news/1.txt",
    "head": {"text": "Maria Lopez", "label": "PER", "start_char": 0, "end_char": 11},
    "relation": "Work_For",
    "tail": {"text": "Acme", "label": "ORG", "start_char": 22, "end_char": 26},
    "score": 0.93, "sent_start_char": 0, "sent_end_char": 36, "model": "en_demo@0.0.0",
    "sentence": "Maria Lopez works for Acme in Paris.",
}


def test_a_record_and_its_evidence_item_round_trip():
    ev = to_evidence(REC)
    assert tuple(ev) == (*EVIDENCE_FIELDS, "sentence")
    assert (ev["head_start"], ev["tail_end"], ev["sent_end"]) == (0, 26, 36)
    assert from_evidence(ev, "Work_For", "PER", "ORG") == REC


def test_evidence_of_a_record_without_sentence_bounds_spans_the_pair():
    rec = {k: v for k, v in REC.items()
           if k not in ("sent_start_char", "sent_end_char", "model", "sentence")}
    ev = to_evidence(rec)
    assert (ev["sent_start"], ev["sent_end"], ev["model"]) == (0, 26, "")
    assert "sentence" not in ev


@pytest.mark.parametrize("broken, message", [
    ([], "must be a JSON object"),
    ({**REC, "doc_id": ""}, "'doc_id'"),
    ({**REC, "relation": None}, "'relation'"),
    ({**REC, "head": {**REC["head"], "text": " "}}, "'head.text'"),
    ({**REC, "tail": {**REC["tail"], "start_char": True}}, "'tail.start_char'"),
    ({**REC, "score": 1.5}, "'score' must be a number in \\[0, 1\\]"),
    ({**REC, "sent_end_char": "36"}, "'sent_end_char'"),
])
def test_validation_says_what_is_wrong(broken, message):
    assert validate_record(REC) is REC
    with pytest.raises(RecordError, match=message):
        validate_record(broken)


def test_record_sentences_leave_out_the_whitespace_around_them():
    """A paragraph's blank line and a list item's line break are tokens of a sentence, not
    its text: records cite the sentence itself."""
    import spacy

    from kgx.records import doc_to_records
    from kgx.relations import set_relations

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("kgx_layout_boundaries")
    text = "Wei Chen works for Globex\n\nAnna Berg lives in Oslo.\n\n- Bo Li met Ann\n"
    doc = nlp(text)
    doc.ents = [doc.char_span(text.rindex(t), text.rindex(t) + len(t), label=label)
                for t, label in [("Wei Chen", "PER"), ("Globex", "ORG"), ("Anna Berg", "PER"),
                                 ("Oslo", "LOC"), ("Bo Li", "PER"), ("Ann", "PER")]]
    set_relations(doc, [{"head": 0, "tail": 1, "label": "Work_For", "score": 0.9},
                        {"head": 2, "tail": 3, "label": "Live_In", "score": 0.8},
                        {"head": 4, "tail": 5, "label": "Meet", "score": 0.7}])
    records = list(doc_to_records(doc, "d"))
    assert [r["sentence"] for r in records] == [
        "Wei Chen works for Globex", "Anna Berg lives in Oslo.", "Bo Li met Ann"]
    for r in records:
        assert text[r["sent_start_char"]:r["sent_end_char"]] == r["sentence"]
        validate_record(r)
