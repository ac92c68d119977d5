"""kgx.rdf: the RDF model, the vocabulary mapping, every format's round trip, SHACL, the CLI."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
import rdflib
from typer.testing import CliRunner

from kgx import rdf
from kgx.cli import app
from kgx.graph import GraphBuilder, entity_iri, save_graph

BASE = "http://kgx.example.org/"
NASTY = 'He said "hi" \\ back\nnew\r line\ttab <tag> 😀 𝔘 שלום مرحبا \\u0022 end'
INJECTION = 'x" } ; DROP ALL ; INSERT DATA { <a> <b> "c'
SCHEMA = "https://schema.org/"
OX_FORMATS = {"nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS,
              "ttl": ox.RdfFormat.TURTLE, "trig": ox.RdfFormat.TRIG,
              "jsonld": ox.RdfFormat.JSON_LD, "xml": ox.RdfFormat.RDF_XML}


def record(doc, head, hl, rel, tail, tl, score, sentence=None, at=0):
    rec = {"doc_id": doc,
           "head": {"text": head, "label": hl, "start_char": at, "end_char": at + len(head)},
           "relation": rel,
           "tail": {"text": tail, "label": tl, "start_char": at + len(head) + 5,
                    "end_char": at + len(head) + 5 + len(tail)},
           "score": score, "sent_start_char": at, "sent_end_char": at + 120, "model": "m@1"}
    if sentence is not None:
        rec["sentence"] = sentence
    return rec


RECORDS = [
    record("d1", "Maria Lopez", "PER", "Work_For", "Acme", "ORG", 0.9, NASTY),
    record("d2", "Maria Lopez", "PER", "Work_For", "ACME", "ORG", 0.7),
    record("doc with space/é", INJECTION, "PER", "Live_In", "תל אביב", "LOC", 0.6),
    record("d1", "Acme", "ORG", "OrgBased_In", "Paris", "LOC", 0.8, "Acme is based in Paris.",
           at=40),
    record("d1", "Paris", "LOC", "Located_In", "France", "LOC", 0.95, at=80),
    record("d3", "𝔘nicorn 😀", "PER", "Kill", "Maria Lopez", "PER", 0.5),
]


def build(records=RECORDS) -> nx.MultiDiGraph:
    builder = GraphBuilder(base=BASE)
    builder.add_records(records)
    return builder.graph


@pytest.fixture(scope="module")
def graph() -> nx.MultiDiGraph:
    return build()


@pytest.fixture(scope="module")
def vocab() -> rdf.Vocabulary:
    return rdf.Vocabulary.default()


def parse_both(path: Path, fmt: str) -> tuple[set, rdflib.Dataset | rdflib.Graph]:
    oxq = set(ox.parse(path=str(path), format=OX_FORMATS[fmt]))
    fmt_cls = rdf.FORMATS[fmt]
    target = rdflib.Dataset() if fmt_cls.named_graphs else rdflib.Graph()
    target.parse(str(path), format=fmt_cls.rdflib)
    return oxq, target


def rdflib_count(target) -> int:
    if isinstance(target, rdflib.Dataset):
        return sum(1 for _ in target.quads((None, None, None, None)))
    return len(target)


# --- terms -----------------------------------------------------------------------------------


def test_nt_string_escapes_and_round_trips():
    lit = rdf.nt_string(NASTY)
    assert "\n" not in lit and "\r" not in lit and "\t" not in lit
    assert '\\"hi\\"' in lit and "\\\\ back" in lit and "😀" in lit and "שלום" in lit
    line = f"<http://a/s> <http://a/p> {lit} .\n"
    (t,) = list(ox.parse(line, format=ox.RdfFormat.N_TRIPLES))
    assert t.object.value == NASTY
    g = rdflib.Graph().parse(data=line, format="nt")
    assert str(next(iter(g.objects()))) == NASTY


def test_nt_string_controls_and_lone_surrogates():
    lit = rdf.nt_string("a\x00b\x1fc\x7f\ud800")
    assert lit == '"a\\u0000b\\u001Fc\\u007F\ufffd"'
    (t,) = list(ox.parse(f"<http://a/s> <http://a/p> {lit} .", format=ox.RdfFormat.N_TRIPLES))
    assert t.object.value == "a\x00b\x1fc\x7f\ufffd"


def test_document_fields_become_dublin_core_in_every_format(tmp_path):
    """A document's title, author, dates, address, language and the document it came inside
    (picked from its reader's or JSONL line's meta) are dcterms statements on its IRI: dates
    typed where they read as dates, an http(s) address and the enclosing document IRIs,
    anything else a string; every format parses; saved and
    loaded (JSON, GraphML) they stay; a document the graph no longer has loses them."""
    from kgx.graph import DOC_META, attach_fields, document_fields, load_graph

    G = build()
    assert document_fields({"Subject": " Caf\u00e9\n in  Paris ", "From": "Ann <a@b.c>",
                            "date": "Mon, 02 Nov 2026 10:00:00 +0100", "pages": 3,
                            "url": ["not", "a", "string"], "title": True}) == {
        "title": "Caf\u00e9 in Paris", "author": "Ann <a@b.c>",
        "date": "Mon, 02 Nov 2026 10:00:00 +0100"}
    attach_fields(G, [
        ("d1", document_fields({"title": NASTY, "date": "2026-11-02", "modified": "2026-11-03T"
                                "09:30:00Z", "url": "https://example.org/a?b=1", "lang": "de"})),
        ("d2", document_fields({"published": "Mon, 02 Nov 2026 10:00:00 +0100",
                                "created": "last Tuesday", "link": "file name.txt",
                                "attached_to": "mail/q3 #1.eml"})),
        ("gone", {"title": "a document the graph does not have"}),
    ])
    assert sorted(G.graph[DOC_META]) == ["d1", "d2"]
    dc = "http://purl.org/dc/terms/"
    xsd = "http://www.w3.org/2001/XMLSchema#"
    for fmt in ("nq", "ttl", "jsonld"):
        path = rdf.export(G, tmp_path / f"g.{fmt}", fmt).path
        _, parsed = parse_both(Path(path), fmt)
        quads = {(str(s), str(p), o) for s, p, o, *_ in (
            parsed.quads((None, None, None, None)) if isinstance(parsed, rdflib.Dataset)
            else ((s, p, o, None) for s, p, o in parsed))}
        d1, d2 = (rdf.terms.document_iri(BASE, d) for d in ("d1", "d2"))
        assert (d1, dc + "title", rdflib.Literal(" ".join(NASTY.split()))) in quads
        assert (d1, dc + "date", rdflib.Literal("2026-11-02", datatype=xsd + "date")) in quads
        assert (d1, dc + "modified", rdflib.Literal("2026-11-03T09:30:00+00:00",
                                                    datatype=xsd + "dateTime")) in quads
        assert (d1, dc + "source", rdflib.URIRef("https://example.org/a?b=1")) in quads
        assert (d1, dc + "language", rdflib.Literal("de")) in quads
        assert (d2, dc + "date", rdflib.Literal("2026-11-02T10:00:00+01:00",
                                                datatype=xsd + "dateTime")) in quads
        assert (d2, dc + "created", rdflib.Literal("last Tuesday")) in quads
        assert (d2, dc + "source", rdflib.Literal("file name.txt")) in quads
        assert (d2, dc + "isPartOf", rdflib.URIRef(  # the e-mail it was attached to
            rdf.terms.document_iri(BASE, "mail/q3 #1.eml"))) in quads
    for suffix in ("json", "graphml"):
        save_graph(G, tmp_path / f"g.{suffix}")
        assert load_graph(tmp_path / f"g.{suffix}").graph[DOC_META] == G.graph[DOC_META]
    del G.graph["kgx_doc_index"]["d2"]
    attach_fields(G, [])
    assert sorted(G.graph[DOC_META]) == ["d1"]


def test_invalid_iri_is_a_clear_error():
    with pytest.raises(ValueError, match="not a valid absolute IRI"):
        rdf.nt_iri("http://a/with space")
    G = nx.MultiDiGraph(base=BASE)
    G.add_node("not an iri", label="PER", name="x", aliases=[], mentions=1, docs=[])
    with pytest.raises(ValueError, match="not an iri"):
        list(rdf.iter_quads(G))


def test_entity_names_with_any_characters_give_valid_iris():
    for name in (INJECTION, NASTY, "𝔘nicorn 😀", "תל אביב", "<>{}|^`\\"):
        iri = entity_iri(BASE, "PER", name)
        assert ox.NamedNode(iri).value == iri
        assert rdf.nt_iri(iri) == f"<{iri}>"
    assert rdf.document_iri(BASE, "doc with space/é") == \
        BASE + "document/doc%20with%20space%2F%C3%A9"


# --- the model -------------------------------------------------------------------------------


def test_model_default_graph_named_graphs_and_evidence(graph, vocab):
    quads = set(ox.parse(
        "".join(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"
                for s, p, o, g in rdf.iter_quads(graph, vocab)),
        format=ox.RdfFormat.N_QUADS))
    D = ox.DefaultGraph()
    maria = ox.NamedNode(BASE + "entity/PER/maria-lopez")
    acme = ox.NamedNode(BASE + "entity/ORG/acme")
    works = ox.NamedNode(SCHEMA + "worksFor")
    type_ = ox.NamedNode(rdf.RDF + "type")
    # entity typing and labels, default graph
    assert ox.Quad(maria, type_, ox.NamedNode(SCHEMA + "Person"), D) in quads
    assert ox.Quad(maria, ox.NamedNode(rdf.RDFS + "label"),
                   ox.Literal("Maria Lopez", language="en"), D) in quads
    assert ox.Quad(acme, ox.NamedNode(rdf.SKOS + "altLabel"),
                   ox.Literal("ACME", language="en"), D) in quads
    # the merged fact: plain triple plus a statement node with score and count
    assert ox.Quad(maria, works, acme, D) in quads
    fact = ox.NamedNode(rdf.fact_iri(BASE, maria.value, "Work_For", acme.value))
    assert ox.Quad(fact, ox.NamedNode(rdf.RDF + "subject"), maria, D) in quads
    score = graph.edges[maria.value, acme.value, "Work_For"]["score"]
    assert ox.Quad(fact, ox.NamedNode(rdf.KGX + "score"),
                   ox.Literal(repr(score), datatype=ox.NamedNode(rdf.XSD + "double")), D) in quads
    assert ox.Quad(fact, ox.NamedNode(rdf.KGX + "evidenceCount"),
                   ox.Literal("2", datatype=ox.NamedNode(rdf.XSD + "integer")), D) in quads
    # one named graph per document, holding its fact triples and evidence nodes
    d1 = ox.NamedNode(BASE + "document/d1")
    named = {q.graph_name for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)}
    assert named == {d1, ox.NamedNode(BASE + "document/d2"), ox.NamedNode(BASE + "document/d3"),
                     ox.NamedNode(BASE + "document/doc%20with%20space%2F%C3%A9")}
    assert ox.Quad(maria, works, acme, d1) in quads
    evidence = {q.subject for q in quads if q.graph_name == d1
                and q.predicate.value == rdf.KGX + "supports" and q.object == fact}
    assert len(evidence) == 1
    (ev,) = evidence
    props = {q.predicate.value: q.object for q in quads if q.subject == ev}
    assert props[rdf.PROV + "wasDerivedFrom"] == d1
    assert props[rdf.KGX + "confidence"] == ox.Literal(
        "0.9", datatype=ox.NamedNode(rdf.XSD + "double"))
    assert props[rdf.KGX + "headStart"] == ox.Literal(
        "0", datatype=ox.NamedNode(rdf.XSD + "integer"))
    assert props[rdf.KGX + "tailEnd"].value == "20"
    assert props[rdf.KGX + "sentenceEnd"].value == "120"
    assert props[rdf.KGX + "model"].value == "m@1"
    assert props[rdf.KGX + "sentence"].value == NASTY
    assert props[rdf.RDF + "predicate"] == works
    # no blank nodes anywhere
    assert not any(isinstance(t, ox.BlankNode)
                   for q in quads for t in (q.subject, q.object, q.graph_name))


def test_unmapped_types_and_relations_use_the_kgx_namespace(vocab):
    G = build([record("x", "BRCA1", "GENE", "Regulates", "TP53", "GENE", 0.8)])
    quads = list(rdf.iter_quads(G, vocab))
    cls = f"<{BASE}type/GENE>"
    pred = f"<{BASE}relation/Regulates>"
    assert (f"<{BASE}entity/GENE/brca1>", f"<{rdf.RDF}type>", cls, None) in quads
    assert (f"<{BASE}entity/GENE/brca1>", pred, f"<{BASE}entity/GENE/tp53>", None) in quads
    assert (cls, f"<{rdf.RDF}type>", f"<{rdf.RDFS}Class>", None) in quads
    assert (pred, f"<{rdf.RDF}type>", f"<{rdf.RDF}Property>", None) in quads


def test_mapping_covers_demo_conll04_and_ade(vocab):
    assert vocab.types["PER"] == vocab.types["Peop"] == SCHEMA + "Person"
    assert vocab.types["ORG"] == vocab.types["Org"] == SCHEMA + "Organization"
    assert vocab.types["LOC"] == vocab.types["Loc"] == SCHEMA + "Place"
    assert {"Other", "Drug", "Adverse-Effect"} <= set(vocab.types)
    expected = {"Work_For": "worksFor", "Live_In": "homeLocation",
                "Located_In": "containedInPlace", "OrgBased_In": "location"}
    for label, local in expected.items():
        assert vocab.predicate_for(BASE, label) == SCHEMA + local
        assert vocab.relations[label].domain and vocab.relations[label].range
    assert vocab.predicate_for(BASE, "Kill") == BASE + "relation/Kill"
    assert vocab.relations["Adverse-Effect"].range == SCHEMA + "Drug"


def test_mapping_from_json_and_errors(tmp_path):
    path = tmp_path / "v.json"
    path.write_text(json.dumps({"prefixes": {"ex": "http://ex.org/"},
                                "types": {"PER": "ex:Human"},
                                "relations": {"Work_For": "ex:employer"}}))
    vocab = rdf.Vocabulary.from_file(path)
    assert vocab.types["PER"] == "http://ex.org/Human"
    assert vocab.predicate_for(BASE, "Work_For") == "http://ex.org/employer"
    assert vocab.all_prefixes()["ex"] == "http://ex.org/"
    path.write_text(json.dumps({"types": {"PER": "nope:Human"}}))
    with pytest.raises(ValueError, match=r"v\.json.*unknown prefix 'nope'"):
        rdf.Vocabulary.from_file(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="is not valid"):
        rdf.Vocabulary.from_file(path)


def test_language_tag(graph, vocab):
    quads = list(rdf.iter_quads(graph, vocab, lang="de"))
    assert any(o == '"Maria Lopez"@de' for _, _, o, _ in quads)
    with pytest.raises(ValueError, match="not a language tag"):
        list(rdf.iter_quads(graph, vocab, lang="not a tag"))


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(rdf.FORMATS))
def test_every_format_parses_back_with_rdflib_and_pyoxigraph(graph, vocab, tmp_path, fmt):
    path = tmp_path / f"kg.{fmt}"
    result = rdf.export(graph, path, fmt, vocab=vocab)
    oxq, target = parse_both(path, fmt)
    assert result.statements == len(oxq) == rdflib_count(target)
    literals = {q.object.value for q in oxq if isinstance(q.object, ox.Literal)}
    assert NASTY in literals and INJECTION in literals and "𝔘nicorn 😀" in literals
    assert "תל אביב" in literals
    objects = ((q[2] for q in target.quads()) if isinstance(target, rdflib.Dataset)
               else target.objects())
    assert NASTY in {str(o) for o in objects}
    has_graphs = rdf.FORMATS[fmt].named_graphs
    assert any(not isinstance(q.graph_name, ox.DefaultGraph) for q in oxq) == has_graphs


DOUBLE = ox.NamedNode(rdf.XSD + "double")


def _value_term(term):
    """JSON-LD writes doubles as JSON numbers, read back in canonical form: compare values."""
    if isinstance(term, ox.Literal) and term.datatype == DOUBLE:
        return ox.Literal(repr(float(term.value)), datatype=DOUBLE)
    return term


def test_all_formats_hold_the_same_statements(graph, vocab, tmp_path):
    """Quad formats agree exactly; triple formats are the quads minus per-document fact copies."""
    sets = {}
    for fmt in rdf.FORMATS:
        path = tmp_path / f"kg.{fmt}"
        rdf.export(graph, path, fmt, vocab=vocab)
        sets[fmt] = {ox.Quad(q.subject, q.predicate, _value_term(q.object), q.graph_name)
                     for q in ox.parse(path=str(path), format=OX_FORMATS[fmt])}
    assert sets["nq"] == sets["trig"] == sets["jsonld"]
    assert sets["nt"] == sets["ttl"] == sets["xml"]
    flattened = {ox.Quad(q.subject, q.predicate, q.object) for q in sets["nq"]}
    assert sets["nt"] == flattened
    default = {q for q in sets["nq"] if isinstance(q.graph_name, ox.DefaultGraph)}
    fact_copies = [q for q in sets["nq"] if not isinstance(q.graph_name, ox.DefaultGraph)
                   and ox.Quad(q.subject, q.predicate, q.object) in default]
    assert len(fact_copies) == 6  # one per (fact, supporting document)
    assert len(sets["nt"]) == len(sets["nq"]) - len(fact_copies)
    # provenance survives flattening
    assert any(q.predicate.value == rdf.PROV + "wasDerivedFrom" for q in sets["nt"])


def test_export_is_deterministic(graph, vocab, tmp_path):
    a, b = tmp_path / "a.nq", tmp_path / "b.nq"
    rdf.export(graph, a, vocab=vocab)
    rdf.export(build(list(reversed(RECORDS))), b, vocab=vocab)
    assert a.read_bytes() == b.read_bytes()


def test_format_errors(graph, tmp_path):
    with pytest.raises(ValueError, match="cannot tell the RDF format"):
        rdf.export(graph, tmp_path / "kg.unknown")
    with pytest.raises(ValueError, match="unknown RDF format 'n3x'"):
        rdf.export(graph, tmp_path / "kg.nt", "n3x")


class _Sink(io.TextIOBase):
    def __init__(self) -> None:
        self.chars = 0

    def write(self, s: str) -> int:
        self.chars += len(s)
        return len(s)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)


def _stream_peak(n_docs: int) -> tuple[int, int]:
    records = [record(f"doc{i}", f"Person {i}", "PER", "Work_For", f"Org {i % 50}", "ORG",
                      0.5 + (i % 5) / 10, f"Sentence {i}.") for i in range(n_docs)]
    G = build(records)
    sink = _Sink()
    tracemalloc.start()
    try:
        n = rdf.write_stream(rdf.iter_quads(G, rdf.Vocabulary.default()), sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return n, peak, sink.chars


def test_streaming_writer_memory_does_not_grow_with_statements():
    small_n, small_peak, _ = _stream_peak(200)
    big_n, big_peak, big_chars = _stream_peak(4000)
    assert big_n > 15 * small_n
    # Only the per-entity/per-document IRI caches and the sorted edge keys grow; the statements
    # themselves are never held (the output is several times larger than the growth).
    assert big_peak - small_peak < 0.25 * big_chars


# --- SHACL -----------------------------------------------------------------------------------


def test_shacl_conforms_and_reports_violations(graph, vocab):
    report = rdf.validate(graph, vocab)
    assert report.conforms and report.violations == 0
    bad = build(RECORDS + [record("d9", "Lyon", "LOC", "Work_For", "Acme", "ORG", 0.9),
                           record("d9", "Bob", "PER", "OrgBased_In", "Nowhere Inc", "ORG", 0.9)])
    report = rdf.validate(bad, vocab)
    assert not report.conforms
    assert report.violations == 3  # Lyon is no Person; Bob is no Organization; Nowhere no Place
    focus = {r["focus"] for r in report.results}
    assert BASE + "entity/LOC/lyon" in focus and BASE + "entity/PER/bob" in focus
    assert "3 violation(s)" in report.summary()


# --- CLI -------------------------------------------------------------------------------------


def test_cli_export_formats_and_validate(graph, tmp_path):
    gpath = tmp_path / "graph.json"
    save_graph(graph, gpath)
    runner = CliRunner()
    for fmt in ("ttl", "nq"):
        out = tmp_path / f"out.{fmt}"
        res = runner.invoke(app, ["export", str(gpath), "-o", str(out), "--validate"])
        assert res.exit_code == 0, res.output
        assert "conforms" in res.output
        assert len(set(ox.parse(path=str(out), format=OX_FORMATS[fmt]))) > 50
    bad = build(RECORDS + [record("d9", "Lyon", "LOC", "Work_For", "Acme", "ORG", 0.9)])
    save_graph(bad, tmp_path / "bad.graphml")
    res = runner.invoke(app, ["export", str(tmp_path / "bad.graphml"), "-o",
                              str(tmp_path / "bad.trig"), "--validate", "--strict"])
    assert res.exit_code == 1
    assert "1 violation(s)" in res.output and "entity/LOC/lyon" in res.output
    res = runner.invoke(app, ["export", str(gpath), "-o", str(tmp_path / "x.nt"),
                              "--format", "bogus"])
    assert res.exit_code == 1 and "unknown RDF format 'bogus'" in res.output
    res = runner.invoke(app, ["export", str(tmp_path / "missing.json"), "-o", "x.nt"])
    assert res.exit_code == 1 and "missing.json" in res.output
