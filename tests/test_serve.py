"""`kgx serve` (issue 15): a real server process on 127.0.0.1 with the small CPU pipeline
(``fixture_model``), real stores (embedded Oxigraph and ``oxigraph serve``).

Pipelines with a test-only component (one that raises on a document, one that is slow) exist
only in this process: those tests run the app in-process (``create_app`` with a built
``Language``) under a real uvicorn server in a thread, still over real HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

import pyoxigraph as ox  # noqa: E402
import spacy  # noqa: E402
from spacy.language import Language  # noqa: E402
from test_batch import make_corpus  # noqa: E402
from test_store import OxigraphServer, free_port, oxigraph_binary  # noqa: E402

from kgx.batch import extract  # noqa: E402
from kgx.graph import GraphBuilder  # noqa: E402
from kgx.rdf import export  # noqa: E402
from kgx.serve import create_app  # noqa: E402
from kgx.store import load_file, open_store  # noqa: E402


class ServerProc:
    """``kgx serve MODEL`` in a subprocess on a free port."""

    def __init__(self, model: Path, tmp: Path, *args: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"serve-{self.port}.log"
        cmd = [sys.executable, "-m", "kgx", "serve", str(model), "--port", str(self.port), *args]
        self.log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kgx serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("kgx serve did not get ready in 120 s")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class InProcess:
    """The app of a built ``Language`` under uvicorn in a thread, on a free port."""

    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the in-process server did not get ready")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@Language.component("kgx_test_boom")
def _boom(doc):
    if "BOOM" in doc.text:
        raise ValueError("this component fails on BOOM")
    return doc


@Language.component("kgx_test_slow")
def _slow(doc):
    time.sleep(0.2)
    return doc


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[dict]:
    path = make_corpus(tmp_path_factory.mktemp("serve-corpus") / "docs.jsonl", 40, seed=7)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [{"id": r["id"], "text": r["text"], "meta": {"source": r["source"]}} for r in rows]


@pytest.fixture(scope="module")
def served(fixture_model, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    srv = ServerProc(fixture_model, tmp, "--store", str(tmp / "store"), "--max-text-chars",
                     "2000", "--max-body-bytes", "60000", "--max-wait-ms", "20",
                     "--max-unpacked-bytes", "300000")
    srv.store = tmp / "store"
    yield srv
    assert srv.stop() == 0, srv.text()[-2000:]


def batch_records(model, docs: list[dict], tmp: Path) -> dict[str, list]:
    """What `kgx extract` gives for the documents, by id."""
    path = tmp / "batch.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    out: dict[str, list] = {d["id"]: [] for d in docs}
    for rec in extract([path], model):
        out[rec["doc_id"]].append(rec)
    return out


def canon(records: list) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in records)


def test_concurrent_clients_get_the_records_of_kgx_extract(served, fixture_model, corpus,
                                                           tmp_path):
    expected = batch_records(fixture_model, corpus, tmp_path)

    def call(i: int) -> list[dict]:
        docs = corpus[i:i + 2] if i % 3 == 0 else corpus[i:i + 1]
        r = httpx.post(served.url + "/v1/extract", json=docs if len(docs) > 1 else docs[0],
                       timeout=60)
        assert r.status_code == 200, r.text
        return r.json()["documents"]

    with ThreadPoolExecutor(16) as pool:
        answers = [d for docs in pool.map(call, range(len(corpus))) for d in docs]
    assert {d["id"] for d in answers} == set(expected)
    for doc in answers:
        assert canon(doc["records"]) == canon(expected[doc["id"]]), doc["id"]
        text = next(d["text"] for d in corpus if d["id"] == doc["id"])
        assert doc["entities"] and all(text[e["start_char"]:e["end_char"]] == e["text"]
                                       for e in doc["entities"])
        assert doc["meta"] == {"source": "synthetic"}
    metrics = httpx.get(served.url + "/metrics").text
    batches = int(next(line.split()[-1] for line in metrics.splitlines()
                       if line.startswith("kgx_serve_batch_documents_count")))
    docs_total = int(next(line.split()[-1] for line in metrics.splitlines()
                          if line.startswith("kgx_serve_documents_total")))
    assert docs_total >= len(answers) and batches < docs_total  # requests were coalesced


def test_bad_inputs(served):
    url = served.url + "/v1/extract"
    r = httpx.post(url, content=b"x" * 70_000)
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    r = httpx.post(url, json={"id": "long", "text": "word " * 500})
    assert r.status_code == 413 and "body.text" in r.json()["detail"]
    assert "'long'" in r.json()["detail"]
    r = httpx.post(url, json=[{"text": "ok"}, {"id": "b", "text": "x" * 2001}])
    assert r.status_code == 413 and "body[1].text" in r.json()["detail"]
    r = httpx.post(url, content=b'{"text": "Maria', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "invalid JSON" in r.json()["detail"][0]["msg"]
    r = httpx.post(url, content=b'{"text": NaN}')
    assert r.status_code == 422
    r = httpx.post(url, json={"id": "a", "text": 5})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "text"]
    r = httpx.post(url, json=[{"id": "a", "text": "x"}, {"id": ["x"], "text": "y"}])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", 1, "id"]
    r = httpx.post(url, json={"id": "a", "text": "x", "meta": 3})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "meta"]
    r = httpx.post(url, json=[1, 2])
    assert r.status_code == 422
    r = httpx.post(url, content=b'{"text": "\\ud800"}')
    assert r.status_code == 422 and "surrogate" in r.json()["detail"][0]["msg"]
    r = httpx.post(url, json={"id": "empty", "text": ""})
    assert r.status_code == 200
    assert r.json()["documents"] == [{"id": "empty", "entities": [], "records": []}]
    r = httpx.post(url, json={"id": "blank", "text": "  \n "})
    assert r.status_code == 200 and r.json()["documents"][0]["records"] == []
    r = httpx.post(served.url + "/v1/rdf", json={"text": "x"}, headers={"accept": "image/png"})
    assert r.status_code == 406
    assert httpx.get(served.url + "/health").json() == {"status": "ok"}
    assert httpx.post(url, json={"text": "Maria Lopez works for Acme."}).status_code == 200


def test_markdown_and_html_documents_are_read_as_kgx_extract_reads_their_files(served):
    url = served.url + "/v1/extract"
    text = "Maria Lopez works for [Acme](https://acme.example/about) in **Paris**."
    names = {}
    for fmt in ("markdown", None):
        doc = {"id": "md", "text": text, **({"format": fmt} if fmt else {})}
        r = httpx.post(url, json=doc)
        assert r.status_code == 200, r.text
        (answer,) = r.json()["documents"]
        assert all(text[e["start_char"]:e["end_char"]] == e["text"] for e in answer["entities"])
        names[fmt] = {e["text"] for e in answer["entities"]}
    assert names["markdown"] == {"Maria Lopez", "Acme", "Paris"}
    assert "Acme" not in names[None]  # as text: "Acme](https://acme.example/about" is a token
    # HTML: read as kgx extract reads an .html file, offsets into the page's text
    page = '<p>Maria Lopez works for <a href="https://acme.example">Acme</a> in <b>Paris</b>.'
    r = httpx.post(url, json={"id": "h", "text": page, "format": "html"})
    assert r.status_code == 200, r.text
    (answer,) = r.json()["documents"]
    read = "Maria Lopez works for Acme in Paris."
    assert {e["text"] for e in answer["entities"]} == {"Maria Lopez", "Acme", "Paris"}
    assert all(read[e["start_char"]:e["end_char"]] == e["text"] for e in answer["entities"])
    # text: PDF pages' running headers blanked, as kgx extract reads .txt and JSONL
    paged = ("Acme Weekly\n\nMaria Lopez works for\n\n1\n\fAcme Weekly\n\nNordwind in Paris."
             "\n\n2\n\f")
    r = httpx.post(url, json={"id": "pages", "text": paged})
    (answer,) = r.json()["documents"]
    assert [e["text"] for e in answer["entities"]] == ["Maria Lopez", "Nordwind", "Paris"]
    assert all(paged[e["start_char"]:e["end_char"]] == e["text"] for e in answer["entities"])
    r = httpx.post(url, json={"id": "p", "text": "x", "format": "pdf"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "format"]
    assert "'markdown', 'html'" in r.json()["detail"][0]["msg"]


def test_openapi_and_metrics(served):
    schema = httpx.get(served.url + "/openapi.json").json()
    assert {"/v1/extract", "/v1/rdf", "/v1/ingest", "/v1/sparql", "/v1/related",
            "/health", "/ready", "/metrics"} <= set(schema["paths"])
    text = httpx.get(served.url + "/metrics").text
    for name in ("kgx_serve_requests_total", "kgx_serve_request_seconds_bucket",
                 "kgx_serve_batch_documents_bucket", "kgx_serve_queue_depth",
                 "kgx_serve_words_total"):
        assert name in text
    assert 'route="/v1/extract",method="POST",status="200"' in text


def quads(store: ox.Store) -> set[ox.Quad]:
    return set(store.quads_for_pattern(None, None, None, None))


def test_ingest_reingest_delete_equal_a_batch_run(served, fixture_model, corpus, tmp_path):
    docs = corpus[:12]

    def ingest(batch):
        r = httpx.post(served.url + "/v1/ingest", json=batch, timeout=120)
        assert r.status_code == 200, r.text
        return r.json()

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(ingest, [docs[i:i + 2] for i in range(0, len(docs), 2)]))
    changed = {**docs[3], "text": "Aiko Tanaka works for Initech in Nairobi."}
    ingest(changed)  # re-ingest: replaces, never duplicates
    ingest(docs[3])
    ingest(changed)
    assert httpx.delete(served.url + "/v1/documents/" + docs[5]["id"]).status_code == 200
    assert httpx.delete(served.url + "/v1/documents/" + docs[5]["id"]).status_code == 404
    final = [changed if d["id"] == docs[3]["id"] else d for d in docs if d is not docs[5]]

    # the same documents through the batch path: extract, graph, export, load
    builder = GraphBuilder()
    builder.add_records(extract([_jsonl(tmp_path, final)], fixture_model))
    export(builder.graph, tmp_path / "batch.nq", "nq")
    batch_store = ox.Store()
    load_file(batch_store, tmp_path / "batch.nq")

    count = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    r = httpx.post(served.url + "/v1/sparql", json={"query": count})
    assert r.status_code == 200, r.text
    served_n = int(r.json()["results"]["bindings"][0]["n"]["value"])
    assert served_n == len(batch_store) > 0

    # the store itself, quad for quad (read through the API: the server holds the store)
    dump = httpx.post(served.url + "/v1/sparql", json={
        "query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"}).json()["triples"]
    expected_default = {f"{q.subject} {q.predicate} {q.object} ."
                        for q in batch_store.quads_for_pattern(None, None, None,
                                                               ox.DefaultGraph())}
    assert set(dump) == expected_default

    # parameters are bound as terms, never pasted
    r = httpx.post(served.url + "/v1/sparql", json={
        "query": "SELECT ?d ?id WHERE { ?d <https://w3id.org/kgx/vocab#documentId> ?id }",
        "params": {"id": docs[0]["id"]}})
    assert len(r.json()["results"]["bindings"]) == 1
    r = httpx.post(served.url + "/v1/sparql", json={
        "query": "SELECT ?d ?id WHERE { ?d <https://w3id.org/kgx/vocab#documentId> ?id }",
        "params": {"id": '" } DROP ALL #'}})
    assert r.status_code == 200 and r.json()["results"]["bindings"] == []
    r = httpx.post(served.url + "/v1/sparql", json={"query": "DROP ALL"})
    assert r.status_code == 400
    r = httpx.post(served.url + "/v1/sparql", json={"query": count})
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) == served_n

    r = httpx.get(served.url + "/v1/related", params={"entity": "Initech"})
    assert r.status_code == 200 and r.json()["related"]
    assert httpx.get(served.url + "/v1/related",
                     params={"entity": "Nobody Known"}).status_code == 404


def _jsonl(tmp: Path, docs: list[dict]) -> Path:
    path = tmp / f"docs-{len(docs)}.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def test_rdf_is_what_kgx_export_writes(served, fixture_model, corpus, tmp_path):
    docs = corpus[20:23]
    builder = GraphBuilder()
    builder.add_records(extract([_jsonl(tmp_path, docs)], fixture_model))
    export(builder.graph, tmp_path / "x.nq", "nq")
    expected = set(ox.parse(path=str(tmp_path / "x.nq"), format=ox.RdfFormat.N_QUADS))
    r = httpx.post(served.url + "/v1/rdf", json=docs, headers={"accept": "application/n-quads"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/n-quads")
    assert set(ox.parse(r.content, format=ox.RdfFormat.N_QUADS)) == expected
    for accept, fmt in (("text/turtle", ox.RdfFormat.TURTLE),
                        ("application/trig", ox.RdfFormat.TRIG),
                        ("application/ld+json", ox.RdfFormat.JSON_LD)):
        r = httpx.post(served.url + "/v1/rdf", json=docs, headers={"accept": accept})
        assert r.status_code == 200, (accept, r.text[:300])
        assert r.headers["content-type"].startswith(accept)
        assert len(list(ox.parse(r.content, format=fmt))) > 0


def test_files_are_read_as_kgx_extract_reads_them(served, tmp_path):
    """A PDF, a Word file, an e-mail sent as the body (format by Content-Type) or as base64
    content in JSON: the text and metadata of ``kgx extract``'s readers, offsets into that
    text, the file's title in the RDF; unreadable files and wrong fields are 422s naming them."""
    import base64

    from helpers import load_benchmark
    from kgx.batch.inputs import read_document

    pytest.importorskip("pdfminer")
    url = served.url + "/v1/extract"
    line = "Maria Lopez works for Acme in Paris."
    pdf = load_benchmark("eval_pdf").pdf_bytes([[(72.0, 700.0, line.split(), -1.0)]],
                                               {"Title": "Q3 report"})
    (tmp_path / "q3.pdf").write_bytes(pdf)
    read = read_document(tmp_path / "q3.pdf")
    assert read.startswith(line)
    r = httpx.post(url + "?id=q3.pdf", content=pdf, headers={"content-type": "application/pdf"})
    assert r.status_code == 200, r.text
    (sent,) = r.json()["documents"]
    assert sent["id"] == "q3.pdf" and sent["meta"] == {"title": "Q3 report"}
    assert {e["text"] for e in sent["entities"]} == {"Maria Lopez", "Acme", "Paris"}
    assert all(read[e["start_char"]:e["end_char"]] == e["text"] for e in sent["entities"])
    packed = base64.b64encode(pdf).decode()
    r = httpx.post(url, json=[{"id": "q3.pdf", "content": packed, "format": "pdf",
                               "meta": {"title": "Sent title", "source": "upload"}}])
    (as_json,) = r.json()["documents"]
    assert as_json["records"] == sent["records"] and as_json["entities"] == sent["entities"]
    assert as_json["meta"] == {"title": "Sent title", "source": "upload"}  # what was sent wins
    w = load_benchmark("eval_docx")
    docx = w.docx_bytes([w.run(line)], title="Memo")
    r = httpx.post(url, json={"content": base64.b64encode(docx).decode(), "format": "docx"})
    (memo,) = r.json()["documents"]
    assert memo["meta"]["title"] == "Memo" and len(memo["entities"]) == 3
    rtf = w.rtf_bytes([w.rtf_escape(line)], title="Case note")
    r = httpx.post(url + "?id=note.rtf", content=rtf, headers={"content-type": "text/rtf"})
    (note,) = r.json()["documents"]
    assert note["id"] == "note.rtf" and note["meta"]["title"] == "Case note"
    assert note["entities"] == memo["entities"]  # the same text read out of either file
    old = Path(__file__).parent / "data" / "word97.doc"  # written by LibreOffice
    r = httpx.post(url + "?id=old.doc", content=old.read_bytes(),
                   headers={"content-type": "application/msword"})
    (word97,) = r.json()["documents"]
    assert word97["meta"]["title"] == "Quarterly review" and word97["entities"]
    shown = read_document(old)
    assert all(shown[e["start_char"]:e["end_char"]] == e["text"] for e in word97["entities"])
    mail = f"Subject: Hello\nMessage-ID: <1@acme.example>\n\n{line}\n".encode()
    r = httpx.post(url, content=mail, headers={"content-type": "message/rfc822"})
    (message,) = r.json()["documents"]
    assert message["meta"]["subject"] == "Hello" and len(message["entities"]) == 3
    r = httpx.post(url, content=json.dumps({"id": "js", "text": line}),
                   headers={"content-type": "text/plain;charset=UTF-8"})  # fetch()'s JSON
    assert r.status_code == 200 and len(r.json()["documents"][0]["entities"]) == 3
    r = httpx.post(served.url + "/v1/rdf?id=q3.pdf", content=pdf,
                   headers={"content-type": "application/pdf", "accept": "application/n-quads"})
    assert b'<http://purl.org/dc/terms/title> "Q3 report"' in r.content
    # errors: each names the document, the field and the problem
    r = httpx.post(url + "?id=bad.pdf", content=b"not a pdf",
                   headers={"content-type": "application/pdf"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == (
        "the body (document 'bad.pdf'): no %PDF- header: not a PDF file")
    for doc, loc, msg in [
            ({"content": "%%%"}, ["body", "format"], "a content's format must be one of"),
            ({"content": "%%%", "format": "pdf"}, ["body", "content"], "not base64"),
            ({"content": packed, "text": line, "format": "pdf"}, ["body", "content"],
             "a text or a content"),
            ({"content": 3, "format": "pdf"}, ["body", "content"], "base64, got int"),
            ({"content": packed, "format": "jsonl"}, ["body", "format"], "got 'jsonl'")]:
        r = httpx.post(url, json=doc)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, r.text
        assert msg in r.json()["detail"][0]["msg"]
    r = httpx.post(served.url + "/v1/ingest", content=pdf,
                   headers={"content-type": "application/pdf"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "id"]
    long = load_benchmark("eval_pdf").pdf_bytes(
        [[(72.0, 700.0 - 12 * i, line.split(), -1.0) for i in range(55)]])
    r = httpx.post(url + "?id=long.pdf", content=long, headers={"content-type": "application/pdf"})
    assert r.status_code == 413
    assert r.json()["detail"].startswith("the text read from the body (document 'long.pdf') is")
    # a file that unpacks past --max-unpacked-bytes: a 413, never unpacked whole
    import zlib

    page = b"BT /F1 12 Tf 72 720 Td (Maria Lopez works for Acme.) Tj ET"
    bomb = load_benchmark("bench_limits").pdf_with_stream(zlib.compress(b" " * 400_000 + page))
    r = httpx.post(url + "?id=bomb.pdf", content=bomb, headers={"content-type": "application/pdf"})
    assert r.status_code == 413 and len(bomb) < 2_000
    assert r.json()["detail"] == (
        "the body (document 'bomb.pdf'): its compressed streams hold over 300,000 bytes unpacked, "
        "the limit for one document (a compressed bomb, or a dump to split into documents first)")


def test_files_uploaded_as_a_form(served):
    """``multipart/form-data`` (``curl -F file=@report.pdf``): each file a document, its
    format by its Content-Type or else its name, its id the form's ``id`` (one file) or its
    name; the answers equal those for the same files sent as the body; a form without a file,
    a file in no format kgx reads and a JSONL file are 422s naming the file."""
    pytest.importorskip("pdfminer")
    from helpers import load_benchmark

    url = served.url + "/v1/extract"
    line = "Maria Lopez works for Acme in Paris."
    pdf = load_benchmark("eval_pdf").pdf_bytes([[(72.0, 700.0, line.split(), -1.0)]],
                                               {"Title": "Q3 report"})
    book = load_benchmark("eval_docx").epub_bytes([f"<p>{line}</p>"], "Book")
    as_body = httpx.post(url + "?id=q3.pdf", content=pdf,
                         headers={"content-type": "application/pdf"}).json()["documents"]
    r = httpx.post(url, files={"file": ("upload.pdf", pdf, "application/pdf")},
                   data={"id": "q3.pdf"})
    assert r.status_code == 200, r.text
    (one,) = r.json()["documents"]
    assert one["id"] == "q3.pdf" and one["meta"] == {"title": "Q3 report"}
    assert one["records"] == as_body[0]["records"] and one["entities"] == as_body[0]["entities"]
    r = httpx.post(url, files=[("file", ("dir/report.pdf", pdf, "application/octet-stream")),
                               ("file", ("book.epub", book, "application/octet-stream")),
                               ("file", ("note.txt", line.encode(), "text/plain"))])
    assert r.status_code == 200, r.text
    docs = r.json()["documents"]
    assert [d["id"] for d in docs] == ["dir/report.pdf", "book.epub", "note.txt"]
    assert docs[0]["entities"] == one["entities"] and docs[1]["meta"]["title"] == "Book"
    assert docs[0]["records"][0]["doc_id"] == "dir/report.pdf"
    assert all(len(d["entities"]) == 3 for d in docs)
    message = f"Message-ID: <7@x>\nFrom: Ana <a@x>\nSubject: Trip\n\n{line}\n".encode()
    r = httpx.post(url, files={"file": ("1.", message, "application/octet-stream")})
    assert r.status_code == 200, r.text  # a message without a suffix: known by its bytes
    (sniffed,) = r.json()["documents"]
    assert sniffed["meta"]["subject"] == "Trip" and len(sniffed["entities"]) == 3
    r = httpx.post(served.url + "/v1/ingest", files={"file": ("q3.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text  # ingest: the file name is the id
    for files, data, status, msg in [
            (None, {"id": "x"}, 422, "the form holds no file"),
            ({"file": ("a.bin", b"\x00\x01", "application/octet-stream")}, None, 422,
             "the file 'a.bin' (application/octet-stream) is in no input format kgx reads"),
            ({"file": ("d.jsonl", b"{}", "application/octet-stream")}, None, 422,
             "the file 'd.jsonl' is a jsonl file, which holds many documents"),
            ({"file": ("Inbox", b"From - Mon Nov  2 10:00:00 2026\nSubject: x\n\nx\n",
                       "application/octet-stream")}, None, 422,
             "the file 'Inbox' is a mbox file, which holds many documents")]:
        if files is None:  # a form with fields only
            r = httpx.post(url, content=b"--B\r\nContent-Disposition: form-data; name=\"id\""
                                        b"\r\n\r\nx\r\n--B--\r\n",
                           headers={"content-type": "multipart/form-data; boundary=B"})
        else:
            r = httpx.post(url, files=files, data=data)
        assert r.status_code == status, r.text
        assert msg in json.dumps(r.json()["detail"]), r.text


def test_a_file_that_takes_too_long_to_read_is_a_413(monkeypatch):
    """``--max-read-seconds`` reaches the reader of each request's files (a PDF's pages are
    checked as they are laid out): a page of 3,000 scattered words (some 0.5 s here) over a
    0.05 s limit is a 413 naming the file; an ordinary PDF (some 2 ms) is read; outside the
    request there is no such limit."""
    import random

    from typer.testing import CliRunner

    from helpers import load_benchmark
    from kgx.batch import limits
    from kgx.cli import app
    from kgx.serve import server
    from kgx.serve.inputs import DocIn, InputError, Limits, read_files

    w = load_benchmark("eval_pdf")
    rng = random.Random(1)
    slow = w.pdf_bytes([[(rng.uniform(20, 560), rng.uniform(20, 800), [f"w{i}"], -1)
                         for i in range(3000)]])
    ordinary = w.pdf_bytes(w.typeset(1, ["Ana Diaz works for Acme in Lima."], 1, False))
    tight = Limits(max_read_seconds=0.05)
    with pytest.raises(InputError) as caught:
        read_files([DocIn("s", "", None, slow, "pdf", "the body (document 's')")], tight)
    assert caught.value.status == 413 and str(caught.value) == (
        "the body (document 's'): reading it took over 0.05 s (at page 1), the limit for one "
        "document here")
    [doc] = read_files([DocIn("o", "", None, ordinary, "pdf", "o")], tight)
    assert "Ana Diaz works for Acme in Lima." in doc.text
    assert limits.read_deadline() is None
    seen = {}
    monkeypatch.setattr(server, "serve", lambda model, **kw: seen.update(kw))
    r = CliRunner().invoke(app, ["serve", "MODEL", "--max-read-seconds", "2.5"])
    assert r.exit_code == 0, r.output
    assert seen["limits"].max_read_seconds == 2.5 and Limits().max_read_seconds == 30.0


def test_what_a_document_says_of_itself_is_in_the_live_graph(served):
    """A document's meta (title, date) is Dublin Core on its IRI, in /v1/rdf and in the live
    store after an ingest; re-ingested without it, or deleted, it is gone."""
    doc = {"id": "meta-doc", "text": "Maria Lopez works for Acme in Paris.",
           "meta": {"title": "Q3 report", "date": "2026-11-02", "source": "synthetic"}}
    query = ("SELECT ?t ?id WHERE { ?d <https://w3id.org/kgx/vocab#documentId> ?id ; "
             "<http://purl.org/dc/terms/title> ?t }")

    def titles() -> list[str]:
        r = httpx.post(served.url + "/v1/sparql", json={"query": query,
                                                        "params": {"id": "meta-doc"}})
        assert r.status_code == 200, r.text
        return [b["t"]["value"] for b in r.json()["results"]["bindings"]]

    r = httpx.post(served.url + "/v1/rdf", json=doc, headers={"accept": "application/n-quads"})
    assert b'<http://purl.org/dc/terms/title> "Q3 report"' in r.content
    assert b'"2026-11-02"^^<http://www.w3.org/2001/XMLSchema#date>' in r.content
    assert httpx.post(served.url + "/v1/ingest", json=doc, timeout=120).status_code == 200
    assert titles() == ["Q3 report"]
    bare = {k: v for k, v in doc.items() if k != "meta"}
    assert httpx.post(served.url + "/v1/ingest", json=bare, timeout=120).status_code == 200
    assert titles() == []
    assert httpx.post(served.url + "/v1/ingest", json=doc, timeout=120).status_code == 200
    assert httpx.delete(served.url + "/v1/documents/meta-doc").status_code == 200
    assert titles() == []


def test_auth(fixture_model, tmp_path):
    secret = "s3cret-token-value"
    srv = ServerProc(fixture_model, tmp_path, env={"KGX_SERVE_TOKEN": secret})
    try:
        url = srv.url + "/v1/extract"
        body = {"text": "Maria Lopez works for Acme."}
        r = httpx.post(url, json=body)
        assert r.status_code == 401 and "bearer" in r.headers["www-authenticate"].lower()
        assert httpx.post(url, json=body, headers={"authorization": "Bearer nope"}
                          ).status_code == 403
        assert httpx.post(url, json=body, headers={"authorization": f"Bearer {secret}"}
                          ).status_code == 200
        assert httpx.get(srv.url + "/health").status_code == 200
        assert httpx.get(srv.url + "/ready").status_code == 200
    finally:
        assert srv.stop() == 0
    assert secret not in srv.text()


def test_a_document_the_pipeline_fails_on_fails_its_request_only(fixture_model):
    nlp = spacy.load(fixture_model)
    nlp.add_pipe("kgx_test_boom")
    srv = InProcess(create_app(nlp, max_wait_ms=50))
    try:
        good = {"id": "g", "text": "Maria Lopez works for Acme in Paris."}
        bad = {"id": "b", "text": "BOOM: John Smith works for Globex."}

        def call(body):
            return httpx.post(srv.url + "/v1/extract", json=body, timeout=30)

        with ThreadPoolExecutor(8) as pool:  # batched together with good requests
            answers = list(pool.map(call, [good, bad, good, [good, bad], good, good]))
        statuses = [a.status_code for a in answers]
        assert statuses == [200, 500, 200, 500, 200, 200]
        failed = answers[1].json()
        assert failed["request_id"] and "Traceback" not in answers[1].text
        assert "BOOM" not in answers[1].text  # the pipeline's error is logged, not answered
        assert answers[1].headers["x-request-id"] == failed["request_id"]
        assert answers[0].json()["documents"][0]["records"]
        assert call(good).status_code == 200
    finally:
        srv.stop()


def test_back_pressure_answers_503_with_retry_after(fixture_model):
    nlp = spacy.load(fixture_model)
    nlp.add_pipe("kgx_test_slow")
    srv = InProcess(create_app(nlp, max_queue=2, max_batch_words=10, max_wait_ms=0))
    try:
        def call(i):
            return httpx.post(srv.url + "/v1/extract", json={"text": f"Maria Lopez {i}."},
                              timeout=60)

        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(call, range(12)))
        codes = sorted(a.status_code for a in answers)
        assert 503 in codes and 200 in codes
        busy = next(a for a in answers if a.status_code == 503)
        assert busy.headers["retry-after"] == "1"
        assert call(99).status_code == 200
    finally:
        srv.stop()


def test_sigterm_under_load_loses_no_accepted_ingest(fixture_model, corpus, tmp_path):
    store = tmp_path / "store"
    srv = ServerProc(fixture_model, tmp_path, "--store", str(store))
    accepted: list[str] = []
    lock = threading.Lock()

    def ingest(doc):
        try:
            r = httpx.post(srv.url + "/v1/ingest", json=doc, timeout=60)
        except httpx.HTTPError:
            return
        if r.status_code == 200:
            with lock:
                accepted.append(doc["id"])

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(ingest, d) for d in corpus]
        while len(accepted) < 3:
            time.sleep(0.01)
        rc = srv.stop(signal.SIGTERM)
        for f in futures:
            f.result()
    assert rc == 0, srv.text()[-2000:]
    assert accepted
    graphs = {g.value for g in open_store(store).named_graphs()}
    missing = [d for d in accepted if not any(g.endswith("/" + d) for g in graphs)]
    assert not missing


def test_ingest_into_a_real_oxigraph_server(fixture_model, corpus, tmp_path):
    oxigraph_binary()
    ox_server = OxigraphServer(tmp_path / "oxigraph")
    ox_server.start()
    srv = ServerProc(fixture_model, tmp_path, "--endpoint", ox_server.url, "--flavor",
                     "oxigraph")
    try:
        docs = corpus[:5]
        r = httpx.post(srv.url + "/v1/ingest", json=docs, timeout=120)
        assert r.status_code == 200, r.text
        changed = {**docs[0], "text": "Omar Haddad works for Nordwind in Lyon."}
        assert httpx.post(srv.url + "/v1/ingest", json=changed, timeout=120).status_code == 200
        assert httpx.delete(srv.url + "/v1/documents/" + docs[1]["id"]).status_code == 200
        final = [changed, *docs[2:]]
        builder = GraphBuilder()
        builder.add_records(extract([_jsonl(tmp_path, final)], fixture_model))
        export(builder.graph, tmp_path / "b.nq", "nq")
        expected = set(ox.parse(path=str(tmp_path / "b.nq"), format=ox.RdfFormat.N_QUADS))
        dump = httpx.get(ox_server.url + "/store", headers={"accept": "application/n-quads"})
        assert set(ox.parse(dump.content, format=ox.RdfFormat.N_QUADS)) == expected
        r = httpx.post(srv.url + "/v1/sparql", json={
            "query": "SELECT ?d ?id WHERE { ?d <https://w3id.org/kgx/vocab#documentId> ?id }",
            "params": {"id": docs[2]["id"]}})
        assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 1
    finally:
        assert srv.stop() == 0
        ox_server.stop()


BOOM_CODE = '''
from spacy.language import Language


@Language.component("kgx_test_boom")
def boom(doc):
    if "BOOM" in doc.text:
        raise ValueError("this component fails on BOOM")
    return doc
'''


def test_a_saved_pipeline_that_fails_on_one_document_in_a_server_process(fixture_model,
                                                                         tmp_path):
    """The same with a real saved pipeline and `kgx serve --code` in its own process."""
    nlp = spacy.load(fixture_model)
    nlp.add_pipe("kgx_test_boom")
    nlp.to_disk(tmp_path / "boom-model")
    code = tmp_path / "boom.py"
    code.write_text(BOOM_CODE, encoding="utf-8")
    srv = ServerProc(tmp_path / "boom-model", tmp_path, "--code", str(code), "--max-wait-ms",
                     "50")
    try:
        good = {"id": "g", "text": "Maria Lopez works for Acme in Paris."}
        bad = {"id": "b", "text": "BOOM: John Smith works for Globex."}
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(
                lambda body: httpx.post(srv.url + "/v1/extract", json=body, timeout=60),
                [good, bad, good, good]))
        assert [a.status_code for a in answers] == [200, 500, 200, 200]
        assert "Traceback" not in answers[1].text and answers[1].json()["request_id"]
        assert httpx.post(srv.url + "/v1/extract", json=good).status_code == 200
    finally:
        assert srv.stop() == 0
    assert answers[1].json()["request_id"] in srv.text()  # the error is logged with the id


def test_workers(fixture_model, tmp_path):
    srv = ServerProc(fixture_model, tmp_path, "--workers", "2")
    try:
        for _ in range(4):
            # /ready answered for one worker; the other may still be loading its model and
            # answer 503 with Retry-After, which a client honours
            deadline = time.monotonic() + 120
            while True:
                r = httpx.post(srv.url + "/v1/extract",
                               json={"text": "Maria Lopez works for Acme."})
                if r.status_code != 503 or time.monotonic() > deadline:
                    break
                assert "retry-after" in r.headers
                time.sleep(0.5)
            assert r.status_code == 200 and r.json()["documents"][0]["records"]
    finally:
        assert srv.stop() == 0
    bad = subprocess.run([sys.executable, "-m", "kgx", "serve", str(fixture_model), "--workers",
                          "2", "--store", str(tmp_path / "s")], capture_output=True, text=True)
    assert bad.returncode == 1 and "one process" in bad.stderr


def test_a_declared_charset_is_read_as_extract_reads_encoding(served):
    """A text file sent with ``charset=`` in its ``Content-Type`` (as the body, or as a
    form's file) is read in it where it is not UTF-8, as ``kgx extract --encoding`` reads;
    without it, such bytes are a 422 that says what to do; a charset kgx cannot read text in
    is a 415 naming it."""
    url = served.url + "/v1/extract"
    page = "<p>José’s café: Maria Lopez works for Acme in Paris.</p>".encode("cp1252")
    r = httpx.post(url + "?id=p", content=page,
                   headers={"content-type": "text/html; charset=windows-1252"})
    assert r.status_code == 200, r.text
    (doc,) = r.json()["documents"]
    read = "José’s café: Maria Lopez works for Acme in Paris."
    assert {e["text"] for e in doc["entities"]} == {"Maria Lopez", "Acme", "Paris"}
    assert all(read[e["start_char"]:e["end_char"]] == e["text"] for e in doc["entities"])
    r = httpx.post(url, files={"file": ("note.md", page.replace(b"<p>", b"").replace(
        b"</p>", b""), "text/markdown; charset=cp1252")})
    assert r.status_code == 200, r.text
    assert r.json()["documents"][0]["entities"] == doc["entities"]
    r = httpx.post(url + "?id=p", content=page, headers={"content-type": "text/html"})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].endswith(
        "convert it to UTF-8, or name its encoding (a charset in its Content-Type: text/plain; "
        "charset=cp1252)")
    r = httpx.post(url + "?id=p", content=b"not a pdf",
                   headers={"content-type": "application/pdf; charset=binary"})  # file --mime
    assert r.status_code == 422 and "not a PDF file" in r.text  # the charset is no matter
    for charset, problem in [("nope", "not an encoding Python knows"),
                             ("utf-16", "does not write ASCII as ASCII")]:
        r = httpx.post(url + "?id=p", content=page,
                       headers={"content-type": f"text/html; charset={charset}"})
        assert r.status_code == 415, r.text
        assert r.json()["detail"].startswith(
            f"the body (document 'p'): the charset its Content-Type declares: '{charset}': "
            f"{problem}"), r.text
