"""The pipeline commands (show, evaluate, tune-thresholds) and `spacy train` without --code."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from helpers import TRAIN, ruled_pipeline
from kgx.cli import app
from kgx.corpus import docs_to_kgx_jsonl


@pytest.fixture(scope="module")
def ruled_model(trained, tmp_path_factory):
    """The tiny trained relation component behind an entity_ruler, on disk."""
    nlp, examples, _ = trained
    pipe = ruled_pipeline(nlp, examples)
    path = tmp_path_factory.mktemp("cli") / "model"
    pipe.to_disk(path)
    db = DocBin(store_user_data=True, docs=[eg.reference for eg in examples])
    db.to_disk(path.parent / "dev.spacy")
    return path


def test_show_prints_entities_and_relations(ruled_model, tmp_path):
    runner = CliRunner()
    html = tmp_path / "show.html"
    result = runner.invoke(app, ["show", TRAIN[0][0], "--model", str(ruled_model),
                                 "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert "Maria Lopez" in result.output and "Work_For" in result.output
    page = html.read_text(encoding="utf-8")
    assert "<h2>Relations</h2>" in page and "Work_For" in page
    assert '<g class="kgx-rel" data-label="Work_For"' in page and 'class="kgx-arc"' in page
    text_file = tmp_path / "in.txt"
    text_file.write_text(TRAIN[1][0], encoding="utf-8")
    result = runner.invoke(app, ["show", str(text_file), "--model", str(ruled_model), "--json"])
    data = json.loads(result.output)
    assert [r["relation"] for r in data["relations"]] == ["Live_In"]
    assert data["relations"][0]["head"]["text"] == "John Smith"
    # a file is read as `kgx extract` reads it: a byte-order mark dropped, Markdown's markup
    # read as spaces (the names at their offsets in the file as written)
    markdown = tmp_path / "in.md"
    text = TRAIN[1][0].replace("John Smith", "**John Smith**").replace(
        "Berlin", "[Berlin](https://en.wikipedia.org/wiki/Berlin)")
    assert text != TRAIN[1][0]
    markdown.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = runner.invoke(app, ["show", str(markdown), "--model", str(ruled_model), "--json"])
    data = json.loads(result.output)
    assert [r["relation"] for r in data["relations"]] == ["Live_In"]
    head, tail = data["relations"][0]["head"], data["relations"][0]["tail"]
    assert (head["text"], tail["text"]) == ("John Smith", "Berlin")
    assert text[head["start_char"]:head["end_char"]] == "John Smith"
    assert text[tail["start_char"]:tail["end_char"]] == "Berlin"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9")
    result = runner.invoke(app, ["show", str(bad), "--model", str(ruled_model)])
    assert result.exit_code == 1 and "bad.txt" in result.output and "UTF-8" in result.output
    many = tmp_path / "docs.jsonl"
    many.write_text('{"id": "a", "text": "John Smith lives in Berlin ."}\n', encoding="utf-8")
    result = runner.invoke(app, ["show", str(many), "--model", str(ruled_model)])
    assert result.exit_code == 1 and "docs.jsonl: a jsonl file holds many documents" in \
        result.output


def test_show_with_a_missing_model_fails_in_one_line(tmp_path):
    result = CliRunner().invoke(app, ["show", "text", "--model", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "cannot load the pipeline" in result.output


def test_evaluate_and_tune_thresholds(ruled_model, tmp_path):
    runner = CliRunner()
    dev = ruled_model.parent / "dev.spacy"
    result = runner.invoke(app, ["evaluate", str(ruled_model), str(dev),
                                 "--output", str(tmp_path / "m.json")])
    assert result.exit_code == 0, result.output
    assert "relations, strict" in result.output
    scores = json.loads((tmp_path / "m.json").read_text())
    assert scores["rel_strict_micro_f"] == pytest.approx(1.0)
    result = runner.invoke(app, ["evaluate", str(ruled_model), str(dev), "--gold-entities"])
    assert result.exit_code == 0, result.output
    assert "NER (gold entities given)" in result.output
    tuned = tmp_path / "tuned"
    result = runner.invoke(app, ["tune-thresholds", str(ruled_model), str(dev),
                                 "--output", str(tuned), "--folds", "2"])
    assert result.exit_code == 0, result.output
    assert "2-fold cross-validated 100.00" in result.output, result.output
    result = runner.invoke(app, ["tune-thresholds", str(ruled_model), str(dev),
                                 "--output", str(tmp_path / "never"), "--folds", "100000"])
    assert result.exit_code == 1 and "folds must be between 2" in result.output
    assert not (tmp_path / "never").exists()
    rel = spacy.load(tuned).get_pipe("kgx_relation_extractor")
    assert set(rel.cfg["thresholds"]) == set(rel.labels)
    result = runner.invoke(app, ["evaluate", str(ruled_model), str(tmp_path / "none.spacy")])
    assert result.exit_code == 1 and "no such data file" in result.output


@pytest.mark.slow
def test_spacy_train_works_without_code(repo_root, tmp_path, trained):
    """`python -m spacy train configs/kgx_demo.cfg` in a fresh process: entry points only."""
    _, examples, _ = trained
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n"
                            for r in docs_to_kgx_jsonl(eg.reference for eg in examples)))
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-m", "spacy", "train", str(repo_root / "configs" / "kgx_demo.cfg"),
         "--output", str(tmp_path / "out"), "--paths.train", str(data),
         "--paths.dev", str(data), "--training.max_steps", "6",
         "--training.eval_frequency", "3"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert nlp.pipe_names == ["sentencizer", "kgx_layout_boundaries", "transformer", "ner",
                              "kgx_relation_extractor"]
    assert set(nlp.get_pipe("kgx_relation_extractor").labels) == {
        "Work_For", "OrgBased_In", "Live_In", "Located_In"}

    # configs/kgx_trf_continue.cfg picks the saved pipeline up and trains it further
    out = subprocess.run(
        [sys.executable, "-m", "spacy", "train",
         str(repo_root / "configs" / "kgx_trf_continue.cfg"),
         "--output", str(tmp_path / "more"), "--paths.source", str(tmp_path / "out" / "model-last"),
         "--paths.train", str(data), "--paths.dev", str(data), "--training.max_steps", "3",
         "--training.eval_frequency", "3", "--training.optimizer.learn_rate.warmup_steps", "1"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    more = spacy.load(tmp_path / "more" / "model-last")
    assert more.pipe_names == nlp.pipe_names
    assert more.get_pipe("kgx_relation_extractor").labels == \
        nlp.get_pipe("kgx_relation_extractor").labels
    for name in ("transformer", "kgx_relation_extractor"):  # trained further, not just copied
        assert more.get_pipe(name).to_bytes() != nlp.get_pipe(name).to_bytes()


@pytest.mark.slow
def test_spacy_package_declares_kgx_and_loads_by_name(ruled_model, tmp_path):
    """`spacy package` finds kgx through the entry points and lists it as a requirement; the
    installed package loads by name in a fresh interpreter."""
    out = tmp_path / "packages"
    out.mkdir()
    subprocess.run([sys.executable, "-m", "spacy", "package", str(ruled_model), str(out),
                    "--name", "kgx_tiny", "--version", "0.0.1", "--force"],
                   check=True, capture_output=True, text=True, timeout=300)
    meta = json.loads((out / "en_kgx_tiny-0.0.1" / "meta.json").read_text())
    assert any(r.startswith("kgx") for r in meta["requirements"])
    (sdist,) = (out / "en_kgx_tiny-0.0.1" / "dist").glob("*.tar.gz")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--no-build-isolation", "--target", str(target), str(sdist)],
                   check=True, capture_output=True, text=True, timeout=300)
    code = ("import spacy; nlp = spacy.load('en_kgx_tiny'); "
            "doc = nlp('Maria Lopez works for Acme in Paris .'); "
            "print([r['label'] for r in doc._.kgx_relations])")
    env = dict(os.environ, PYTHONPATH=str(target))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300, check=True)
    assert "Work_For" in res.stdout
