"""Issue 13 (a graph users can trust), the graph side: updates equal a build from scratch,
entity IRIs never collide, and bad records or names never crash or corrupt a graph file."""

from __future__ import annotations

import json

from test_batch import make_corpus
from typer.testing import CliRunner

from kgx.batch import ExtractionRun
from kgx.cli import app
from kgx.graph import load_graph


def same_graph(a, b) -> bool:
    return (a.graph == b.graph and sorted(a.nodes(data=True)) == sorted(b.nodes(data=True))
            and sorted(a.edges(keys=True, data=True)) == sorted(b.edges(keys=True, data=True)))


def test_update_drops_a_document_that_now_has_no_relations(fixture_model, tmp_path):
    """Item 2a: a document re-extracted with 0 relations (manifest "shard": null) loses its old
    edges on `kgx graph RUN --update`, as a build from scratch has none."""
    corpus = make_corpus(tmp_path / "c.jsonl", 6)
    run = tmp_path / "run"
    ExtractionRun([corpus], fixture_model, run, progress=False).run()
    runner = CliRunner()
    graph = tmp_path / "g.json"
    res = runner.invoke(app, ["graph", str(run), "-o", str(graph)])
    assert res.exit_code == 0, res.output
    assert "d00002" in load_graph(graph).graph["kgx_doc_index"]
    lines = corpus.read_text().splitlines()
    changed = json.loads(lines[2])
    changed["text"] = "Nothing anyone would call an entity happened here."
    lines[2] = json.dumps(changed)
    corpus.write_text("\n".join(lines) + "\n")
    ExtractionRun([corpus], fixture_model, run, resume=True, progress=False).run()
    res = runner.invoke(app, ["graph", str(run), "-o", str(graph), "--update"])
    assert res.exit_code == 0, res.output
    scratch = tmp_path / "scratch.json"
    assert runner.invoke(app, ["graph", str(run), "-o", str(scratch)]).exit_code == 0
    updated = load_graph(graph)
    assert "d00002" not in updated.graph["kgx_doc_index"]
    assert not any(ev["doc_id"] == "d00002" for _, _, d in updated.edges(data=True)
                   for ev in d["evidence"])
    assert same_graph(updated, load_graph(scratch))




def test_a_crafted_name_cannot_take_another_entitys_iri():
    """Item 4: "Zoë Ångström" had the slug zoe-angstrom-1fdc419ff189, which the plain name
    "Zoe Angstrom 1fdc419ff189" spelled too: the crafted name merged into the entity and
    carried its facts. Hashed slugs and plain slugs can no longer meet."""
    from kgx.graph import DEFAULT_BASE, GraphBuilder, entity_iri, normalize_name

    real = entity_iri(DEFAULT_BASE, "PER", normalize_name("Zoë Ångström"))
    slug = real.rsplit("/", 1)[1]
    crafted = " ".join(slug.replace("_", "-").split("-"))
    assert entity_iri(DEFAULT_BASE, "PER", normalize_name(crafted)) != real
    builder = GraphBuilder()

    def rec(doc, head):
        return {"doc_id": doc, "relation": "Work_For", "score": 0.9,
                "head": {"text": head, "label": "PER", "start_char": 0, "end_char": len(head)},
                "tail": {"text": "Acme", "label": "ORG", "start_char": 40, "end_char": 44}}

    builder.add_records([rec("a", "Zoë Ångström"), rec("b", crafted)])
    assert len([n for n, d in builder.graph.nodes(data=True) if d["label"] == "PER"]) == 2


def test_entity_iris_are_injective_on_name_and_type():
    from kgx.graph import DEFAULT_BASE, entity_iri

    names = ["zoë ångström", "zoe angstrom", "zoe-angstrom", "zoe angstrom 1fdc419ff189",
             "東京", "京東", "entity", "paris 😀", "paris", "a_b", "a b", "a  b", "A b"]
    iris = {(t, n): entity_iri(DEFAULT_BASE, t, n) for t in ("PER", "PER/x", "PER%2Fx")
            for n in names}
    assert len(set(iris.values())) == len(iris)


def _rec(doc="d1", head="Maria Lopez", start=0, end=11, **extra):
    rec = {"doc_id": doc, "relation": "Work_For", "score": 0.9,
           "head": {"text": head, "label": "PER", "start_char": start, "end_char": end},
           "tail": {"text": "Acme", "label": "ORG", "start_char": 22, "end_char": 26}}
    rec.update(extra)
    return json.dumps(rec)  # a lone surrogate becomes a \ud800 escape


def test_bad_records_are_skipped_with_file_and_line(tmp_path):
    """Items 7 and 11: a lone surrogate made `kgx graph` exit 1 with no file or line (in
    entity_iri); offsets of -5, end before start, `true` and 10^30 were accepted."""
    lines = [
        _rec("ok1"),
        _rec("d2", head="bad \ud800 name"),
        _rec("d3\udc00"),
        _rec("d4", start=-5),
        _rec("d5", start=11, end=3),
        _rec("d6", end=True),
        _rec("d7", end=10**30),
        _rec("d8", sent_start_char=True),
        _rec("ok2", head="John Smith", end=10),
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["graph", str(path), "-o", str(tmp_path / "g.json")])
    assert res.exit_code == 0, res.output
    for lineno in range(2, 9):
        assert f"r.jsonl:{lineno}: malformed record" in res.output, res.output
    assert "lone surrogate" in res.output and "7 malformed lines skipped" in res.output
    assert sorted(load_graph(tmp_path / "g.json").graph["kgx_doc_index"]) == ["ok1", "ok2"]


def test_a_truncated_jsonl_gz_keeps_what_was_read(tmp_path):
    """Item 10: a truncated .jsonl.gz into `kgx graph` gave "Aborted." with no file or reason
    and lost the records before the damage."""
    import gzip

    data = gzip.compress(("\n".join(_rec(f"d{i}") for i in range(400)) + "\n").encode())
    path = tmp_path / "r.jsonl.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    res = CliRunner().invoke(app, ["graph", str(path), "-o", str(tmp_path / "g.json")])
    assert res.exit_code == 0, res.output
    assert "r.jsonl.gz" in res.output and "truncated or corrupt" in res.output
    docs = load_graph(tmp_path / "g.json").graph["kgx_doc_index"]
    assert 0 < len(docs) < 400
    bad = tmp_path / "latin1.jsonl"
    latin1 = json.dumps(json.loads(_rec("b", head="caf\xe9")), ensure_ascii=False)
    bad.write_bytes(_rec("a").encode() + b"\n" + latin1.encode("latin-1") + b"\n"
                    + _rec("c").encode() + b"\n")
    res = CliRunner().invoke(app, ["graph", str(bad), "-o", str(tmp_path / "g2.json")])
    assert res.exit_code == 0, res.output
    assert "latin1.jsonl:2" in res.output and "UTF-8" in res.output
    assert sorted(load_graph(tmp_path / "g2.json").graph["kgx_doc_index"]) == ["a", "c"]


def test_records_validation_rejects_bad_offsets():
    import pytest

    from kgx.records import RecordError, validate_record

    good = json.loads(_rec())
    validate_record(good)
    for side, key, value in [("head", "start_char", -5), ("head", "end_char", True),
                             ("head", "end_char", 10**30), ("tail", "start_char", 30),
                             ("tail", "start_char", 26.0)]:
        bad = json.loads(_rec())
        bad[side][key] = value
        with pytest.raises(RecordError):
            validate_record(bad)


CONTROL = "Acme\x01Corp\x1b[2J\ufffe"


def test_control_characters_round_trip_through_graphml(tmp_path):
    """Item 9: a \\x01 in a name gave a .graphml that no XML parser reads back (exit 0)."""
    import xml.etree.ElementTree as ET

    path = tmp_path / "r.jsonl"
    path.write_text("\n".join([
        _rec("d1", head=CONTROL, end=len(CONTROL), sentence="s\x0b\x0c\x7f end"),
        _rec("d\x02id")]) + "\n", encoding="utf-8")
    runner = CliRunner()
    for name in ("g.graphml", "g.json"):
        res = runner.invoke(app, ["graph", str(path), "-o", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
    ET.parse(tmp_path / "g.graphml")  # well-formed XML
    assert same_graph(load_graph(tmp_path / "g.graphml"), load_graph(tmp_path / "g.json"))
    names = {d["name"] for _, d in load_graph(tmp_path / "g.graphml").nodes(data=True)}
    assert CONTROL in names


def test_rdf_xml_refuses_what_xml_cannot_hold(tmp_path):
    """Item 9: `kgx export --format xml` wrote a file no XML parser reads back, exit 0. XML 1.0
    cannot carry U+0001 at all: the export says so (the other formats carry it, round trip)."""
    import pyoxigraph as ox

    path = tmp_path / "r.jsonl"
    path.write_text(_rec("d1", head=CONTROL, end=len(CONTROL)) + "\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["graph", str(path), "-o", str(tmp_path / "g.json")]).exit_code == 0
    res = runner.invoke(app, ["export", str(tmp_path / "g.json"), "-o", str(tmp_path / "g.rdf")])
    assert res.exit_code == 1 and "XML 1.0" in res.output and "U+0001" in res.output
    assert not list(tmp_path.glob("g.rdf*"))
    formats = {"nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS,
               "ttl": ox.RdfFormat.TURTLE, "trig": ox.RdfFormat.TRIG,
               "jsonld": ox.RdfFormat.JSON_LD}
    for fmt, oxfmt in formats.items():
        out = tmp_path / f"g.{fmt}"
        res = runner.invoke(app, ["export", str(tmp_path / "g.json"), "-o", str(out)])
        assert res.exit_code == 0, res.output
        labels = {q.object.value for q in ox.parse(path=str(out), format=oxfmt)
                  if q.predicate.value.endswith("#label")}
        assert CONTROL in labels, fmt


EVIL = "Evil\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eCorp"


def _no_escapes(text: str) -> None:
    for ch in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert ch not in text, f"{ch!r} printed raw"


def test_terminal_escapes_in_names_are_not_printed_raw(tmp_path):
    """Item 14: \\x1b]0;... and \\x1b[2J in names were printed raw by `kgx query` (table),
    `kgx related` and `kgx graph --stats`."""
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join([_rec("d1", head=EVIL, end=len(EVIL)), _rec("d2")]) + "\n",
                    encoding="utf-8")
    runner = CliRunner()
    graph = tmp_path / "g.json"
    for extra in ([], ["--json"]):
        res = runner.invoke(app, ["graph", str(path), "-o", str(graph), "--stats", *extra])
        assert res.exit_code == 0, res.output
        _no_escapes(res.output)
    assert "Evil\\u001b]0;pwned" in res.output
    res = runner.invoke(app, ["graph", str(path), "-o", str(graph), "--stats"])
    assert "Evil\\x1b]0;pwned\\x07" in res.output
    for extra in ([], ["--json"]):
        res = runner.invoke(app, ["related", "Acme", "--graph", str(graph), *extra])
        assert res.exit_code == 0, res.output
        _no_escapes(res.output)
    assert "Evil" in res.output
    runner.invoke(app, ["export", str(graph), "-o", str(tmp_path / "g.nq")])
    store = tmp_path / "store"
    assert runner.invoke(app, ["load", str(tmp_path / "g.nq"), "--store", str(store)]
                         ).exit_code == 0
    for fmt in ("table", "json"):
        res = runner.invoke(app, ["query", "--store", str(store), "--format", fmt,
                                  "SELECT ?n WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#"
                                  "label> ?n }"])
        assert res.exit_code == 0, res.output
        _no_escapes(res.output)
        assert "Evil" in res.output
    json.loads(res.output)  # the JSON output stays JSON


def test_a_full_disk_leaves_no_tmp_file(tmp_path):
    """Item 15: `kgx graph` on a full disk left a 0-byte .tmp beside the graph. /dev/full
    answers every write with ENOSPC; the .tmp name is made to lead there."""
    import os

    import pytest

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(_rec(f"d{i}") for i in range(50)) + "\n", encoding="utf-8")
    runner = CliRunner()
    for name in ("g.json", "g.graphml"):
        out = tmp_path / name
        assert runner.invoke(app, ["graph", str(path), "-o", str(out)]).exit_code == 0
        before = out.read_bytes()
        tmp = tmp_path / (name + ".tmp")
        tmp.symlink_to("/dev/full")
        res = runner.invoke(app, ["graph", str(path), "-o", str(out), "--min-score", "0.5"])
        assert res.exit_code == 1 and "No space left" in res.output, res.output
        assert not tmp.exists() and not tmp.is_symlink()
        assert out.read_bytes() == before  # the graph that was there is untouched
