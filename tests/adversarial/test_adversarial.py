"""The adversarial corpus (tests/adversarial/README.md) through every stage of kgx: extract,
resume, graph (JSON and GraphML), export (every format), load, query, related, stats, convert.
Nothing crashes, every input is accounted for, every skipped line is named, nothing a terminal
would act on is printed raw."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from kgx.cli import app
from kgx.graph import load_graph

HERE = Path(__file__).parent
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\x01")
OX = {"nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS, "ttl": ox.RdfFormat.TURTLE,
      "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}


def no_raw(text: str) -> None:
    for ch in RAW:
        assert ch not in text, f"{ch!r} printed raw in:\n{text[:2000]}"


def strict_json(line: str):
    def refuse(name):
        raise AssertionError(f"{name} written")

    return json.loads(line, parse_constant=refuse)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """The committed documents plus the files that are made at run time."""
    root = tmp_path_factory.mktemp("adversarial") / "in"
    shutil.copytree(HERE / "documents", root)
    (root / os.fsdecode(b"caf\xe9.txt")).write_text("Maria Lopez works for Acme in Paris.",
                                                    encoding="utf-8")
    (root / "latin1.txt").write_bytes("Zoë works in Paris.".encode("latin-1"))
    (root / "binary.txt").write_bytes(b"Acme\x00\x01\x02 is in Oslo.")
    (root / "raw-bytes.jsonl").write_bytes(
        b'{"id": "r1", "text": "Acme is in Paris."}\n'
        b'{"id": "r2", "text": "caf\xe9 is not UTF-8"}\n'
        b'{"id": "r3", "text": "John Smith lives in Berlin."}\n')
    lines = "".join(json.dumps({"id": f"g{i}", "text": "Ana Diaz works for Globex in Oslo."})
                    + "\n" for i in range(300)).encode()
    packed = gzip.compress(lines)
    (root / "trunc.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    return root


@pytest.fixture(scope="module")
def run(inputs, fixture_model, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("adversarial-run") / "run"
    res = CliRunner().invoke(app, ["extract", str(inputs), "--model", str(fixture_model),
                                   "--output", str(out), "--batch-size", "4"])
    return out, res.output + f"\nexit {res.exit_code}"


def test_extract_accounts_for_every_input(run):
    out, output = run
    assert output.endswith("exit 0"), output
    no_raw(output)
    text = (out / "manifest.jsonl").read_text(encoding="utf-8")  # valid UTF-8
    lines = [strict_json(line) for line in text.splitlines()]
    m = {line["id"]: line for line in lines}
    assert len(m) == len(lines)
    ok = {i for i, line in m.items() if line["status"] == "ok"}
    assert {"plain", "7", "controls", "escapes", "bidi", "L" * 9000, "caf\\xe9.txt", "r1",
            "r3"} <= ok
    assert m["blank"]["status"] == "skipped"
    errors = {i: line["error"] for i, line in m.items() if line["status"] == "error"}
    expect = {"docs.jsonl:2": "lone surrogate", "docs.jsonl:3": "lone surrogate",
              "docs.jsonl:4": "lone surrogate", "docs.jsonl:5": "NaN",
              "docs.jsonl:7": "duplicate id", "docs.jsonl:8": "must be a string or an integer",
              "not-text": "not a string", "docs.jsonl:15": "malformed JSON",
              "docs.jsonl:16": "duplicate id", "latin1.txt": "not valid UTF-8",
              "binary.txt": "NUL byte", "raw-bytes.jsonl:2": "not valid UTF-8"}
    for doc_id, what in expect.items():
        assert what in errors.get(doc_id, ""), (doc_id, errors.get(doc_id))
    trunc = [e for i, e in errors.items() if i.startswith("trunc.jsonl.gz:")]
    assert len(trunc) == 1 and "truncated or corrupt" in trunc[0]
    assert 0 < sum(1 for i in ok if i.startswith("g")) < 300
    for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines():
        strict_json(line)


def test_resume_after_the_adversarial_run_changes_nothing(run, inputs, fixture_model):
    out, _ = run
    before = (out / "manifest.jsonl").read_text(encoding="utf-8")
    res = CliRunner().invoke(app, ["extract", str(inputs), "--model", str(fixture_model),
                                   "--output", str(out), "--resume"])
    assert res.exit_code == 0, res.output
    assert " 0 documents" in res.output or res.output.split(":")[1].strip().startswith("0 doc")
    assert sorted(before.splitlines()) == sorted(
        (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module")
def graph(run, tmp_path_factory) -> tuple[Path, str]:
    out, _ = run
    where = tmp_path_factory.mktemp("adversarial-graph")
    res = CliRunner().invoke(app, ["graph", str(out), str(HERE / "records.jsonl"), "-o",
                                   str(where / "g.json"), "--stats"])
    return where / "g.json", res.output + f"\nexit {res.exit_code}"


def test_graph_skips_and_names_every_bad_record(graph):
    path, output = graph
    assert output.endswith("exit 0"), output
    no_raw(output)
    for lineno in range(5, 14):
        assert f"records.jsonl:{lineno}: malformed record" in output, lineno
    assert "9 malformed lines skipped" in output
    G = load_graph(path)
    names = {d["name"] for _, d in G.nodes(data=True)}
    assert {"Acme\x01Corp", "Evil\x1b]0;pwned\x07\x1b[2J", "\u202eCorp", "Zoë Ångström",
            "Zoe Angstrom 1fdc419ff189"} <= names
    zoes = [n for n, d in G.nodes(data=True) if d["name"].lower().startswith("zo")]
    assert len(set(zoes)) == 2  # the crafted name is its own entity
    assert "L" * 9000 in G.graph["kgx_doc_index"]


def test_graphml_round_trips_the_adversarial_graph(graph, tmp_path):
    import xml.etree.ElementTree as ET

    path, _ = graph
    G = load_graph(path)
    from kgx.graph import save_graph

    save_graph(G, tmp_path / "g.graphml")
    ET.parse(tmp_path / "g.graphml")
    H = load_graph(tmp_path / "g.graphml")
    assert sorted(G.nodes(data=True)) == sorted(H.nodes(data=True))
    assert sorted(G.edges(keys=True, data=True)) == sorted(H.edges(keys=True, data=True))


def test_export_load_query_related_stats(graph, tmp_path):
    path, _ = graph
    runner = CliRunner()
    for fmt, oxfmt in OX.items():
        res = runner.invoke(app, ["export", str(path), "-o", str(tmp_path / f"g.{fmt}")])
        assert res.exit_code == 0, res.output
        quads = list(ox.parse(path=str(tmp_path / f"g.{fmt}"), format=oxfmt))
        labels = {q.object.value for q in quads if q.predicate.value.endswith("#label")}
        assert "Evil\x1b]0;pwned\x07\x1b[2J" in labels and "Acme\x01Corp" in labels
    res = runner.invoke(app, ["export", str(path), "-o", str(tmp_path / "g.rdf")])
    assert res.exit_code == 1 and "XML 1.0" in res.output
    store = tmp_path / "store"
    for _ in range(2):
        res = runner.invoke(app, ["load", str(tmp_path / "g.nq"), "--store", str(store)])
        assert res.exit_code == 0, res.output
    graphs = {q.graph_name.value for q in ox.parse(path=str(tmp_path / "g.nq"),
                                                    format=ox.RdfFormat.N_QUADS)
              if isinstance(q.graph_name, ox.NamedNode)}
    assert max(len(g) for g in graphs) < 400  # the 9,000-character id is hashed in its IRI
    for fmt in ("table", "json", "csv"):
        res = runner.invoke(app, ["query", "--store", str(store), "--format", fmt,
                                  "SELECT ?s ?n WHERE { ?s <http://www.w3.org/2000/01/"
                                  "rdf-schema#label> ?n }"])
        assert res.exit_code == 0, res.output
        if fmt != "csv":  # CSV is data for a program, not a terminal view
            no_raw(res.output)
    res = runner.invoke(app, ["related", "Acme", "--graph", str(path)])
    assert res.exit_code == 0, res.output
    no_raw(res.output)
    res = runner.invoke(app, ["graph", str(path.parent / "none"), "-o", str(tmp_path / "x.json")])
    assert res.exit_code == 1 and "no such input" in res.output


def test_convert_the_adversarial_annotations(tmp_path):
    runner = CliRunner()
    src = HERE / "annotated.jsonl"
    res = runner.invoke(app, ["convert", str(src), str(tmp_path / "a.spacy")])
    assert res.exit_code == 1 and "annotated.jsonl:2" in res.output and "lone surrogate" in \
        res.output
    res = runner.invoke(app, ["convert", str(src), str(tmp_path / "a.spacy"), "--skip-invalid"])
    assert res.exit_code == 0, res.output
    no_raw(res.output)
    assert "2 docs" in res.output and "1 entities without text dropped (with 1 relations)" in \
        res.output and "1 malformed records skipped" in res.output
