"""GraphBuilder: merging, incremental updates, filters, stats, save/load, ranking and the CLI."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

import kgx
from kgx.cli import app
from kgx.graph import (
    DEFAULT_BASE,
    AliasTable,
    GraphBuilder,
    NormalizationConfig,
    aggregate_score,
    entity_iri,
    explain_normalization,
    graph_records,
    load_graph,
    normalize_name,
    related,
    save_graph,
)
from kgx.graph.normalize import display_name

runner = CliRunner()


def rec(doc, head, hl, rel, tail, tl, score, hs=0, ts=40, sentence=True):
    r = {
        "doc_id": doc,
        "head": {"text": head, "label": hl, "start_char": hs, "end_char": hs + len(head)},
        "relation": rel,
        "tail": {"text": tail, "label": tl, "start_char": ts, "end_char": ts + len(tail)},
        "score": score,
        "sent_start_char": 0,
        "sent_end_char": 80,
        "model": "en_test@0.1",
    }
    if sentence:
        r["sentence"] = f"{head} ... {tail}"
    return r


def iri(type_, name):
    return entity_iri(DEFAULT_BASE, type_, normalize_name(name))


# entity resolution drops the designator: "Acme Corp." merges on (and is named by) "acme"
ALICE, ACME, PARIS = iri("PER", "Alice Smith"), iri("ORG", "Acme"), iri("LOC", "Paris")


@pytest.fixture
def records():
    return [
        rec("d1", "Alice Smith", "PER", "Work_For", "Acme Corp.", "ORG", 0.9),
        rec("d1", "Alice Smith", "PER", "Work_For", "Acme Corp.", "ORG", 0.6, ts=100),
        rec("d1", "Acme Corp.", "ORG", "OrgBased_In", "Paris", "LOC", 0.8, hs=40, ts=60),
        rec("d2", "alice smith", "PER", "Work_For", "The Acme Corp", "ORG", 0.5),
        rec("d3", "Bob", "PER", "Live_In", "Paris", "LOC", 0.7),
    ]


def snapshot(G: nx.MultiDiGraph) -> str:
    return json.dumps(
        {
            "graph": G.graph,
            "nodes": sorted((n, d) for n, d in G.nodes(data=True)),
            "edges": sorted((u, v, k, d) for u, v, k, d in G.edges(keys=True, data=True)),
        },
        sort_keys=True,
        default=str,
    )


def build(records, **kw) -> GraphBuilder:
    b = GraphBuilder(**kw)
    b.add_records(records)
    b.resolve_across_documents()  # what kgx graph does last
    return b


# --- IRIs and normalisation


def test_entity_iri_slug_and_hash():
    assert entity_iri(DEFAULT_BASE, "ORG", "acme corp") == "http://kgx.example.org/entity/ORG/acme-corp"
    z = entity_iri("http://x.org/kg", "LOC", "zürich")
    assert z.startswith("http://x.org/kg/entity/LOC/zurich_") and len(z.rsplit("_", 1)[1]) == 32
    assert z == entity_iri("http://x.org/kg/", "LOC", "zürich")
    assert z != entity_iri("http://x.org/kg/", "LOC", "zurich")
    tokyo = entity_iri(DEFAULT_BASE, "LOC", "東京")
    assert tokyo.rsplit("/", 1)[1].startswith("entity_")
    assert tokyo.isascii()
    # symbols the slug cannot spell must not collapse two names onto one IRI
    paris = entity_iri(DEFAULT_BASE, "LOC", "paris")
    assert entity_iri(DEFAULT_BASE, "LOC", "paris 😀") != paris
    assert entity_iri(DEFAULT_BASE, "LOC", "Paris") != paris  # casefold switched off


@pytest.mark.parametrize(
    ("text", "norm", "step"),
    [
        ("The Acme Corp.'s", "acme corp", "article"),
        ("Acme's", "acme", "possessive"),
        ("ＡＣＭＥ", "acme", "nfkc"),
        ("Acme   Corp", "acme corp", "whitespace"),
        ("U.S.", "us", "punctuation"),
        ("Jean-Paul Sartre", "jean paul sartre", "punctuation"),
        ("ACME", "acme", "casefold"),
        # invisible characters from HTML, PDFs and Windows files
        ("Glo\u00adbex", "globex", "ignorable"),
        ("\ufeffWei Chen", "wei chen", "ignorable"),
        ("Acme\u200b Corp\u200e", "acme corp", "ignorable"),
        # a word broken at a line end (justified text from PDFs); a real hyphen stays one
        ("Glo-\nbex", "globex", "line_end_hyphen"),
        ("Hewlett-\nPackard", "hewlett packard", "punctuation"),
    ],
)
def test_normalization_steps(text, norm, step):
    value, rules = explain_normalization(text, NormalizationConfig())
    assert value == norm
    assert step in rules


def test_normalization_is_configurable():
    keep_case = NormalizationConfig(casefold=False, strip_articles=False)
    assert normalize_name("The Acme", keep_case) == "The Acme"
    own_articles = NormalizationConfig(articles=("der", "die", "das"))
    assert normalize_name("Die Bank", own_articles) == "bank"
    assert normalize_name("The Bank", own_articles) == "the bank"
    assert normalize_name("The", NormalizationConfig()) == "the"  # never strip to nothing
    assert normalize_name("Glo\u00adbex", NormalizationConfig(drop_ignorable=False)) == (
        "glo\u00adbex")


def test_a_graph_from_before_the_ignorable_and_hyphen_steps_keeps_its_keys():
    """Settings stored by a kgx without the step (its graph's keys were made without it)
    keep it off; settings stored now round-trip."""
    old = NormalizationConfig().to_dict()
    del old["drop_ignorable"], old["line_end_hyphens"]
    assert NormalizationConfig.from_dict(old).drop_ignorable is False
    assert NormalizationConfig.from_dict(old).line_end_hyphens is False
    assert NormalizationConfig.from_dict(NormalizationConfig().to_dict()) == NormalizationConfig()


def test_mentions_that_differ_by_invisible_characters_are_one_entity():
    """A soft hyphen (HTML's &shy;, PDFs), a byte-order mark or a zero-width space in one
    document's mention does not make a second node."""
    G = build([
        rec("d1", "Wei Chen", "PER", "Work_For", "Globex", "ORG", 0.9),
        rec("d2", "\ufeffWei Chen", "PER", "Work_For", "Glo\u00adbex", "ORG", 0.8),
        rec("d3", "Wei\u200b Chen", "PER", "Work_For", "Globex\u200b", "ORG", 0.7),
    ]).graph
    assert sorted(data["name"] for _, data in G.nodes(data=True)) == ["Globex", "Wei Chen"]
    assert G.number_of_edges() == 1
    keep = build([
        rec("d1", "Wei Chen", "PER", "Work_For", "Globex", "ORG", 0.9),
        rec("d2", "Wei Chen", "PER", "Work_For", "Glo\u00adbex", "ORG", 0.8),
    ], config=NormalizationConfig(drop_ignorable=False)).graph
    assert len(keep) == 3


def test_a_name_broken_or_wrapped_at_a_line_end_is_one_node_shown_as_read():
    """Text from PDFs and hard-wrapped files: "Glo-\\nbex" and "San\\nFrancisco" are the
    node of "Globex" and "San Francisco", which they are shown as; the forms as written stay
    among the aliases."""
    G = build([
        rec("d1", "Wei Chen", "PER", "Work_For", "Glo-\nbex", "ORG", 0.9),
        rec("d2", "Wei\nChen", "PER", "Work_For", "Globex", "ORG", 0.8),
        rec("d3", "Wei Chen", "PER", "Live_In", "San\nFrancisco", "LOC", 0.7),
    ]).graph
    names = {data["name"]: data["aliases"] for _, data in G.nodes(data=True)}
    assert names == {"Wei Chen": ["Wei\nChen"], "Globex": ["Glo-\nbex"],
                     "San Francisco": ["San\nFrancisco"]}
    assert display_name("Glo-\n bex  Corp ") == "Globex Corp"
    assert display_name("Hewlett-\nPackard") == "Hewlett- Packard"
    off = build([
        rec("d1", "Wei Chen", "PER", "Work_For", "Glo-\nbex", "ORG", 0.9),
        rec("d2", "Wei Chen", "PER", "Work_For", "Globex", "ORG", 0.8),
    ], config=NormalizationConfig(line_end_hyphens=False)).graph
    assert len(off) == 3


# --- building


def test_builder_contract(records):
    G = build(records).graph
    assert isinstance(G, nx.MultiDiGraph)
    assert G.graph["base"] == DEFAULT_BASE and G.graph["kgx_version"] == kgx.__version__
    assert set(G.nodes) == {ALICE, ACME, PARIS, iri("PER", "Bob")}
    alice = G.nodes[ALICE]
    assert alice == {"label": "PER", "name": "Alice Smith", "aliases": ["alice smith"],
                     "mentions": 2, "docs": ["d1", "d2"]}
    acme = G.nodes[ACME]
    # "Acme Corp." has two distinct spans in d1 (offsets 40 and 100), so it is the name
    assert acme["name"] == "Acme Corp." and acme["aliases"] == ["The Acme Corp"]
    assert acme["mentions"] == 3
    edge = G.edges[ALICE, ACME, "Work_For"]
    assert edge["count"] == 3
    # noisy-or over documents of the per-document max: 1 - (1-0.9)(1-0.5)
    assert edge["score"] == pytest.approx(0.95)
    ev = edge["evidence"][0]
    assert set(ev) == {"doc_id", "head_start", "head_end", "tail_start", "tail_end",
                       "sent_start", "sent_end", "score", "model", "head_text", "tail_text",
                       "sentence"}
    assert [e["doc_id"] for e in edge["evidence"]] == ["d1", "d1", "d2"]


def test_sentence_is_optional():
    G = build([rec("d1", "A", "PER", "Live_In", "B", "LOC", 0.5, sentence=False)]).graph
    (_, _, data), = G.edges(data=True)
    assert "sentence" not in data["evidence"][0]


def test_aggregate_score_noisy_or_per_document_max():
    ev = [{"doc_id": "a", "score": 0.5}, {"doc_id": "a", "score": 0.8},
          {"doc_id": "b", "score": 0.5}]
    assert aggregate_score(ev) == pytest.approx(1 - 0.2 * 0.5)
    assert aggregate_score([{"doc_id": "a", "score": 0.3}]) == pytest.approx(0.3)


def test_lazy_export():
    assert kgx.GraphBuilder is GraphBuilder


def test_order_does_not_matter(records):
    assert snapshot(build(records).graph) == snapshot(build(records[::-1]).graph)


def test_interleaved_documents_merge_within_one_call(records):
    interleaved = [records[0], records[3], records[1], records[4], records[2], records[0]]
    b = GraphBuilder()
    counts = b.add_records(interleaved)
    assert counts["reopened_documents"] == 2 and counts["duplicate_evidence"] == 1
    assert snapshot(b.graph) == snapshot(build(records).graph)


# --- idempotency, replacement, removal


def test_adding_twice_changes_nothing(records):
    b = build(records)
    before = snapshot(b.graph)
    b.add_records(records)
    assert snapshot(b.graph) == before
    b.add_records(records + records)  # duplicates inside one call count once
    assert snapshot(b.graph) == before


def test_reprocessing_a_document_replaces_its_evidence(records):
    b = build(records)
    counts = b.add_records([rec("d1", "Alice Smith", "PER", "Live_In", "Paris", "LOC", 0.4)])
    assert counts["replaced_documents"] == 1
    G = b.graph
    # d1's Work_For and OrgBased_In evidence is gone; d2 still supports Work_For
    edge = G.edges[ALICE, ACME, "Work_For"]
    assert edge["count"] == 1 and edge["score"] == pytest.approx(0.5)
    assert not G.has_edge(ACME, PARIS, "OrgBased_In")
    assert G.has_edge(ALICE, PARIS, "Live_In")
    acme = G.nodes[ACME]
    assert acme["docs"] == ["d2"] and acme["name"] == "The Acme Corp" and acme["aliases"] == []
    assert acme["mentions"] == 1
    # same result as building from scratch with the new version of d1
    fresh = build([r for r in records if r["doc_id"] != "d1"]
                  + [rec("d1", "Alice Smith", "PER", "Live_In", "Paris", "LOC", 0.4)])
    assert snapshot(G) == snapshot(fresh.graph)


def test_remove_document(records):
    b = build(records)
    assert b.remove_document("d3") is True
    assert iri("PER", "Bob") not in b.graph  # supported only by d3
    assert b.graph.nodes[PARIS]["docs"] == ["d1"]
    assert "d3" not in b.documents()
    assert b.remove_document("d3") is False
    assert snapshot(b.graph) == snapshot(build([r for r in records if r["doc_id"] != "d3"]).graph)
    for d in b.documents():
        b.remove_document(d)
    assert b.graph.number_of_nodes() == 0 and b.graph.number_of_edges() == 0


def test_incremental_update_survives_save_load(tmp_path, records):
    path = tmp_path / "g.json"
    save_graph(build(records[:3]).graph, path)
    b = GraphBuilder(load_graph(path))
    b.add_records(records[3:])
    assert snapshot(b.graph) == snapshot(build(records).graph)
    save_graph(b.graph, path)
    b2 = GraphBuilder(load_graph(path))
    b2.remove_document("d1")
    assert snapshot(b2.graph) == snapshot(build(records[3:]).graph)


def random_records(seed, n_docs=60):
    """Documents with shared entities written several ways (so nodes merge and names compete)."""
    import random

    rng = random.Random(seed)
    people = [["Alice Smith", "alice smith", "ALICE SMITH"], ["Bob Jones", "Bob Jones's"],
              ["Chloé Martin", "chloé martin"], ["Dan Ng"]]
    orgs = [["Acme Corp", "Acme Corp.", "The Acme Corp"], ["Globex", "GLOBEX"], ["Initech"]]
    out = []
    for d in range(n_docs):
        for i in range(rng.randint(1, 5)):
            head = rng.choice(rng.choice(people))
            tail = rng.choice(rng.choice(orgs))
            out.append(rec(f"doc{seed}-{d:03d}", head, "PER", "Work_For", tail, "ORG",
                           round(rng.uniform(0.05, 1.0), 3), hs=100 * i, ts=100 * i + 40))
    return out


def test_incremental_removals_and_replacements_match_a_fresh_build(tmp_path):
    """Many single removals and replacements, with a save/load in between, leave exactly the
    graph a fresh build of the surviving documents gives (names, aliases, mentions, docs)."""
    base = random_records(1)
    docs = sorted({r["doc_id"] for r in base})
    replaced = {d: [{**r, "doc_id": d} for r in random_records(2, 1)] for d in docs[20:35]}
    b = build(base)
    for d in docs[:10]:
        assert b.remove_document(d)
    path = tmp_path / "g.json"
    save_graph(b.graph, path)
    b = GraphBuilder(load_graph(path))
    for d in docs[10:20]:
        assert b.remove_document(d)
    for recs in replaced.values():
        assert b.add_records(recs)["replaced_documents"] == 1
    final = [r for r in base if r["doc_id"] not in set(docs[:20]) | set(replaced)]
    final += [r for recs in replaced.values() for r in recs]
    assert snapshot(b.graph) == snapshot(build(final).graph)
    for d in b.documents():
        b.remove_document(d)
    assert b.graph.number_of_nodes() == 0 and b.graph.number_of_edges() == 0


def test_cross_type_node_removed_then_mentioned_again():
    config = NormalizationConfig(merge_across_types=True)
    b = build([rec("d1", "Jordan", "PER", "Live_In", "Paris", "LOC", 0.9),
               rec("d2", "Jordan", "LOC", "Located_In", "Asia", "LOC", 0.9)], config=config)
    assert iri("LOC", "Jordan") not in b.graph  # d2's LOC mention joined the PER node
    b.remove_document("d1")
    b.remove_document("d2")
    assert b.graph.number_of_nodes() == 0
    d3 = [rec("d3", "Jordan", "LOC", "Located_In", "Asia", "LOC", 0.9)]
    b.add_records(d3)
    assert iri("LOC", "Jordan") in b.graph and iri("PER", "Jordan") not in b.graph
    assert b.graph.nodes[iri("LOC", "Jordan")]["label"] == "LOC"
    assert snapshot(b.graph) == snapshot(build(d3, config=config).graph)


def test_graph_records_round_trip(records):
    G = build(records).graph
    again = build(list(graph_records(G))).graph
    assert snapshot(again) == snapshot(G)


# --- merging: types, alias tables, merge log


def test_types_never_merge_by_default():
    rs = [rec("d1", "Jordan", "PER", "Live_In", "Paris", "LOC", 0.9),
          rec("d2", "Jordan", "LOC", "Located_In", "Asia", "LOC", 0.9)]
    G = build(rs).graph
    assert iri("PER", "Jordan") in G and iri("LOC", "Jordan") in G
    merged = build(rs, config=NormalizationConfig(merge_across_types=True))
    assert iri("LOC", "Jordan") not in merged.graph
    assert merged.graph.nodes[iri("PER", "Jordan")]["docs"] == ["d1", "d2"]
    rules = {(e["surface"], e["type"]): e["rule"] for e in merged.merge_log()}
    assert rules[("Jordan", "LOC")] == "cross-type"


def test_alias_table_json_and_tsv(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(
        {"IBM": "International Business Machines", "ORG": {"Big Blue": "IBM"}}), encoding="utf-8")
    (tmp_path / "a.tsv").write_text(
        "alias\tcanonical\ttype\n# comment\nIBM\tInternational Business Machines\n"
        "Big Blue\tIBM\tORG\n", encoding="utf-8")
    rs = [rec("d1", "IBM", "ORG", "OrgBased_In", "Armonk", "LOC", 0.9),
          rec("d2", "International Business Machines", "ORG", "OrgBased_In", "Armonk", "LOC", 0.6),
          rec("d3", "Big Blue", "ORG", "OrgBased_In", "Armonk", "LOC", 0.6),
          rec("d4", "Big Blue", "PER", "Live_In", "Armonk", "LOC", 0.6)]
    for name in ("a.json", "a.tsv"):
        b = build(rs, aliases=AliasTable.from_file(tmp_path / name))
        G = b.graph
        ibm = iri("ORG", "International Business Machines")
        big_blue_org = iri("ORG", "IBM")
        assert ibm in G and big_blue_org in G  # one hop only: Big Blue -> IBM (no chaining)
        assert G.nodes[ibm]["docs"] == ["d1", "d2"]
        assert iri("PER", "Big Blue") in G  # the per-type alias does not apply to PER
        log = {(e["surface"], e["type"]): e for e in b.merge_log()}
        assert log[("IBM", "ORG")]["rule"] == "alias-table"
        assert log[("IBM", "ORG")]["canonical"] == "International Business Machines"
        assert log[("Big Blue", "PER")]["rule"] == "normalization"


def test_alias_table_errors(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("only-one-column\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv, line 1"):
        AliasTable.from_file(bad)
    with pytest.raises(ValueError, match="cannot read"):
        AliasTable.from_file(tmp_path / "missing.json")


def test_merge_log(records, tmp_path):
    b = build(records)
    log = b.merge_log()
    by_surface = {e["surface"]: e for e in log}
    assert by_surface["The Acme Corp"]["node"] == ACME
    assert by_surface["The Acme Corp"]["steps"] == ["casefold", "article", "designator"]
    assert by_surface["Acme Corp."]["node"] == ACME
    assert by_surface["alice smith"]["rule"] == "exact"
    assert len(log) == len({(e["surface"], e["type"]) for e in log})
    b.write_merge_log(tmp_path / "m.jsonl")
    lines = (tmp_path / "m.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == log


# --- filters and stats


def test_min_score_ignores_records_and_filters_existing_graph(records):
    filtered = build(records, min_score=0.65)
    G = filtered.graph
    assert iri("PER", "Bob") in G  # 0.7
    assert G.edges[ALICE, ACME, "Work_For"]["count"] == 1  # 0.6 and 0.5 dropped
    assert G.nodes[ACME]["aliases"] == [] and G.nodes[ACME]["mentions"] == 1
    assert filtered.counters["below_min_score"] == 2
    later = GraphBuilder(build(records).graph, min_score=0.65)
    assert snapshot(later.graph) == snapshot(G)
    b = build(records)
    assert b.filter_min_score(0.75) == 3  # 0.6, 0.5, 0.7
    assert snapshot(b.graph) == snapshot(build(records, min_score=0.75).graph)


def test_stats(records):
    b = build(records + [{"doc_id": "bad"}])
    s = b.stats()
    assert s["nodes"] == 4 and s["edges"] == 3 and s["documents"] == 3
    assert s["nodes_by_type"] == {"LOC": 1, "ORG": 1, "PER": 2}
    assert s["edges_by_label"] == {"Live_In": 1, "OrgBased_In": 1, "Work_For": 1}
    assert s["weakly_connected_components"] == 1 and s["largest_component"] == 4
    assert s["mentions"] == 2 + 3 + 2 + 1 and s["mentions_per_node"] == 2.0
    assert s["top_entities"][0]["node"] in (ACME, PARIS) and s["top_entities"][0]["degree"] == 2
    assert s["records"]["invalid"] == 1 and s["records"]["records"] == 6


# --- save / load


@pytest.mark.parametrize("suffix", [".json", ".graphml"])
def test_save_load_round_trip(tmp_path, records, suffix):
    G = build(records, base="http://example.com/kg").graph
    assert G.graph["base"] == "http://example.com/kg/"
    path = tmp_path / f"g{suffix}"
    save_graph(G, path)
    H = load_graph(path)
    assert isinstance(H, nx.MultiDiGraph)
    assert snapshot(H) == snapshot(G)
    assert isinstance(H.nodes[ALICE.replace(DEFAULT_BASE, "http://example.com/kg/")]["aliases"],
                      list)


def test_node_link_format(tmp_path, records):
    path = tmp_path / "g.json"
    G = build(records + [rec("d9", "Zoë", "PER", "Live_In", "東京", "LOC", 0.5)]).graph
    save_graph(G, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    expected = json.loads(json.dumps(nx.node_link_data(G, edges="edges")))
    assert data == expected
    assert "edges" in data and data["multigraph"] and data["directed"]
    assert {e["key"] for e in data["edges"]} == {"Work_For", "OrgBased_In", "Live_In"}
    empty = tmp_path / "empty.json"
    save_graph(GraphBuilder().graph, empty)
    assert json.loads(empty.read_text(encoding="utf-8"))["edges"] == []
    assert load_graph(empty).number_of_nodes() == 0


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="no such graph file"):
        load_graph(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a node-link graph"):
        load_graph(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="unknown graph format"):
        save_graph(nx.MultiDiGraph(), tmp_path / "g.txt")
    with pytest.raises(ValueError, match="base IRI"):
        GraphBuilder(base="not an iri")


# --- related


@pytest.fixture
def star_graph():
    """Alice works for Acme (strong) and Globex (weak); Acme is in Paris; Zed is disconnected."""
    return build([
        rec("d1", "Alice", "PER", "Work_For", "Acme", "ORG", 0.9),
        rec("d2", "Alice", "PER", "Work_For", "Globex", "ORG", 0.2),
        rec("d3", "Acme", "ORG", "OrgBased_In", "Paris", "LOC", 0.9),
        rec("d4", "Zed", "PER", "Live_In", "Oslo", "LOC", 0.9),
    ]).graph


def test_related_known_answer(star_graph):
    ranking = related(star_graph, "alice", top=10)
    names = [r["name"] for r in ranking]
    # Acme (strong edge) first, then Paris (via Acme) or Globex; never Alice, Zed or Oslo
    assert names[0] == "Acme"
    assert set(names) == {"Acme", "Globex", "Paris"}
    assert all(0 < r["score"] < 1 for r in ranking)
    scores = [r["score"] for r in ranking]
    assert scores == sorted(scores, reverse=True)
    assert related(star_graph, iri("PER", "Alice"), top=1)[0]["name"] == "Acme"
    # from Paris: Acme is next door, Alice two hops away
    paris = [r["name"] for r in related(star_graph, "PARIS")]
    assert paris[:2] == ["Acme", "Alice"]
    with pytest.raises(KeyError):
        related(star_graph, "nobody")


def test_personalized_pagerank_matches_networkx(star_graph):
    pytest.importorskip("scipy")  # networkx's pagerank needs it; kgx's does not
    from kgx.graph import personalized_pagerank

    G = star_graph.copy()
    G.add_edge(ACME, iri("PER", "Alice"), key="Kill", score=0.3, count=1, evidence=[])
    seed = iri("PER", "Alice")
    H = nx.Graph()
    for u, v, d in G.edges(data=True):
        if H.has_edge(u, v):
            H[u][v]["weight"] += d["score"]
        else:
            H.add_edge(u, v, weight=d["score"])
    component = nx.node_connected_component(H, seed)
    expected = nx.pagerank(H.subgraph(component), personalization={seed: 1.0}, weight="weight",
                           tol=1e-12, max_iter=1000)
    ours = personalized_pagerank(G, [seed])
    assert set(ours) == component
    for node, value in expected.items():
        assert ours[node] == pytest.approx(value, abs=1e-6)


# --- CLI


def write_jsonl(path: Path, rows, gz=False) -> Path:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_cli_graph_run_dir_update_stats(tmp_path, records):
    run = tmp_path / "run"
    (run / "relations").mkdir(parents=True)
    write_jsonl(run / "relations" / "shard-000.jsonl", records[:3])
    (run / "relations" / "shard-001.jsonl.tmp").write_text("garbage\n", encoding="utf-8")
    out = tmp_path / "graph.json"
    result = runner.invoke(app, ["graph", str(run), "--output", str(out), "--stats"])
    assert result.exit_code == 0, result.output
    assert "nodes by type" in result.output
    gz = write_jsonl(tmp_path / "more.jsonl.gz", records[3:], gz=True)
    log_path = tmp_path / "merge.jsonl"
    result = runner.invoke(app, ["graph", str(gz), "--output", str(out), "--update",
                                 "--merge-log", str(log_path), "--stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout[result.stdout.index("{"):])
    assert stats["documents"] == 3 and stats["malformed_lines"] == 0
    assert snapshot(load_graph(out)) == snapshot(build(records).graph)
    # with entity resolution an update rebuilds from the graph's evidence plus the inputs (a new
    # document can merge or split old entities), so the log has every form of the graph
    assert {json.loads(x)["surface"] for x in log_path.read_text().splitlines()} == {
        "Alice Smith", "Acme Corp.", "alice smith", "The Acme Corp", "Bob", "Paris"}


def test_run_dir_with_manifest_reads_only_current_records(tmp_path, records):
    from kgx.rundir import iter_input_records, iter_run_records

    run = tmp_path / "run"
    (run / "relations").mkdir(parents=True)
    old_d1 = rec("d1", "Old Name", "PER", "Work_For", "Acme Corp.", "ORG", 0.9)
    write_jsonl(run / "relations" / "shard-000.jsonl", [old_d1, records[4]])
    write_jsonl(run / "relations" / "shard-001.jsonl", records[:3])
    manifest = [{"id": "d1", "status": "ok", "shard": "shard-000.jsonl"},
                {"id": "d3", "status": "ok", "shard": "shard-000.jsonl"},
                {"id": "d1", "status": "ok", "shard": "shard-001.jsonl"}]
    write_jsonl(run / "manifest.jsonl", manifest)
    got = list(iter_input_records(run))
    assert old_d1 not in got and sorted(r["doc_id"] for r in got) == ["d1", "d1", "d1", "d3"]
    assert got == list(iter_run_records(run))  # one reader for `kgx graph` and --then-graph
    with (run / "relations" / "shard-001.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"doc_id": "d1", broken\n')
    (run / "relations" / "shard-002.jsonl.tmp").write_text("half a line", encoding="utf-8")
    errors = []
    again = list(iter_input_records(run, errors))
    assert again == got
    assert [(Path(e.path).name, e.line) for e in errors] == [("shard-001.jsonl", 4)]


def test_cli_malformed_lines_are_skipped_and_reported(tmp_path, records):
    src = write_jsonl(tmp_path / "r.jsonl", [records[0], "{broken", {"doc_id": "x"}, records[4]])
    out = tmp_path / "g.graphml"
    result = runner.invoke(app, ["graph", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{src}:2: malformed record" in result.output
    assert f"{src}:3: malformed record" in result.output
    assert "2 malformed lines skipped" in result.output
    assert load_graph(out).number_of_edges() == 2


def test_cli_document_spread_over_inputs_is_merged(tmp_path, records):
    first = write_jsonl(tmp_path / "a.jsonl", records[:2])
    second = tmp_path / "b.jsonl.gz"
    with gzip.open(second, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records[2:])
    out = tmp_path / "g.json"
    result = runner.invoke(app, ["graph", str(first), str(second), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert snapshot(load_graph(out)) == snapshot(build(records).graph)  # d1 is in both inputs


def test_cli_graph_options(tmp_path):
    rs = [rec("d1", "Jordan", "PER", "Live_In", "Paris", "LOC", 0.9),
          rec("d2", "Jordan", "LOC", "Located_In", "Asia", "LOC", 0.3),
          rec("d3", "Big Blue", "ORG", "OrgBased_In", "Armonk", "LOC", 0.9)]
    src = write_jsonl(tmp_path / "r.jsonl", rs)
    table = tmp_path / "aliases.tsv"
    table.write_text("Big Blue\tIBM\n", encoding="utf-8")
    out = tmp_path / "g.json"
    result = runner.invoke(app, ["graph", str(src), "-o", str(out), "--merge-across-types",
                                 "--alias-table", str(table), "--base", "http://ex.org/kg",
                                 "--min-score", "0.1"])
    assert result.exit_code == 0, result.output
    G = load_graph(out)
    assert G.graph["base"] == "http://ex.org/kg/"
    assert "http://ex.org/kg/entity/ORG/ibm" in G
    assert sum(1 for n in G if n.endswith("/jordan")) == 1
    result = runner.invoke(app, ["graph", str(src), "-o", str(out), "--update",
                                 "--min-score", "0.5"])
    assert result.exit_code == 0, result.output
    assert load_graph(out).number_of_edges() == 2
    result = runner.invoke(app, ["graph", str(src), "-o", str(out), "--update",
                                 "--base", "http://other.org/"])
    assert result.exit_code == 1 and "base IRI" in result.output
    result = runner.invoke(app, ["graph", str(tmp_path / "missing"), "-o", str(out)])
    assert result.exit_code == 1 and "no such input" in result.output
    (tmp_path / "notarun").mkdir()
    result = runner.invoke(app, ["graph", str(tmp_path / "notarun"), "-o", str(out)])
    assert result.exit_code == 1 and "no relations/ folder" in result.output


def test_cli_related(tmp_path, star_graph):
    path = tmp_path / "g.json"
    save_graph(star_graph, path)
    result = runner.invoke(app, ["related", "Alice", "--graph", str(path), "--top", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and "Acme" in lines[0]
    result = runner.invoke(app, ["related", "alice", "-g", str(path), "--json"])
    assert [r["name"] for r in json.loads(result.stdout)][0] == "Acme"
    result = runner.invoke(app, ["related", "Nobody", "-g", str(path)])
    assert result.exit_code == 1 and "no entity matches" in result.output
