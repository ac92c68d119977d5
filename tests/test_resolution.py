"""Entity resolution (issue 17): one node per real-world entity, and every merge explained."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kgx.cli import app
from kgx.graph import (
    GraphBuilder,
    KnowledgeBase,
    ResolutionConfig,
    build_graph,
    explain_entity,
    load_graph,
    match_entities,
)
from kgx.graph.names import entity_key, fold, initials, short_form_of
from kgx.rdf.quads import iter_quads

runner = CliRunner()


def m(doc, head, hl, tail, tl, rel="Rel", hs=0, ts=50, score=0.9):
    return {"doc_id": doc, "relation": rel, "score": score, "model": "t@1",
            "head": {"text": head, "label": hl, "start_char": hs, "end_char": hs + len(head)},
            "tail": {"text": tail, "label": tl, "start_char": ts, "end_char": ts + len(tail)},
            "sent_start_char": 0, "sent_end_char": 200}


def build(records, **kw):
    b = GraphBuilder(**kw)
    b.add_records(records)
    b.resolve_across_documents()
    return b


def names(G):
    return sorted((d["label"], d["name"], tuple(d["aliases"])) for _, d in G.nodes(data=True))


def node_of(G, name):
    found = match_entities(G, name)
    assert len(found) == 1, (name, found)
    return found[0]


def test_name_rules():
    assert entity_key("acme corp", "ORG") == ("acme", ["designator"])
    assert entity_key("smith co ltd", "ORG") == ("smith", ["designator"])
    assert entity_key("lumen s a", "ORG") == ("lumen", ["designator"])
    assert entity_key("corp", "ORG") == ("corp", [])  # never empty
    assert entity_key("dr wei chen", "PER") == ("wei chen", ["title"])
    assert entity_key("acme corp", "LOC") == ("acme corp", [])
    assert fold("zoë ångström straße") == "zoe angstrom strasse"
    assert initials("world health organization") == "who"
    assert initials("bank of england") == "be"
    assert short_form_of("lopez", "maria lopez", "PER", False) == "surname"
    assert short_form_of("maria", "maria lopez", "PER", False) is None
    assert short_form_of("veltro", "veltro systems", "ORG", False) == "short-name"
    assert short_form_of("who", "world health organization", "ORG", True) == "acronym"
    assert short_form_of("who", "world health organization", "ORG", False) is None


def test_short_forms_within_a_document():
    G = build([
        m("d1", "Maria Lopez", "PER", "Acme Corporation", "ORG"),
        m("d1", "Lopez", "PER", "Acme", "ORG", hs=100, ts=120),
        m("d1", "Dr. Chen", "PER", "Acme Corp.", "ORG", hs=200, ts=220),
        m("d1", "Wei Chen", "PER", "Milwaukee", "LOC", hs=300, ts=320),
        m("d1", "Acme", "ORG", "Milwaukee", "LOC", hs=400, ts=420),
    ]).graph
    assert names(G) == [
        ("LOC", "Milwaukee", ()),
        ("ORG", "Acme Corporation", ("Acme", "Acme Corp.")),
        ("PER", "Maria Lopez", ("Lopez",)),
        ("PER", "Wei Chen", ("Dr. Chen",)),
    ]


def test_ambiguous_short_form_and_types_stay_apart():
    b = build([
        m("d1", "Wei Chen", "PER", "Acme", "ORG"),
        m("d1", "Li Chen", "PER", "Acme", "ORG", hs=100),
        m("d1", "Chen", "PER", "Kestrel", "LOC", hs=200, ts=220),
        m("d1", "Kestrel Aerospace", "ORG", "Kestrel", "LOC", hs=300, ts=220),
    ])
    G = b.graph
    assert len([n for n, d in G.nodes(data=True) if d["label"] == "PER"]) == 3
    assert {d["label"] for _, d in G.nodes(data=True) if "kestrel" in d["name"].lower()} == {
        "ORG", "LOC"}
    log = [e for e in b.merge_log() if e.get("doc_id") == "d1" and e["surface"] == "Chen"]
    assert log and log[0]["rule"] == "ambiguous"


def test_designators_and_titles_across_documents():
    G = build([
        m("d1", "Acme Corp.", "ORG", "Chicago", "LOC"),
        m("d2", "Acme Inc", "ORG", "Chicago", "LOC"),
        m("d3", "Prof. Ana Ruiz", "PER", "Acme Corp.", "ORG"),
        m("d4", "Ana Ruiz", "PER", "Chicago", "LOC"),
    ]).graph
    assert G.number_of_nodes() == 3


def test_acronym_defined_in_one_document_merges_elsewhere():
    records = [
        m("d1", "World Health Organization", "ORG", "Geneva", "LOC"),
        m("d1", "WHO", "ORG", "Geneva", "LOC", hs=100),
        m("d2", "Ana Ruiz", "PER", "WHO", "ORG"),
        m("d3", "Ana Ruiz", "PER", "IBM", "ORG"),
    ]
    b = build(records)
    G = b.graph
    who = node_of(G, "WHO")
    assert G.nodes[who]["name"] == "World Health Organization"
    assert G.nodes[who]["docs"] == ["d1", "d2"]
    assert any(e.get("rule") == "acronym-defined" and e["merged"] for e in b.merge_log())
    # the order of the documents does not matter
    assert names(build(records[::-1]).graph) == names(G)
    assert names(build(records, resolution=ResolutionConfig(acronyms=False)).graph) != names(G)


def test_diacritics_are_a_scored_candidate():
    shared = [
        m("d1", "Zoë Okonkwo", "PER", "Acme", "ORG"),
        m("d2", "Zoe Okonkwo", "PER", "Acme", "ORG"),
    ]
    b = build(shared)
    assert len(match_entities(b.graph, "Zoe Okonkwo")) == 1
    entry = next(e for e in b.merge_log() if e.get("rule") == "diacritics")
    assert entry["merged"] and entry["score"] >= entry["threshold"]
    assert "similarity" in entry["reason"]
    # no shared neighbour: string similarity alone stays below the threshold
    apart = build([m("d1", "Zoë Okonkwo", "PER", "Acme", "ORG"),
                   m("d2", "Zoe Okonkwo", "PER", "Veltro", "ORG")])
    assert apart.graph.number_of_nodes() == 4
    entry = next(e for e in apart.merge_log() if e.get("rule") == "diacritics")
    assert entry["merged"] is False and entry["why"] == "below the threshold"
    # one document names both as two people: never merged
    two = build([m("d1", "José Martín", "PER", "Acme", "ORG"),
                 m("d1", "Jose Martin", "PER", "Acme", "ORG", hs=100),
                 m("d2", "José Martín", "PER", "Veltro", "ORG")])
    assert len([n for n, d in two.graph.nodes(data=True) if d["label"] == "PER"]) == 2


def test_no_resolution_is_the_old_behaviour():
    records = [m("d1", "Acme Corporation", "ORG", "Chicago", "LOC"),
               m("d1", "Acme", "ORG", "Chicago", "LOC", hs=100)]
    assert build(records).graph.number_of_nodes() == 2
    assert build(records, resolution=ResolutionConfig(enabled=False)).graph.number_of_nodes() == 3


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _snapshot(G):
    return json.dumps({"graph": {k: v for k, v in G.graph.items()},
                       "nodes": sorted((n, d) for n, d in G.nodes(data=True)),
                       "edges": sorted((u, v, k, d) for u, v, k, d in
                                       G.edges(keys=True, data=True))},
                      sort_keys=True, default=str)


def test_update_equals_a_build_from_scratch(tmp_path):
    first = [m("d2", "Ana Ruiz", "PER", "WHO", "ORG"),
             m("d3", "Zoe Okonkwo", "PER", "Acme", "ORG")]
    second = [m("d1", "World Health Organization", "ORG", "Geneva", "LOC"),
              m("d1", "WHO", "ORG", "Geneva", "LOC", hs=100),
              m("d4", "Zoë Okonkwo", "PER", "Acme Corp.", "ORG"),
              m("d3", "Zoe Okonkwo", "PER", "Veltro", "ORG")]  # d3 replaced
    a, b = _write(tmp_path / "a.jsonl", first), _write(tmp_path / "b.jsonl", second)
    build_graph([a], tmp_path / "up.json")
    build_graph([b], tmp_path / "up.json", update=True)
    scratch = _write(tmp_path / "all.jsonl", [first[0], *second])
    build_graph([scratch], tmp_path / "scratch.json")
    up, sc = load_graph(tmp_path / "up.json"), load_graph(tmp_path / "scratch.json")
    assert _snapshot(up) == _snapshot(sc)
    assert len(match_entities(up, "WHO")) == 1


def test_knowledge_base_links_and_exports_same_as(tmp_path):
    kb = tmp_path / "kb.csv"
    kb.write_text("id,name,aliases,type\n"
                  "http://www.wikidata.org/entity/Q7817,World Health Organization,WHO|OMS,ORG\n"
                  "acme-1,Acme Corporation,Acme Industries,ORG\n", encoding="utf-8")
    G = build([m("d1", "OMS", "ORG", "Geneva", "LOC"),
               m("d2", "Acme Industries", "ORG", "Geneva", "LOC"),
               m("d3", "Acme Corporation", "ORG", "Geneva", "LOC")],
              kb=KnowledgeBase.from_file(kb)).graph
    who = node_of(G, "OMS")
    assert G.nodes[who]["kb_id"] == "http://www.wikidata.org/entity/Q7817"
    acme = node_of(G, "Acme Industries")
    assert G.nodes[acme]["docs"] == ["d2", "d3"] and G.nodes[acme]["kb_id"] == "acme-1"
    quads = {(s, p, o) for s, p, o, _ in iter_quads(G)}
    assert (f"<{who}>", "<http://www.w3.org/2002/07/owl#sameAs>",
            "<http://www.wikidata.org/entity/Q7817>") in quads
    assert (f"<{acme}>", "<https://schema.org/sameAs>",
            "<http://kgx.example.org/kb/acme-1>") in quads
    jsonl = tmp_path / "kb.jsonl"
    jsonl.write_text(json.dumps({"id": "Q1", "name": "Acme", "aliases": ["Acme Co"],
                                 "type": "ORG"}) + "\n", encoding="utf-8")
    assert KnowledgeBase.from_file(jsonl).entries[0].aliases == ["Acme Co"]
    jsonl.write_text('{"name": "no id"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        KnowledgeBase.from_file(jsonl)


def test_cli_explain(tmp_path):
    records = _write(tmp_path / "r.jsonl", [
        m("d1", "Maria Lopez", "PER", "Acme Corp.", "ORG"),
        m("d1", "Lopez", "PER", "Acme", "ORG", hs=100, ts=120),
        m("d2", "World Health Organization", "ORG", "Geneva", "LOC"),
        m("d2", "WHO", "ORG", "Geneva", "LOC", hs=100),
        m("d3", "Maria Lopez", "PER", "WHO", "ORG")])
    out = tmp_path / "g.json"
    result = runner.invoke(app, ["graph", str(records), "-o", str(out), "--explain", "Lopez"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout[result.stdout.index("["):])
    assert shown[0]["forms"] == {"Maria Lopez": 2, "Lopez": 1}
    assert shown[0]["decisions"] == [{"surface": "Lopez", "rule": "surname",
                                      "target": "maria lopez"}]
    result = runner.invoke(app, ["graph", "-o", str(out), "--explain", "WHO"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout[result.stdout.index("["):])
    rules = {d["rule"] for d in shown[0]["decisions"]}
    assert rules == {"acronym", "acronym-defined"}
    G = load_graph(out)
    assert explain_entity(G, match_entities(G, "Acme"))[0]["decisions"][0]["steps"][-1] == \
        "designator"
    result = runner.invoke(app, ["graph", str(records), "-o", str(tmp_path / "b.json"),
                                 "--no-resolution"])
    assert result.exit_code == 0 and load_graph(tmp_path / "b.json").number_of_nodes() == 7


def _bench():
    from helpers import load_benchmark

    return load_benchmark("bench_resolution")


def test_gold_files_are_fresh():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "corpora/resolution/build_gold.py"
    out = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("name", ["demo", "health"])
def test_resolution_meets_the_issue_17_targets_on_gold_mentions(name):
    bench = _bench()
    docs = [json.loads(x) for x in bench.GOLD[name].read_text(encoding="utf-8").splitlines()]
    gold = {(d["id"], m["start"], m["end"]): m["cluster"] for d in docs for m in d["mentions"]}
    new = bench.score(gold, bench.predicted_clusters(docs, True))
    old = bench.score(gold, bench.predicted_clusters(docs, False))
    assert new["b3_f1"] >= 0.95 and new["pair_p"] >= 0.98
    assert new["b3_f1"] > old["b3_f1"]


def test_a_continued_graph_keeps_its_cross_document_merges(tmp_path):
    from kgx.graph import save_graph

    records = [m("d1", "World Health Organization", "ORG", "Geneva", "LOC"),
               m("d1", "WHO", "ORG", "Geneva", "LOC", hs=100),
               m("d2", "Ana Ruiz", "PER", "WHO", "ORG")]
    b = build(records)
    save_graph(b.graph, tmp_path / "g.json")
    before = _snapshot(b.graph)
    again = GraphBuilder(load_graph(tmp_path / "g.json"))
    again.add_records(records)  # every document replaced by itself
    again.resolve_across_documents()
    assert _snapshot(again.graph) == before
