"""kgx.store: the embedded store, the QA queries, and pushes to a real Oxigraph server."""

from __future__ import annotations

import base64
import json
import logging
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from test_rdf import BASE, INJECTION, NASTY, RECORDS, build, record
from typer.testing import CliRunner

from kgx import rdf
from kgx.cli import app
from kgx.graph import entity_iri, load_graph, normalize_name, save_graph
from kgx.store import (
    Endpoints,
    RemoteStore,
    StoreError,
    load_file,
    open_store,
    parse_param,
    push_file,
    query_store,
)

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "docs" / "queries"
RDFS_LABEL = ox.NamedNode(rdf.RDFS + "label")


def quads_of(path: Path) -> set[ox.Quad]:
    return set(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))


def load_graph_of(export: Path):
    """The graph an N-Quads export was written from (the fixtures keep it beside the file)."""
    return load_graph(export.with_suffix(".json"))


@pytest.fixture(scope="module")
def export_nq(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rdf") / "kg.nq"
    G = build()
    rdf.export(G, path)
    save_graph(G, path.with_suffix(".json"))
    return path


@pytest.fixture(scope="module")
def export_b(tmp_path_factory) -> Path:
    """The same graph after document d2 was re-processed with a different result."""
    records = [r for r in RECORDS if r["doc_id"] != "d2"]
    records.append(record("d2", "Maria Lopez", "PER", "Work_For", "Acme", "ORG", 0.3, at=7))
    path = tmp_path_factory.mktemp("rdf") / "kg-b.nq"
    rdf.export(build(records), path)
    return path


# --- embedded store --------------------------------------------------------------------------


def test_load_is_idempotent_and_replaces_document_graphs(tmp_path, export_nq, export_b):
    store = open_store(tmp_path / "store")
    first = load_file(store, export_nq)
    assert first.quads == first.store_quads == len(quads_of(export_nq))
    assert first.graphs_replaced == 4
    again = load_file(store, export_nq)
    assert again.store_quads == first.store_quads
    load_file(store, export_b)
    d2 = ox.NamedNode(BASE + "document/d2")
    in_store = set(store.quads_for_pattern(None, None, None, d2))
    assert in_store == {q for q in quads_of(export_b) if q.graph_name == d2}
    # item 2b: the merged view is replaced whole: the old score does not stay
    assert set(store.quads_for_pattern(None, None, None, None)) == quads_of(export_b)
    # --merge-default keeps the older behaviour (for files that are not a whole graph)
    load_file(store, export_nq)
    load_file(store, export_b, replace_default=False)
    assert set(store.quads_for_pattern(None, None, None, None)) > quads_of(export_b)


@pytest.fixture(scope="module")
def export_c(tmp_path_factory) -> Path:
    """The graph after documents d2 and d3 left it (re-extracted with no relation) and d1 was
    re-processed with a lower score."""
    records = [r for r in RECORDS if r["doc_id"] not in ("d2", "d3")]
    records = [{**r, "score": 0.4} if r["doc_id"] == "d1" and r["relation"] == "Work_For"
               else r for r in records]
    path = tmp_path_factory.mktemp("rdf") / "kg-c.nq"
    G = build(records)
    rdf.export(G, path)
    save_graph(G, path.with_suffix(".json"))
    return path


def qa_answers(store: ox.Store) -> dict[str, list]:
    """What every query of docs/queries answers (the QA a user runs after an update)."""
    params = {"who_works_for": {"name": "Acme"}, "where_is_located": {"name": "Acme"},
              "facts_about": {"name": "Maria Lopez"}, "entities_of_type": {"type": "PER"},
              "most_confident_facts": {}}
    return {q: run_query(store, q, **p) for q, p in params.items()}


@pytest.mark.parametrize("fmt", ["nq", "trig", "jsonld", "ttl", "nt"])
def test_an_updated_store_answers_as_one_loaded_from_scratch(tmp_path, export_nq, export_c, fmt):
    """Item 2b: after loading an updated export, nothing of the replaced or removed documents
    is left (facts, scores, labels, counts, document graphs), in every format; loads stay
    idempotent."""
    old, new = tmp_path / f"old.{fmt}", tmp_path / f"new.{fmt}"
    rdf.export(load_graph_of(export_nq), old)
    rdf.export(load_graph_of(export_c), new)
    updated = open_store(tmp_path / "updated")
    load_file(updated, export_nq)  # an earlier load kept its document graphs
    load_file(updated, old)
    result = load_file(updated, new)
    scratch = open_store(tmp_path / "scratch")
    load_file(scratch, new)
    assert set(updated) == set(scratch)
    assert qa_answers(updated) == qa_answers(scratch)
    # triple formats have no document graphs: the load of old.* already dropped them
    assert result.graphs_dropped == (0 if fmt in ("ttl", "nt") else 2)
    works = [r for r in qa_answers(updated)["who_works_for"]]
    assert [float(r["score"]) for r in works] == [0.4]
    load_file(updated, new)
    assert set(updated) == set(scratch)


def test_named_graphs_that_are_not_kgx_documents_stay(tmp_path, export_nq, export_c):
    store = open_store(tmp_path / "store")
    mine = ox.Quad(ox.NamedNode("http://example.org/a"), RDFS_LABEL, ox.Literal("mine"),
                   ox.NamedNode("http://example.org/my-graph"))
    store.add(mine)
    load_file(store, export_nq)
    load_file(store, export_c)
    assert mine in set(store)


def test_cli_load_replaces_by_default(tmp_path, export_nq, export_c):
    runner = CliRunner()
    store = tmp_path / "store"
    assert runner.invoke(app, ["load", str(export_nq), "--store", str(store)]).exit_code == 0
    res = runner.invoke(app, ["load", str(export_c), "--store", str(store)])
    assert res.exit_code == 0, res.output
    assert "2 dropped" in res.output
    assert f"the store holds {len(quads_of(export_c))} quads" in res.output


def test_a_killed_bulk_load_leaves_no_files_behind(tmp_path, export_nq):
    """Item 15: a killed `kgx load` leaves the bulk loader's bulk-*.sst files in the store's
    folder (100 MB for a large file); the next open removes them."""
    location = tmp_path / "store"
    store = open_store(location)
    load_file(store, export_nq)
    del store
    orphan = location / "bulk-93643726370256259586195650983510458706.sst"
    orphan.write_bytes(b"\0" * 4096)  # what `kill -9` during bulk_load leaves (observed)
    res = CliRunner().invoke(app, ["load", str(export_nq), "--store", str(location)])
    assert res.exit_code == 0, res.output
    assert not list(location.glob("bulk-*.sst"))
    assert f"the store holds {len(quads_of(export_nq))} quads" in res.output


def test_load_triple_formats_and_errors(tmp_path):
    G = build()
    rdf.export(G, tmp_path / "kg.ttl")
    store = open_store(tmp_path / "store")
    result = load_file(store, tmp_path / "kg.ttl")
    assert result.graphs_replaced == 0 and result.store_quads == result.quads > 100
    (tmp_path / "bad.nq").write_text("<http://a> <http://b> .\n")
    with pytest.raises(StoreError, match=r"bad\.nq is not valid nq"):
        load_file(store, tmp_path / "bad.nq")
    with pytest.raises(StoreError, match="no such RDF file"):
        load_file(store, tmp_path / "missing.nq")
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        open_store(tmp_path / "file")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, export_nq) -> ox.Store:
    store = open_store(tmp_path_factory.mktemp("emb") / "store")
    load_file(store, export_nq)
    return store


def run_query(store, query: str, **params: str) -> list[dict[str, str]]:
    sparql = (QUERIES / f"{query}.rq").read_text(encoding="utf-8")
    result = query_store(store, sparql, {k: ox.Literal(v) for k, v in params.items()})
    return [{k: v["value"] for k, v in row.items()} for row in result["results"]["bindings"]]


def test_query_who_works_for(loaded):
    rows = run_query(loaded, "who_works_for", name="acme")
    assert [r["personName"] for r in rows] == ["Maria Lopez"]
    assert float(rows[0]["score"]) == pytest.approx(1 - 0.1 * 0.3)
    # an alias finds the same organisation
    assert [r["personName"] for r in run_query(loaded, "who_works_for", name="ACME")] == \
        ["Maria Lopez"]


def test_query_where_is_located(loaded):
    rows = run_query(loaded, "where_is_located", name="Acme")
    assert {r["placeName"] for r in rows} == {"Paris", "France"}  # France via containedInPlace*
    assert {r["relation"] for r in rows} == {"https://schema.org/location"}
    rows = run_query(loaded, "where_is_located", name=INJECTION)
    assert [r["placeName"] for r in rows] == ["תל אביב"]


def test_query_facts_about_with_provenance(loaded):
    rows = run_query(loaded, "facts_about", name="Maria Lopez")
    works = [r for r in rows if r["relation"] == "Work_For"]
    assert [(r["docId"], float(r["confidence"])) for r in works] == [("d1", 0.9), ("d2", 0.7)]
    assert works[0]["sentence"] == NASTY and "sentence" not in works[1]
    assert (works[0]["headStart"], works[0]["headEnd"]) == ("0", "11")
    kill = [r for r in rows if r["relation"] == "Kill"]
    assert kill and kill[0]["subjectName"] == "𝔘nicorn 😀" and kill[0]["docId"] == "d3"


def test_query_entities_of_type_and_most_confident(loaded):
    names = {r["entityName"] for r in run_query(loaded, "entities_of_type", type="LOC")}
    assert names == {"Paris", "France", "תל אביב"}
    rows = run_query(loaded, "most_confident_facts")
    assert (rows[0]["subjectName"], rows[0]["relation"], rows[0]["objectName"]) == \
        ("Maria Lopez", "Work_For", "Acme")
    assert rows[0]["evidence"] == "2"


def test_query_parameters_are_bound_not_pasted(loaded):
    before = len(loaded)
    for name in (INJECTION, '") } } ; CLEAR ALL #', "\\u0022"):
        assert run_query(loaded, "who_works_for", name=name) == []
    assert len(loaded) == before
    assert parse_param("name=" + INJECTION) == ("name", ox.Literal(INJECTION))
    assert parse_param("x=<http://a/b>") == ("x", ox.NamedNode("http://a/b"))
    with pytest.raises(ValueError, match="name=value"):
        parse_param("novalue")
    with pytest.raises(StoreError, match="SELECT clause"):
        query_store(loaded, "SELECT ?s WHERE { ?s ?p ?name }", {"name": ox.Literal("x")})


def test_cli_load_and_query(tmp_path, export_nq):
    runner = CliRunner()
    store = tmp_path / "store"
    for _ in range(2):
        res = runner.invoke(app, ["load", str(export_nq), "--store", str(store)])
        assert res.exit_code == 0, res.output
        assert f"the store holds {len(quads_of(export_nq))} quads" in res.output
    res = runner.invoke(app, ["query", "--store", str(store), "--file",
                              str(QUERIES / "who_works_for.rq"), "--param", "name=Acme"])
    assert res.exit_code == 0, res.output
    assert "Maria Lopez" in res.output and "(1 row)" in res.output
    res = runner.invoke(app, ["query", "--store", str(store), "--format", "json",
                              "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"])
    assert res.exit_code == 0, res.output
    n_named = sum(1 for q in quads_of(export_nq) if not isinstance(q.graph_name, ox.DefaultGraph))
    assert json.loads(res.output)["results"]["bindings"][0]["n"]["value"] == str(n_named)
    res = runner.invoke(app, ["query", "--store", str(store), "--format", "csv", "--file",
                              str(QUERIES / "entities_of_type.rq"), "-p", "type=ORG"])
    assert res.exit_code == 0 and res.output.splitlines()[0] == "type,entity,entityName,mentions"
    res = runner.invoke(app, ["query", "--store", str(store), "SELECT nonsense"])
    assert res.exit_code == 1 and "invalid SPARQL" in res.output
    res = runner.invoke(app, ["query", "--store", str(tmp_path / "none"), "ASK {}"])
    assert res.exit_code == 1 and "no store at" in res.output


# --- a real Oxigraph server ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oxigraph_binary() -> str:
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(exe).exists():
        pytest.skip("the oxigraph server binary is not installed")
    return exe


class OxigraphServer:
    """``oxigraph serve`` on a free local port; can be killed and restarted on the same data."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log = open(self.location.with_suffix(".log"), "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [oxigraph_binary(), "serve", "--location", str(self.location),
             "--bind", f"127.0.0.1:{self.port}"], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"oxigraph exited: {self.location.with_suffix('.log')}")
            try:
                requests.get(self.url + "/query", params={"query": "ASK {}"}, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("oxigraph did not answer within 30 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
        self.log.close()


@pytest.fixture
def server(tmp_path):
    srv = OxigraphServer(tmp_path / "oxigraph")
    srv.start()
    yield srv
    srv.stop()


def remote(server, **kwargs) -> RemoteStore:
    return RemoteStore(Endpoints.build(server.url, "oxigraph"), env={}, **kwargs)


def server_quads(store: RemoteStore) -> set[ox.Quad]:
    return set(ox.parse(store.dump(), format=ox.RdfFormat.N_QUADS))


@pytest.mark.parametrize("mode", ["gsp", "update"])
def test_push_count_query_and_repush(server, export_nq, export_b, mode):
    store = remote(server)
    expected = quads_of(export_nq)
    result = push_file(store, export_nq, mode=mode, batch_size=50)
    assert result.graphs == 4 and result.quads == len(expected)
    assert store.count() == len(expected)
    assert server_quads(store) == expected
    rows = store.query("SELECT ?o WHERE { ?s <https://schema.org/worksFor> ?o }")
    assert [r["o"]["value"] for r in rows["results"]["bindings"]] == [BASE + "entity/ORG/acme"]
    push_file(store, export_nq, mode=mode, batch_size=50)
    assert server_quads(store) == expected  # no duplicates, nothing lost
    result = push_file(store, export_b, mode=mode, default_chunk=40)
    assert server_quads(store) == quads_of(export_b)
    if mode == "gsp":  # the documents listed, 4 document graphs, then the default graph in
        # chunks (PUT, POST, ...), then the two counts that verify the push
        n_default = sum(1 for q in quads_of(export_b) if isinstance(q.graph_name, ox.DefaultGraph))
        assert result.requests == 1 + 4 + -(-n_default // 40) + 2


def test_remote_query_binds_parameters_as_terms(server, export_nq, monkeypatch):
    # `kgx query --endpoint --param`: the same rows as the embedded store, the parameters bound
    # as terms on the client; hostile values match nothing and change nothing
    monkeypatch.delenv("KGX_STORE_TOKEN", raising=False)
    monkeypatch.delenv("KGX_STORE_USER", raising=False)
    push_file(remote(server), export_nq)
    runner = CliRunner()
    query = ["query", "--endpoint", server.url, "--file", str(QUERIES / "who_works_for.rq")]
    res = runner.invoke(app, [*query, "--param", "name=ACME"])
    assert res.exit_code == 0, res.output
    assert "Maria Lopez" in res.output and "(1 row)" in res.output
    before = remote(server).count()
    for name in (INJECTION, '") } } ; CLEAR ALL #', "\\u0022",
                 "x\" } INSERT DATA { <a:b> <a:b> <a:b> }"):
        res = runner.invoke(app, [*query, "--param", f"name={name}"])
        assert res.exit_code == 0 and "(0 rows)" in res.output, res.output
    assert remote(server).count() == before
    res = runner.invoke(app, ["query", "--endpoint", server.url, "--format", "csv", "--file",
                              str(QUERIES / "entities_of_type.rq"), "-p", "type=LOC"])
    assert res.exit_code == 0, res.output
    assert {line.split(",")[2] for line in res.output.splitlines()[1:]} == \
        {"Paris", "France", "תל אביב"}
    # an IRI parameter, in a query given on the command line
    res = runner.invoke(app, ["query", "--endpoint", server.url, "--format", "csv",
                              "SELECT ?o WHERE { ?s ?p ?o }", "-p",
                              "p=<https://schema.org/worksFor>"])
    assert res.exit_code == 0 and res.output.splitlines()[1:] == [BASE + "entity/ORG/acme"], \
        res.output


@pytest.mark.parametrize("where", ["--endpoint", "--store"])
def test_a_declared_parameter_left_unbound_is_an_error(tmp_path, server, export_nq, where):
    runner = CliRunner()
    if where == "--store":
        target = str(tmp_path / "store")
        assert runner.invoke(app, ["load", str(export_nq), "--store", target]).exit_code == 0
    else:
        push_file(remote(server), export_nq)
        target = server.url
    res = runner.invoke(app, ["query", where, target, "--file",
                              str(QUERIES / "who_works_for.rq")])
    assert res.exit_code == 1
    assert "declares the parameter(s) ?name; give --param name=VALUE" in res.output
    res = runner.invoke(app, ["query", where, target, "--file",
                              str(QUERIES / "who_works_for.rq"), "-p", "nom=Acme"])
    assert res.exit_code == 1 and "?name" in res.output


def test_bind_params_opens_the_where_pattern():
    from kgx.store.queries import bind_params, declared_params

    acme = {"name": ox.Literal('Ac"me')}
    assert declared_params((QUERIES / "who_works_for.rq").read_text()) == ["name"]
    assert declared_params("# Parameters: a (string), $b (iri).\nASK {}") == ["a", "b"]
    assert declared_params("SELECT * { ?s ?p ?o }") == []
    bound = bind_params('# a { in a comment\nPREFIX x: <http://x/a#> '
                        'SELECT ("{" AS ?c) ?name WHERE { ?s x:p ?name }', acme)
    assert bound.endswith('WHERE { VALUES (?name) { ("Ac\\"me") } ?s x:p ?name }')
    bound = bind_params("CONSTRUCT { ?s ?p ?name } WHERE { ?s ?p ?name }", acme)
    assert bound == 'CONSTRUCT { ?s ?p ?name } WHERE { VALUES (?name) { ("Ac\\"me") } ?s ?p ?name }'
    assert bind_params("ASK { ?s ?p $name }", acme).startswith('ASK { VALUES (?name)')
    for sparql in ('SELECT ?name WHERE { ?s ?p ?name }', "ASK { ?s ?p ?name }"):
        assert ox.Store().query(bind_params(sparql, acme)) is not None  # valid SPARQL
    with pytest.raises(ValueError, match="no variable [?]nom"):
        bind_params("ASK { ?s ?p ?name }", {"nom": ox.Literal("x")})
    with pytest.raises(ValueError, match="no WHERE pattern"):
        bind_params("DESCRIBE ?name", acme)


@pytest.mark.parametrize("mode", ["gsp", "update"])
def test_a_pushed_update_answers_as_a_server_loaded_from_scratch(tmp_path, server, export_nq,
                                                                 export_c, mode):
    """Item 2b on a server: the merged view is replaced, documents that left are deleted."""
    store = remote(server)
    push_file(store, export_nq, mode=mode)
    result = push_file(store, export_c, mode=mode)
    assert result.dropped == 2
    assert server_quads(store) == quads_of(export_c)
    push_file(store, export_c, mode=mode)
    assert server_quads(store) == quads_of(export_c)
    scratch = open_store(tmp_path / "scratch")
    load_file(scratch, export_c)
    assert store.query((QUERIES / "most_confident_facts.rq").read_text()) == \
        query_store(scratch, (QUERIES / "most_confident_facts.rq").read_text())


def test_server_killed_mid_push_then_repushed(server, export_nq):
    store = remote(server, retries=2, backoff=0.01)
    pushed: list[str | None] = []

    def kill_after_first(graph, n):
        pushed.append(graph)
        if len(pushed) == 1:
            server.stop()

    with pytest.raises(StoreError) as err:
        push_file(store, export_nq, progress=kill_after_first)
    assert server.url in str(err.value) and "after 3 attempts" in str(err.value)
    server.start()
    partial = server_quads(store)
    assert partial and partial < quads_of(export_nq)
    push_file(store, export_nq)
    assert server_quads(store) == quads_of(export_nq)


def test_injection_is_literal_text_via_push_and_update(server, export_nq):
    store = remote(server)
    push_file(store, export_nq)
    before = server_quads(store)
    victim = ox.NamedNode(entity_iri(BASE, "PER", normalize_name(INJECTION)))
    label = ox.Quad(victim, RDFS_LABEL, ox.Literal(INJECTION, language="en"))
    assert label in before  # pushed through the Graph Store Protocol as data
    extra = [ox.Quad(ox.NamedNode(BASE + "entity/PER/eve"), RDFS_LABEL, ox.Literal(text),
                     ox.NamedNode(BASE + "document/extra"))
             for text in (INJECTION, "'''} ; DROP ALL", "a\\u0022b\n\"c\"", NASTY)]
    store.insert(extra, batch_size=2)
    after = server_quads(store)
    assert after == before | set(extra)
    store.delete(extra[:2])
    assert server_quads(store) == before | set(extra[2:])


# --- HTTP details: auth, retries, errors (a recording local server) ---------------------------


class Recorder:
    """A tiny HTTP server that records requests and answers with scripted status codes, or
    with what ``respond(request) -> (status, headers, body)`` says when it is set."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: list[int] = []
        self.respond = None
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                request = {"method": self.command, "path": self.path,
                           "headers": dict(self.headers), "body": body}
                recorder.requests.append(request)
                status, headers, answer = 204, {}, b""
                if recorder.respond is not None:
                    status, headers, answer = recorder.respond(request)
                elif recorder.script:
                    status = recorder.script.pop(0)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_PUT = do_POST = do_GET = do_DELETE = _answer

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder():
    rec = Recorder()
    yield rec
    rec.close()


SECRET = "s3cr3t-Pa55"


def test_bearer_and_basic_auth_sent_and_never_logged(recorder, export_nq, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    endpoints = Endpoints(store_url=recorder.url + "/store")
    push_file(RemoteStore(endpoints, env={"KGX_STORE_TOKEN": SECRET}), export_nq)
    assert recorder.requests
    assert {r["headers"]["Authorization"] for r in recorder.requests} == {f"Bearer {SECRET}"}
    recorder.requests.clear()
    env = {"KGX_STORE_USER": "kgx", "KGX_STORE_PASSWORD": SECRET}
    push_file(RemoteStore(endpoints, env=env), export_nq)
    token = base64.b64encode(f"kgx:{SECRET}".encode()).decode()
    assert {r["headers"]["Authorization"] for r in recorder.requests} == {f"Basic {token}"}
    recorder.script = [401]
    with pytest.raises(StoreError) as err:
        push_file(RemoteStore(endpoints, env=env), export_nq)
    assert "HTTP 401" in str(err.value) and recorder.url + "/store" in str(err.value)
    out, errout = capfd.readouterr()
    for text in (caplog.text, str(err.value), out, errout):
        assert SECRET not in text and token not in text


def test_cli_push_uses_env_credentials_and_hides_them(recorder, export_nq, monkeypatch):
    monkeypatch.setenv("KGX_STORE_TOKEN", SECRET)
    res = CliRunner().invoke(app, ["-v", "push", str(export_nq), "--store-url",
                                   recorder.url + "/store"])
    assert res.exit_code == 0, res.output
    assert "4 named graphs" in res.output and SECRET not in res.output
    methods = [(r["method"], r["path"].split("?")[1].split("=")[0]) for r in recorder.requests]
    # the documents the store lists (read from its default graph: no query URL), the 4 document
    # graphs, then the default graph replaced
    assert methods[0] == ("GET", "default")
    assert methods.count(("PUT", "graph")) == 4 and methods[-1] == ("PUT", "default")
    assert all(r["headers"]["Authorization"] == f"Bearer {SECRET}" for r in recorder.requests)
    assert all(r["headers"]["Content-Type"] == "application/n-triples"
               for r in recorder.requests if r["method"] != "GET")


def test_retries_on_5xx_then_clear_error_on_4xx(recorder, export_nq, caplog):
    store = RemoteStore(Endpoints(store_url=recorder.url + "/store"), env={}, backoff=0.01)
    recorder.script = [503, 502]
    push_file(store, export_nq)
    assert len(recorder.requests) == 6 + 2  # documents, 4 graphs, default; 2 retried
    assert "retry 2/5" in caplog.text
    recorder.script = [500] * 3
    bounded = RemoteStore(Endpoints(store_url=recorder.url + "/store"), env={}, retries=2,
                          backoff=0.01)
    with pytest.raises(StoreError, match=r"failed after 3 attempts: HTTP 500"):
        push_file(bounded, export_nq)
    recorder.script = [204, 400]
    with pytest.raises(StoreError, match=r"PUT http://127\.0\.0\.1:\d+/store failed: HTTP 400"):
        push_file(store, export_nq)


def test_endpoint_flavors():
    ox_ = Endpoints.build("http://h:7878/", "oxigraph")
    assert (ox_.store_url, ox_.update_url, ox_.query_url) == \
        ("http://h:7878/store", "http://h:7878/update", "http://h:7878/query")
    fu = Endpoints.build("http://h:3030", "fuseki", dataset="kg")
    assert (fu.store_url, fu.update_url, fu.query_url) == \
        ("http://h:3030/kg/data", "http://h:3030/kg/update", "http://h:3030/kg/query")
    assert Endpoints.build("http://h", "fuseki", store_url="http://x/gsp").store_url == \
        "http://x/gsp"
    with pytest.raises(ValueError, match="unknown store flavor"):
        Endpoints.build("http://h", "virtuoso")
    with pytest.raises(ValueError, match="not an http"):
        Endpoints.build(store_url="ftp://h/store")
    with pytest.raises(StoreError, match="no update URL"):
        RemoteStore(Endpoints(store_url="http://h/store"), env={}).update("CLEAR ALL")


def test_cli_export_then_push_to_server(server, tmp_path):
    gpath = tmp_path / "graph.json"
    save_graph(build(), gpath)
    runner = CliRunner()
    res = runner.invoke(app, ["export", str(gpath), "-o", str(tmp_path / "kg.trig")])
    assert res.exit_code == 0, res.output
    for _ in range(2):
        res = runner.invoke(app, ["push", str(tmp_path / "kg.trig"), "--endpoint", server.url,
                                  "--flavor", "oxigraph"])
        assert res.exit_code == 0, res.output
    expected = set(ox.parse(path=str(tmp_path / "kg.trig"), format=ox.RdfFormat.TRIG))
    assert server_quads(remote(server)) == expected
    res = runner.invoke(app, ["query", "--endpoint", server.url, "--format", "csv",
                              "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"])
    assert res.exit_code == 0, res.output
    n_named = sum(1 for q in expected if not isinstance(q.graph_name, ox.DefaultGraph))
    assert res.output.split() == ["n", str(n_named)]


# --- issue 13: a push that stored nothing never succeeds; long ids; hanging servers; secrets ---


LOGIN = b"<!doctype html><html><body><form>Log in</form></body></html>"


def test_a_redirect_to_a_login_page_is_not_a_push(recorder, export_nq):
    """Item 6: PUT/POST answered 302 to a login page (which requests followed as a GET, 200)
    used to give "pushed N quads", exit 0."""
    def login(request):
        if request["path"].startswith("/login"):
            return 200, {"Content-Type": "text/html"}, LOGIN
        if request["method"] == "GET":  # reading the (empty) default graph is allowed
            return 200, {"Content-Type": "application/n-triples"}, b""
        return 302, {"Location": "/login?next=/store"}, b""

    recorder.respond = login
    res = CliRunner().invoke(app, ["push", str(export_nq), "--store-url",
                                   recorder.url + "/store"])
    assert res.exit_code == 1, res.output
    assert "redirects to" in res.output and "nothing was stored" in res.output
    assert "pushed" not in res.output


def test_an_html_page_answered_200_is_not_a_push(recorder, export_nq):
    recorder.respond = lambda request: (200, {"Content-Type": "text/html; charset=utf-8"}, LOGIN)
    store = RemoteStore(Endpoints(store_url=recorder.url + "/store"), env={})
    with pytest.raises(StoreError, match="HTML page"):
        push_file(store, export_nq)
    recorder.respond = lambda request: (
        (200, {"Content-Type": "text/html"}, LOGIN) if request["method"] == "PUT" else
        (200, {"Content-Type": "application/n-triples"}, b""))
    with pytest.raises(StoreError, match=r"PUT .*HTML page.*nothing is known to be stored"):
        push_file(store, export_nq)


def test_a_store_that_answers_ok_but_stores_nothing_fails_the_check(recorder, export_nq):
    """Item 6: with a query URL, the counts of the store are compared with the file's."""
    def swallow(request):
        if request["path"].startswith("/query"):
            body = b'{"head": {"vars": ["n"]}, "results": {"bindings": [{"n": ' \
                   b'{"type": "literal", "value": "0"}}]}}'
            if b"Document" in request["body"] and b"COUNT" not in request["body"]:
                body = b'{"head": {"vars": ["d"]}, "results": {"bindings": []}}'
            return 200, {"Content-Type": "application/sparql-results+json"}, body
        return 204, {}, b""

    recorder.respond = swallow
    endpoints = Endpoints.build(recorder.url, "oxigraph")
    with pytest.raises(StoreError, match="does not hold what was pushed"):
        push_file(RemoteStore(endpoints, env={}), export_nq)


def test_a_9000_character_document_id_pushes(server, tmp_path):
    """Item 12: the graph IRI travels in the Graph Store URL; a 9,000-character document id
    gave HTTP 400 and stopped the push after 1 of 3 graphs. Long ids are hashed in the IRI
    (the id itself stays in kgx:documentId)."""
    long_id = "x" * 9000
    records = [record("a", "Maria Lopez", "PER", "Work_For", "Acme", "ORG", 0.9),
               record(long_id, "John Smith", "PER", "Live_In", "Berlin", "LOC", 0.8),
               record("c", "Ana Diaz", "PER", "Work_For", "Nordwind", "ORG", 0.7)]
    path = tmp_path / "kg.nq"
    rdf.export(build(records), path)
    iris = {q.graph_name.value for q in quads_of(path) if hasattr(q.graph_name, "value")}
    assert len(iris) == 3 and all(len(i) < 300 for i in iris)
    store = remote(server)
    assert push_file(store, path).graphs == 3
    assert server_quads(store) == quads_of(path)
    rows = store.query("SELECT ?id WHERE { ?d <https://w3id.org/kgx/vocab#documentId> ?id }")
    assert long_id in {r["id"]["value"] for r in rows["results"]["bindings"]}


def test_document_iris_stay_injective():
    from kgx.rdf.terms import document_iri

    ids = ["x" * 9000, "x" * 9001, "x" * 8999 + "y", "long", "long/abc", "a b", "a%20b"]
    assert len({document_iri(BASE, i) for i in ids}) == len(ids)
    assert document_iri(BASE, "d1") == BASE + "document/d1"


@pytest.fixture
def hanging():
    """A server that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    sock.close()


def test_a_hanging_endpoint_fails_within_the_timeout(hanging, export_nq):
    """Item 13: `kgx query` took 738 s (6 x 120 s) to fail on an endpoint that never answers."""
    runner = CliRunner()
    start = time.monotonic()
    res = runner.invoke(app, ["query", "--endpoint", hanging, "--timeout", "1", "ASK {}"])
    assert res.exit_code == 1 and "no answer within 1 s" in res.output
    res = runner.invoke(app, ["push", str(export_nq), "--endpoint", hanging, "--timeout", "1"])
    assert res.exit_code == 1 and "no answer within 1 s" in res.output
    assert time.monotonic() - start < 10
    from kgx.store.remote import DEFAULT_TIMEOUT

    assert DEFAULT_TIMEOUT <= 60


def test_credentials_echoed_by_a_server_are_redacted(recorder, export_nq):
    """Item 15: a server echoing the request headers put `Authorization: Basic ...` into kgx's
    error line (the first 300 characters of the body)."""
    def echo(request):
        lines = [f"{k}: {v}" for k, v in request["headers"].items()]
        return 400, {"Content-Type": "text/plain"}, ("\n".join(lines) + f"\npw={SECRET}").encode()

    recorder.respond = echo
    env = {"KGX_STORE_USER": "kgx", "KGX_STORE_PASSWORD": SECRET}
    token = base64.b64encode(f"kgx:{SECRET}".encode()).decode()
    with pytest.raises(StoreError) as err:
        push_file(RemoteStore(Endpoints(store_url=recorder.url + "/store"), env=env), export_nq)
    message = str(err.value)
    assert "HTTP 400" in message and "[redacted]" in message
    assert SECRET not in message and token not in message
    env = {"KGX_STORE_TOKEN": SECRET}
    with pytest.raises(StoreError) as err:
        push_file(RemoteStore(Endpoints(store_url=recorder.url + "/store"), env=env), export_nq)
    assert SECRET not in str(err.value) and "Authorization: [redacted]" in str(err.value)


@pytest.mark.parametrize("mode", ["gsp", "update"])
def test_a_failed_push_drops_its_store_iterators_on_its_own_thread(recorder, export_nq, mode):
    """pyoxigraph's iterators may only be dropped on the thread that made them. A push that
    fails on a worker thread (as ``kgx serve``'s store upkeep runs) hands its exception, and
    the traceback's frames with it, to another thread: no iterator may still be alive in them
    (it showed as an intermittent unraisable RuntimeError in this suite)."""
    from concurrent.futures import ThreadPoolExecutor

    seen: list = []
    hook = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        store = RemoteStore(Endpoints(store_url=recorder.url + "/store",
                                      update_url=recorder.url + "/update"),
                            env={}, retries=0, backoff=0.01)
        with ThreadPoolExecutor(1) as pool:
            recorder.requests.clear()
            pool.submit(push_file, store, export_nq, mode=mode).result()
            # a failure at each of the push's requests in turn
            for k in range(len(recorder.requests)):
                recorder.script = [204] * k + [400]
                future = pool.submit(push_file, store, export_nq, mode=mode)
                with pytest.raises(StoreError):
                    future.result()
                del future  # the exception and its frames are released on this thread
    finally:
        sys.unraisablehook = hook
    assert not [u for u in seen if "unsendable" in str(u.exc_value)], \
        [str(u.exc_value) for u in seen]
