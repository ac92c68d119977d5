"""kgx.batch.reading: unchanged files are not read again on --resume; files read in other
processes (``--read-processes``, a Dask cluster's workers) give the run a local run gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_batch import run_records
from typer.testing import CliRunner

from helpers import load_benchmark
from kgx.batch import BatchError, ExtractionRun
from kgx.batch.inputs import TextInput
from kgx.cli import app
from kgx.rundir import read_manifest

SENTENCES = ["Wei Chen works for Globex in Osaka.", "Ana Diaz lives in Paris.",
             "John Smith of Acme met Maria Lopez in Lima.", "Ivan Petrov works for Initech."]


def mixed_corpus(root: Path) -> Path:
    """A folder of one-document files of several formats, a bad PDF, an empty file, a JSONL
    file between them (read in this process, in its place) and a duplicate id."""
    root.mkdir()
    pdf = load_benchmark("eval_pdf")
    docx = load_benchmark("eval_docx")
    for i in range(6):
        text = " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(3))
        pages = pdf.typeset(i, [text, SENTENCES[i % len(SENTENCES)]], 1, False)
        (root / f"a{i}.pdf").write_bytes(pdf.pdf_bytes(pages))
    (root / "b.docx").write_bytes(docx.docx_bytes([docx.run(SENTENCES[1])]))
    (root / "c.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    (root / "d.txt").write_text(SENTENCES[2], encoding="utf-8")
    (root / "e.jsonl").write_text(
        json.dumps({"id": "j1", "text": SENTENCES[3]}) + "\n"
        + json.dumps({"id": "d.txt", "text": "A duplicate id."}) + "\n", encoding="utf-8")
    (root / "f.md").write_text(f"# Notes\n\n*{SENTENCES[0]}*\n", encoding="utf-8")
    (root / "g.txt").write_text("  \n", encoding="utf-8")
    (root / "h.eml").write_bytes(b"Subject: Visit\n\n" + SENTENCES[1].encode())
    return root


def parsed_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files this process takes the text out of, from now on."""
    calls: list[str] = []
    original = TextInput.parse.__func__  # type: ignore[attr-defined]

    def parse(cls, raw):
        calls.append(Path(raw.where).name)
        return original(cls, raw)

    monkeypatch.setattr(TextInput, "parse", classmethod(parse))
    return calls


def test_resume_does_not_read_unchanged_files_again(fixture_model, tmp_path, monkeypatch):
    """A one-document file is hashed from its bytes; an unchanged one is not parsed again
    (a PDF's layout is the costly part), a changed one is, and the run is the same."""
    corpus = mixed_corpus(tmp_path / "in")
    out = tmp_path / "run"
    first = ExtractionRun([corpus], fixture_model, out, progress=False).run()
    assert (first.documents, first.errors, first.skipped) == (14, 2, 1)
    before = run_records(out)
    calls = parsed_here(monkeypatch)
    again = ExtractionRun([corpus], fixture_model, out, resume=True, progress=False).run()
    assert calls == [] and again.documents == 0 and again.unchanged == 14
    assert run_records(out) == before
    (corpus / "a3.pdf").write_bytes((corpus / "a0.pdf").read_bytes())
    changed = ExtractionRun([corpus], fixture_model, out, resume=True, progress=False).run()
    assert calls == ["a3.pdf"] and changed.documents == 1 and changed.unchanged == 13
    manifest = {m["id"]: m for m in read_manifest(out)}
    assert len(manifest) == 14 and manifest["a3.pdf"]["relations"] == \
        manifest["a0.pdf"]["relations"] > 0
    # a duplicate id is still reported on resume, not taken for the unchanged first one
    assert manifest["e.jsonl:2"]["duplicate_of"] == "d.txt"


@pytest.mark.slow
def test_files_read_in_other_processes_give_the_same_run(fixture_model, tmp_path, monkeypatch):
    """--read-processes: the files are parsed in a pool (this process cannot parse them here:
    a run that still did would fail), in input order, with the same errors and records."""
    corpus = mixed_corpus(tmp_path / "in")
    here, pool = tmp_path / "here", tmp_path / "pool"
    ExtractionRun([corpus], fixture_model, here, shard_size=4, progress=False).run()
    monkeypatch.setattr(TextInput, "parse", classmethod(lambda cls, raw: 1 / 0))
    r = CliRunner().invoke(app, ["extract", str(corpus), "--model", str(fixture_model),
                                 "--output", str(pool), "--shard-size", "4",
                                 "--read-processes", "2", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "14 documents (11 ok, 2 errors, 1 skipped empty" in r.output
    assert list(read_manifest(pool)) == list(read_manifest(here))
    assert run_records(pool) == run_records(here)
    assert json.loads((pool / "run.json").read_text())["args"]["read_processes"] == 2
    with pytest.raises(BatchError, match="read-processes"):
        ExtractionRun([corpus], fixture_model, tmp_path / "x", read_processes=-1)


@pytest.mark.slow
def test_dask_workers_read_the_files(fixture_model, tmp_path, monkeypatch):
    """A Dask run parses one-document files on its workers: the client only hashes them."""
    pytest.importorskip("dask.distributed")
    from kgx.batch.distributed import DaskExtractionRun

    corpus = mixed_corpus(tmp_path / "in")
    here = tmp_path / "here"
    ExtractionRun([corpus], fixture_model, here, shard_size=4, progress=False).run()
    monkeypatch.setattr(TextInput, "parse", classmethod(lambda cls, raw: 1 / 0))
    dist = tmp_path / "dask"
    DaskExtractionRun([corpus], str(fixture_model), dist, dask="local:2", shard_size=4,
                      partition_size=3, progress=False).run()
    assert list(read_manifest(dist)) == list(read_manifest(here))
    assert run_records(dist) == run_records(here)
    with pytest.raises(BatchError, match="Dask run takes the text out of files on its workers"):
        DaskExtractionRun([corpus], str(fixture_model), tmp_path / "x", dask="local:1",
                          read_processes=2)


def test_a_failing_executor_costs_no_document(tmp_path, caplog):
    """A file the executor fails (a reading process killed, a Dask worker lost) is read here,
    with a warning; an executor already shut down is not used again; order is kept."""
    from concurrent.futures import Executor, Future, ProcessPoolExecutor

    from kgx.batch.reading import read_inputs

    corpus = mixed_corpus(tmp_path / "in")
    expected = [(e.id, e.status, e.text, e.error) for e in read_inputs([corpus])]

    class Failing(Executor):
        def submit(self, fn, /, *args, **kwargs):
            future: Future = Future()
            future.set_exception(OSError("the worker died"))
            return future

    with caplog.at_level("WARNING", logger="kgx"):
        got = [(e.id, e.status, e.text, e.error)
               for e in read_inputs([corpus], executor=Failing(), ahead=3)]
    assert got == expected
    failed = [r.getMessage() for r in caplog.records if "in another process failed" in
              r.getMessage()]
    assert len(failed) == 12 and "a0.pdf: reading it in another process failed (OSError: " \
        "the worker died); reading it here" in failed[0]
    pool = ProcessPoolExecutor(1)
    pool.shutdown()
    caplog.clear()
    with caplog.at_level("WARNING", logger="kgx"):
        got = [(e.id, e.status, e.text, e.error)
               for e in read_inputs([corpus], executor=pool, ahead=3)]
    assert got == expected
    assert [r.getMessage() for r in caplog.records] == [
        "the reading processes are gone (cannot schedule new futures after shutdown); "
        "reading here"]


@pytest.mark.slow
def test_streamed_records_with_a_reading_pool(fixture_model, tmp_path, monkeypatch):
    """``kgx.batch.extract(..., read_processes=2)`` streams the records of a run that reads
    here, in the same order (this process cannot parse)."""
    from kgx.batch import extract

    corpus = mixed_corpus(tmp_path / "in")
    here = [dict(r) for r in extract([corpus], fixture_model)]
    monkeypatch.setattr(TextInput, "parse", classmethod(lambda cls, raw: 1 / 0))
    pooled = [dict(r) for r in extract([corpus], fixture_model, read_processes=2)]
    assert pooled == here and len(here) > 5
