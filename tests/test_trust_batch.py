"""Issue 13 (a graph users can trust), the batch side: a failing batch costs only the documents
that fail, pipeline errors are retried on --resume, and the caller's pipeline and process are left
as they were (error handlers, torch threads, model caches)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from test_batch import manifest

from kgx.batch import ExtractionRun, extract


class BatchBomb:
    """A component that fails a whole minibatch when one of its documents says BOOM (as a
    trained component's ``predict`` fails for the batch, not for one document)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, doc):
        if "BOOM" in doc.text:
            raise RuntimeError("boom inside the pipeline")
        return doc

    def pipe(self, docs, batch_size: int = 128):
        from spacy.util import minibatch

        handler = self.get_error_handler()
        for batch in minibatch(docs, size=batch_size):
            try:
                for doc in batch:
                    self(doc)
                yield from batch
            except Exception as e:
                handler(self.name, self, batch, e)

    def set_error_handler(self, handler) -> None:
        self.error_handler = handler

    def get_error_handler(self):
        from spacy.util import raise_error

        return getattr(self, "error_handler", raise_error)


@Language.factory("kgx_test_batch_bomb")
def make_batch_bomb(nlp, name: str):
    return BatchBomb(name)


def bomb_pipeline(fixture_model: Path):
    nlp = spacy.load(fixture_model)
    nlp.add_pipe("kgx_test_batch_bomb", first=True)
    return nlp


def corpus_with_one_bomb(path: Path, n: int = 8, bomb: int = 3) -> Path:
    texts = [f"John Smith lives in Berlin ({i})." for i in range(n)]
    texts[bomb] = "BOOM said Acme in Oslo."
    path.write_text("".join(json.dumps({"id": f"x{i}", "text": t}) + "\n"
                            for i, t in enumerate(texts)), encoding="utf-8")
    return path


def test_one_failing_document_in_a_batch_of_8_is_one_error(fixture_model, tmp_path):
    """Item 1: spaCy hands the error handler the whole minibatch; the other 7 documents of the
    batch are processed again one at a time and come out ok."""
    nlp = bomb_pipeline(fixture_model)
    corpus = corpus_with_one_bomb(tmp_path / "c.jsonl")
    out = tmp_path / "run"
    totals = ExtractionRun([corpus], nlp, out, batch_size=8, progress=False).run()
    m = manifest(out)
    assert [m[f"x{i}"]["status"] for i in range(8)] == ["ok"] * 3 + ["error"] + ["ok"] * 4
    assert totals.errors == 1 and totals.ok == 7
    assert "kgx_test_batch_bomb" in m["x3"]["error"]
    assert "boom inside the pipeline" in m["x3"]["error"]
    assert all(m[f"x{i}"]["relations"] > 0 for i in range(8) if i != 3)
    # the same through the streaming API
    assert {r["doc_id"] for r in extract([corpus], nlp, batch_size=8)} == \
        {f"x{i}" for i in range(8) if i != 3}


def test_pipeline_errors_are_retried_on_resume_input_errors_are_not(fixture_model, tmp_path):
    """Item 1: only input errors (decoding, JSON) are final; a document the pipeline failed on is
    processed again by --resume (the pipeline may have been fixed, or the failure transient)."""
    nlp = bomb_pipeline(fixture_model)
    corpus = corpus_with_one_bomb(tmp_path / "c.jsonl", n=4, bomb=1)
    with corpus.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    out = tmp_path / "run"
    ExtractionRun([corpus], nlp, out, batch_size=4, progress=False).run()
    m = manifest(out)
    assert m["x1"]["status"] == "error" and m["c.jsonl:5"]["status"] == "error"
    fixed = spacy.load(fixture_model)  # the pipeline without the failing component
    again = ExtractionRun([corpus], fixed, out, resume=True, progress=False).run()
    assert again.documents == 1 and again.ok == 1 and again.unchanged == 4
    m = manifest(out)
    assert m["x1"]["status"] == "ok" and m["c.jsonl:5"]["status"] == "error"


def test_the_callers_pipeline_keeps_its_error_handlers(fixture_model, tmp_path):
    """Item 17: kgx.batch used to leave its error handler on the caller's Language, so that a
    later failure outside kgx was swallowed instead of raising the real error."""
    from spacy.util import raise_error

    nlp = bomb_pipeline(fixture_model)
    corpus = corpus_with_one_bomb(tmp_path / "c.jsonl", n=3, bomb=1)
    list(extract([corpus], nlp, batch_size=2))
    ExtractionRun([corpus], nlp, tmp_path / "run", progress=False).run()
    assert nlp.default_error_handler is raise_error
    assert nlp.get_pipe("kgx_test_batch_bomb").get_error_handler() is raise_error
    with pytest.raises(RuntimeError, match="boom inside the pipeline"):
        list(nlp.pipe(["BOOM again"]))


def test_torch_threads_are_restored_after_n_process_2(fixture_model, tmp_path):
    """Item 17: nlp.pipe(n_process>1) needs one torch thread in the parent while it forks;
    the caller's setting comes back afterwards."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        corpus = corpus_with_one_bomb(tmp_path / "c.jsonl", n=4, bomb=2)
        records = list(extract([corpus], spacy.load(fixture_model), n_process=2, batch_size=2))
        assert records
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
def test_the_real_error_reaches_the_parent_with_n_process_2(fixture_model, tmp_path):
    """Item 17: the failures dict lived in the worker processes; now the failing document is
    processed again in the parent, which sees the real error."""
    nlp = bomb_pipeline(fixture_model)
    corpus = corpus_with_one_bomb(tmp_path / "c.jsonl", n=6, bomb=4)
    out = tmp_path / "run"
    totals = ExtractionRun([corpus], nlp, out, batch_size=2, n_process=2, progress=False).run()
    m = manifest(out)
    assert totals.errors == 1 and totals.ok == 5
    assert "boom inside the pipeline" in m["x4"]["error"]
    assert m["x4"]["stage"] == "pipeline"


def test_lone_surrogates_are_error_entries_not_a_crash(fixture_model, tmp_path):
    """Item 7: a lone surrogate ("\\ud800" in JSON) in the text, the id or a metadata field
    stopped `kgx extract` with a traceback and an empty manifest."""
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join([
        '{"id": "a", "text": "Maria Lopez works for Acme in Paris."}',
        '{"id": "b", "text": "bad \\ud800 text"}',
        '{"id": "c\\udc00", "text": "John Smith lives in Berlin."}',
        '{"id": "d", "text": "Ana Diaz joined Acme.", "src": ["x\\ud800"]}',
        '{"id": "e", "text": "Acme is in Oslo."}']) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    totals = ExtractionRun([corpus], fixture_model, out, progress=False).run()
    assert (totals.ok, totals.errors) == (2, 3)
    m = manifest(out)
    assert m["a"]["status"] == m["e"]["status"] == "ok"
    for loc in ("c.jsonl:2", "c.jsonl:3", "c.jsonl:4"):
        assert m[loc]["status"] == "error" and "lone surrogate" in m[loc]["error"]
    assert "'text'" in m["c.jsonl:2"]["error"] and "'src[0]'" in m["c.jsonl:4"]["error"]
    again = ExtractionRun([corpus], fixture_model, out, resume=True, progress=False).run()
    assert again.unchanged == 5


def test_a_file_name_that_is_not_utf8_is_recorded(fixture_model, tmp_path):
    """Item 8: caf\\xe9.txt crashed `kgx extract` at the manifest write, and --resume crashed
    the same way, forever."""
    root = tmp_path / "in"
    root.mkdir()
    import os

    name = os.fsdecode(b"caf\xe9.txt")
    (root / name).write_text("Maria Lopez works for Acme in Paris.", encoding="utf-8")
    (root / "ok.txt").write_text("John Smith lives in Berlin.", encoding="utf-8")
    out = tmp_path / "run"
    totals = ExtractionRun([root], fixture_model, out, progress=False).run()
    assert totals.ok == 2
    m = manifest(out)
    assert "caf\\xe9.txt" in m and m["caf\\xe9.txt"]["relations"] > 0
    (out / "manifest.jsonl").read_text(encoding="utf-8")  # valid UTF-8 throughout
    again = ExtractionRun([root], fixture_model, out, resume=True, progress=False).run()
    assert again.unchanged == 2 and again.documents == 0


def test_nan_metadata_and_odd_ids(fixture_model, tmp_path):
    """Item 15: a NaN metadata value was written to manifest.jsonl as bare NaN (not JSON);
    JSONL ids 1 and "1" were one id, and true or {} were ids through Python's str()."""
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join([
        '{"id": 1, "text": "Maria Lopez works for Acme in Paris."}',
        '{"id": "1", "text": "John Smith lives in Berlin."}',
        '{"id": "n", "text": "Acme is in Oslo.", "score": NaN}',
        '{"id": true, "text": "Acme is in Oslo."}',
        '{"id": {"a": 1}, "text": "Acme is in Oslo."}',
        '{"id": 2.5, "text": "Acme is in Oslo."}']) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    ExtractionRun([corpus], fixture_model, out, progress=False).run()
    def strict(name):
        raise AssertionError(f"{name} in manifest.jsonl")

    lines = [json.loads(line, parse_constant=strict)
             for line in (out / "manifest.jsonl").read_text().splitlines()]
    m = {line["id"]: line for line in lines}
    assert m["1"]["status"] == "ok" and m["c.jsonl:2"]["status"] == "error"
    assert "duplicate id" in m["c.jsonl:2"]["error"]
    assert m["c.jsonl:3"]["status"] == "error" and "NaN" in m["c.jsonl:3"]["error"]
    for loc in ("c.jsonl:4", "c.jsonl:5", "c.jsonl:6"):
        assert m[loc]["status"] == "error" and "id field" in m[loc]["error"], m[loc]
    assert not any(k in m for k in ("True", "{'a': 1}", "2.5"))


def test_a_second_process_cannot_resume_a_run_in_use(fixture_model, tmp_path):
    """Item 16 (fixed when the lock was added, 5e7ddce): two --resume runs on one run directory
    deleted each other's open shards; a second process now stops with a clear message."""
    import subprocess

    from test_batch import make_corpus

    corpus = make_corpus(tmp_path / "c.jsonl", 3)
    out = tmp_path / "run"
    ExtractionRun([corpus], fixture_model, out, progress=False).run()
    tmp_shard = out / "relations" / "shard-000009.jsonl.tmp"
    tmp_shard.write_text("")  # the first run's open shard
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom kgx.rundir import RunDir\n"
         f"with RunDir({str(out)!r}).lock():\n    print('locked', flush=True)\n"
         "    sys.stdin.read()\n"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        res = subprocess.run([sys.executable, "-m", "kgx", "extract", str(corpus), "--model",
                              str(fixture_model), "--output", str(out), "--resume"],
                             capture_output=True, text=True)
        assert res.returncode == 1 and "in use by another kgx run" in res.stderr
        assert tmp_shard.exists()  # nothing of the first run was touched
    finally:
        holder.communicate("")


def test_worker_model_cache_notices_a_retrained_model(fixture_model, tmp_path):
    """Item 17: Dask workers cached models by path forever: a model retrained at the same path
    was never reloaded. The cache is keyed on the model's meta (and its files' mtimes)."""
    import shutil

    from kgx.batch import distributed

    path = tmp_path / "model"
    shutil.copytree(fixture_model, path)
    first = distributed._worker_model(str(path))
    assert distributed._worker_model(str(path)) is first  # cached
    nlp = spacy.load(path)
    nlp.meta["version"] = "0.0.2"
    nlp.to_disk(path)
    again = distributed._worker_model(str(path))
    assert again is not first and again.meta["version"] == "0.0.2"
    assert all(nlp is not first for _, nlp in distributed._MODELS.values())  # not kept


def test_resolving_the_encoder_leaves_the_environment_alone(minilm_path, monkeypatch):
    """Item 17: kgx/encoders.py set HF_HUB_OFFLINE=1 for the whole process."""
    import os

    from kgx.encoders import resolve_encoder

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert resolve_encoder("all-MiniLM-L6-v2") == str(minilm_path)
    assert "HF_HUB_OFFLINE" not in os.environ
