"""Corpus converters and the kgx.Corpus.v1 reader, on well-formed and malformed input."""

from __future__ import annotations

import json

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.util import registry
from typer.testing import CliRunner

from kgx.cli import app
from kgx.corpus import (
    ConvertStats,
    CorpusError,
    convert,
    detect_format,
    docs_to_kgx_jsonl,
    read_docs,
)
from kgx.relations import raw_relations

SPERT = [
    {"tokens": ["Ann", "Lee", "works", "for", "Acme", "Corp", "."],
     "entities": [{"type": "Peop", "start": 0, "end": 2}, {"type": "Org", "start": 4, "end": 6}],
     "relations": [{"type": "Work_For", "head": 0, "tail": 1}], "orig_id": 7},
    {"tokens": ["Paris", ",", "France"],
     "entities": [{"type": "Loc", "start": 2, "end": 3}, {"type": "Loc", "start": 0, "end": 1}],
     "relations": [{"type": "Located_In", "head": 1, "tail": 0}]},
]

KGX = [
    {"id": "d1", "text": "Maria Lopez joined Nordwind in Hamburg.",
     "entities": [{"start": 31, "end": 38, "label": "LOC"}, {"start": 0, "end": 11, "label": "PER"},
                  {"start": 19, "end": 27, "label": "ORG"}],
     "relations": [{"head": 1, "tail": 2, "label": "Work_For"},
                   {"head": 2, "tail": 0, "label": "OrgBased_In"}]},
    {"id": "d2", "text": "Nothing to see.", "entities": [], "relations": []},
]


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def triples(doc):
    ents = doc.ents
    return {(ents[r["head"]].text, r["label"], ents[r["tail"]].text) for r in raw_relations(doc)}


def test_spert_converts_with_relations_reindexed(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SPERT))
    docs = list(read_docs(path))
    assert [d.text for d in docs] == ["Ann Lee works for Acme Corp .", "Paris , France"]
    assert triples(docs[0]) == {("Ann Lee", "Work_For", "Acme Corp")}
    # the file lists France before Paris: indices must follow doc.ents order
    assert triples(docs[1]) == {("Paris", "Located_In", "France")}
    assert docs[0].user_data["kgx_id"] == "7"
    assert [t.is_sent_start for t in docs[0]][:2] == [True, False]


def test_spert_nested_entities_are_dropped_and_counted(tmp_path):
    item = {"tokens": ["New", "York", "University", "hired", "Bo"],
            "entities": [{"type": "Org", "start": 0, "end": 3},
                         {"type": "Loc", "start": 0, "end": 2},
                         {"type": "Peop", "start": 4, "end": 5}],
            "relations": [{"type": "Work_For", "head": 2, "tail": 0},
                          {"type": "OrgBased_In", "head": 0, "tail": 1}]}
    path = tmp_path / "n.json"
    path.write_text(json.dumps([item]))
    stats = ConvertStats()
    (doc,) = read_docs(path, stats=stats)
    assert [e.text for e in doc.ents] == ["New York University", "Bo"]
    assert triples(doc) == {("Bo", "Work_For", "New York University")}
    assert stats.dropped_entities == 1 and stats.dropped_relations == 1


@pytest.mark.parametrize("bad, message", [
    ({"tokens": ["a"], "entities": [{"type": "X", "start": 0, "end": 5}], "relations": []},
     "outside the 1 tokens"),
    ({"tokens": ["a", "b"], "entities": [{"type": "X", "start": 0, "end": 1}],
      "relations": [{"type": "R", "head": 0, "tail": 3}]}, "points outside the 1 entities"),
    ({"tokens": ["a"], "entities": [{"type": "X", "start": "0", "end": 1}], "relations": []},
     "integer 'start'/'end'"),
    ({"tokens": []}, "non-empty list"),
])
def test_spert_malformed_items_name_file_and_item(tmp_path, bad, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([SPERT[0], bad]))
    with pytest.raises(CorpusError, match=message) as err:
        list(read_docs(path))
    assert f"{path}:item 1" in str(err.value)
    stats = ConvertStats()
    docs = list(read_docs(path, strict=False, stats=stats))
    assert len(docs) == 1 and len(stats.skipped) == 1


def test_kgx_jsonl_converts_and_round_trips(tmp_path):
    path = write_jsonl(tmp_path / "k.jsonl", KGX)
    docs = list(read_docs(path))
    assert triples(docs[0]) == {("Maria Lopez", "Work_For", "Nordwind"),
                                ("Nordwind", "OrgBased_In", "Hamburg")}
    assert docs[0].has_annotation("SENT_START")
    back = list(docs_to_kgx_jsonl(docs))
    again = list(read_docs(write_jsonl(tmp_path / "k2.jsonl", back)))
    assert [triples(d) for d in again] == [triples(d) for d in docs]
    assert back[0]["id"] == "d1"


@pytest.mark.parametrize("line, message", [
    ('{"text": "Ann met Bo", "entities": [{"start": 0, "end": 7, "label": "A"}, '
     '{"start": 4, "end": 10, "label": "B"}]}', "overlapping entities"),
    ('{"text": "Ann", "entities": [{"start": 0, "end": 9, "label": "A"}]}', "outside the text"),
    ('{"text": "Ann", "entities": [{"start": 0, "end": 3, "label": "A"}], '
     '"relations": [{"head": 0, "tail": 1, "label": "R"}]}', "points outside"),
    ('{"id": "x", "entities": []}', "missing or non-string 'text'"),
    ('{"text": "Ann", ', "not valid JSON"),
])
def test_kgx_jsonl_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [KGX[0], "", line])
    with pytest.raises(CorpusError, match=message) as err:
        list(read_docs(path, fmt="kgx"))
    assert f"{path}:3:" in str(err.value)
    stats = ConvertStats()
    assert len(list(read_docs(path, fmt="kgx", strict=False, stats=stats))) == 1
    assert len(stats.skipped) == 1


def test_kgx_span_off_token_boundaries_is_expanded(tmp_path, caplog):
    rec = {"text": "Acme's CEO", "entities": [{"start": 0, "end": 3, "label": "ORG"}]}
    (doc,) = read_docs(write_jsonl(tmp_path / "e.jsonl", [rec]))
    assert doc.ents[0].text == "Acme"
    assert "does not match token boundaries" in caplog.text


def prodigy_record(answer="accept"):
    nlp = spacy.blank("en")
    text = "Ann works for Acme."
    doc = nlp(text)
    tokens = [{"text": t.text, "start": t.idx, "end": t.idx + len(t), "id": t.i,
               "ws": bool(t.whitespace_)} for t in doc]
    ann = {"start": 0, "end": 3, "token_start": 0, "token_end": 0, "label": "PER"}
    acme = {"start": 14, "end": 18, "token_start": 3, "token_end": 3, "label": "ORG"}
    return {"text": text, "tokens": tokens, "spans": [acme, ann], "answer": answer,
            "relations": [{"head": 0, "child": 3, "head_span": ann, "child_span": acme,
                           "label": "Work_For"}]}


def test_prodigy_accept_only(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl",
                       [prodigy_record(), prodigy_record("reject"), prodigy_record("ignore")])
    assert detect_format(path) == "prodigy"
    stats = ConvertStats()
    docs = list(read_docs(path, stats=stats))
    assert len(docs) == 1 and stats.rejected == 2
    assert triples(docs[0]) == {("Ann", "Work_For", "Acme")}


def test_prodigy_relation_to_unknown_span_is_an_error(tmp_path):
    rec = prodigy_record()
    rec["relations"][0]["child_span"] = {"start": 4, "end": 9}
    with pytest.raises(CorpusError, match="does not point at a span"):
        list(read_docs(write_jsonl(tmp_path / "p.jsonl", [rec])))


def test_unknown_format_is_a_clear_error(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"foo": 1}])
    with pytest.raises(CorpusError, match="cannot tell the format"):
        list(read_docs(path))


def test_docbin_round_trip_keeps_relations_and_reader_yields_examples(tmp_path):
    src = tmp_path / "s.json"
    src.write_text(json.dumps(SPERT))
    out = tmp_path / "s.spacy"
    stats = convert(src, out)
    assert (stats.docs, stats.entities, stats.relations) == (2, 4, 2)
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(out).get_docs(nlp.vocab))
    assert triples(docs[0]) == {("Ann Lee", "Work_For", "Acme Corp")}
    reader = registry.readers.get("kgx.Corpus.v1")(path=out, gold_tokens=True)
    egs = list(reader(nlp))
    assert [t.text for t in egs[0].predicted] == [t.text for t in egs[0].reference]
    assert not egs[0].predicted.ents  # predictions start empty
    assert triples(egs[0].reference) == {("Ann Lee", "Work_For", "Acme Corp")}
    limited = registry.readers.get("kgx.Corpus.v1")(path=out, limit=1, max_length=5)
    assert [eg.reference.text for eg in limited(nlp)] == ["Paris , France"]


def test_reader_reads_annotated_files_directly(tmp_path):
    path = write_jsonl(tmp_path / "k.jsonl", KGX)
    egs = list(registry.readers.get("kgx.Corpus.v1")(path=path)(spacy.blank("en")))
    assert triples(egs[0].reference) == {("Maria Lopez", "Work_For", "Nordwind"),
                                         ("Nordwind", "OrgBased_In", "Hamburg")}


def test_conll04_dev_converts_completely(shared_data, tmp_path):
    stats = convert(shared_data / "conll04" / "dev.json", tmp_path / "dev.spacy")
    assert (stats.docs, stats.entities, stats.relations) == (231, 893, 343)
    assert stats.dropped_entities == 0 and not stats.skipped


def test_ade_dev_converts(shared_data, tmp_path):
    stats = convert(shared_data / "ade" / "dev.json", tmp_path / "dev.spacy")
    assert stats.docs == 560
    assert stats.relations + stats.dropped_relations == 889


def test_cli_convert_summary_and_errors(tmp_path):
    runner = CliRunner()
    src = write_jsonl(tmp_path / "k.jsonl", KGX)
    result = runner.invoke(app, ["convert", str(src), str(tmp_path / "k.spacy")])
    assert result.exit_code == 0, result.output
    assert "2 docs, 3 entities, 2 relations" in result.output
    bad = write_jsonl(tmp_path / "bad.jsonl", [KGX[0], '{"text": 1}'])
    result = runner.invoke(app, ["convert", str(bad), str(tmp_path / "b.spacy")])
    assert result.exit_code == 1
    assert f"{bad}:2" in result.output
    result = runner.invoke(app, ["convert", str(bad), str(tmp_path / "b.spacy"), "--skip-invalid"])
    assert result.exit_code == 0 and "1 malformed records skipped" in result.output


def _read_back(path):
    nlp = spacy.blank("en")
    docs = list(DocBin(store_user_data=True).from_disk(path).get_docs(nlp.vocab))
    from kgx.relations import get_relations

    return [([e.text for e in d.ents],
             sorted((r.head.text, r.label, r.tail.text) for r in get_relations(d))) for d in docs]


@pytest.mark.parametrize("span", [(5, 6), (5, 7)], ids=["between-tokens", "whitespace-token"])
def test_an_entity_of_whitespace_is_dropped_with_its_relations(tmp_path, span):
    """Issue 13, item 5: an entity covering only whitespace was dropped but the relation
    indices were remapped as if it were kept ("Maria Live_In Acme"), exit 0."""
    text = "Maria  works for Acme in Paris ."
    start, end = span
    rec = {"id": "a", "text": text,
           "entities": [{"start": 0, "end": 5, "label": "PER"},
                        {"start": start, "end": end, "label": "LOC"},
                        {"start": 17, "end": 21, "label": "ORG"},
                        {"start": 25, "end": 30, "label": "LOC"}],
           "relations": [{"head": 0, "tail": 1, "label": "Live_In"},
                         {"head": 0, "tail": 2, "label": "Work_For"},
                         {"head": 2, "tail": 3, "label": "OrgBased_In"}]}
    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["convert", str(src), str(tmp_path / "c.spacy")])
    assert res.exit_code == 0, res.output
    assert "1 entities without text dropped (with 1 relations)" in res.output
    [(ents, rels)] = _read_back(tmp_path / "c.spacy")
    assert ents == ["Maria", "Acme", "Paris"]
    assert rels == [("Acme", "OrgBased_In", "Paris"), ("Maria", "Work_For", "Acme")]


@pytest.mark.parametrize("fmt", ["kgx", "spert", "prodigy"])
def test_lone_surrogates_are_malformed_records(tmp_path, fmt):
    """Issue 13, item 7: a lone surrogate ("\\ud800" in JSON) made `kgx convert --skip-invalid`
    abort; it is a malformed record, skipped with its line (or item)."""
    bad = "Bad \ud800 text ."
    if fmt == "kgx":
        recs = [{"text": "Maria works .", "entities": [{"start": 0, "end": 5, "label": "PER"}]},
                {"text": bad, "entities": [{"start": 0, "end": 3, "label": "PER"}]}]
        content = "".join(json.dumps(r) + "\n" for r in recs)
        src = tmp_path / "c.jsonl"
    elif fmt == "spert":
        recs = [{"tokens": ["Maria", "works", "."], "entities": [], "relations": []},
                {"tokens": bad.split(), "entities": [], "relations": []}]
        content = json.dumps(recs)
        src = tmp_path / "c.json"
    else:
        recs = [{"text": t, "tokens": [{"text": w, "ws": i < len(t.split()) - 1}
                                       for i, w in enumerate(t.split())],
                 "spans": [], "relations": [], "answer": "accept"}
                for t in ("Maria works .", bad)]
        content = "".join(json.dumps(r) + "\n" for r in recs)
        src = tmp_path / "c.jsonl"
    src.write_text(content, encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["convert", str(src), str(tmp_path / "c.spacy"), "--format", fmt])
    assert res.exit_code == 1 and "lone surrogate" in res.output, res.output
    res = runner.invoke(app, ["convert", str(src), str(tmp_path / "c.spacy"), "--format", fmt,
                              "--skip-invalid"])
    assert res.exit_code == 0, res.output
    assert "1 docs" in res.output and "1 malformed records skipped" in res.output
