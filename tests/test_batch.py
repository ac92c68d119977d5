"""kgx.batch, kgx.rundir, `kgx extract`: inputs, ids, shards, manifest, resume after kill, bad data.

The pipeline is real and on disk (blank en + sentencizer + entity_ruler + an initialised
``kgx_relation_extractor`` with threshold 0.0, so every candidate pair yields relations):
fresh processes (``n_process=2``, Dask workers, the CLI subprocess) load it by path.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import spacy
from typer.testing import CliRunner

from kgx.batch import ExtractionRun, RunTotals, extract, split_points
from kgx.batch.run import _Progress
from kgx.cli import app
from kgx.rundir import iter_run_records, read_manifest

PERSONS = ["Maria Lopez", "John Smith", "Ana Diaz", "Peter Novak", "Aiko Tanaka", "Omar Haddad"]
ORGS = ["Acme", "Nordwind", "Globex", "Initech", "Vandelay Industries"]
LOCS = ["Paris", "Berlin", "Oslo", "Lyon", "France", "Nairobi"]

TEMPLATES = [
    "{p} works for {o} in {l}.",
    "{o}, a firm based in {l}, hired {p} last spring.",
    "Analysts said {p} met executives of {o} on Tuesday.",
    "{p} lives in {l} and commutes to the {o} office every day.",
    "Shares of {o} rose after the company opened a plant near {l}.",
    "The weather in {l} was mild, and markets were calm.",
]


def build_fixture_pipeline(path: Path) -> Path:
    """Write the small deterministic test pipeline to ``path`` and return it."""
    sys.path.insert(0, str(Path(__file__).parent))
    from helpers import TRAIN, make_example

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler")
    nlp.add_pipe("kgx_relation_extractor", config={
        "threshold": 0.0,
        "model": {"tok2vec": {"@architectures": "spacy.HashEmbedCNN.v2",
                              "pretrained_vectors": None, "width": 64, "depth": 2,
                              "embed_size": 1000, "window_size": 1, "maxout_pieces": 3,
                              "subword_features": True}},
    })
    examples = [make_example(nlp, *row) for row in TRAIN]
    nlp.initialize(lambda: examples)
    ruler.add_patterns(  # after initialize, which resets the ruler
        [{"label": "PER", "pattern": n} for n in PERSONS]
        + [{"label": "ORG", "pattern": n} for n in ORGS]
        + [{"label": "LOC", "pattern": n} for n in LOCS]
    )
    nlp.meta["name"] = "kgx_batch_fixture"
    nlp.to_disk(path)
    return path


def make_text(rng: random.Random, sentences: int) -> str:
    out = []
    for _ in range(sentences):
        t = rng.choice(TEMPLATES)
        out.append(t.format(p=rng.choice(PERSONS), o=rng.choice(ORGS), l=rng.choice(LOCS)))
    return " ".join(out)


def make_corpus(path: Path, n: int, seed: int = 0, sentences: tuple[int, int] = (2, 6)) -> Path:
    """A JSONL corpus of ``n`` news-like documents with ids ``d00000``…"""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            doc = {"id": f"d{i:05d}", "text": make_text(rng, rng.randint(*sentences)),
                   "source": "synthetic"}
            fh.write(json.dumps(doc) + "\n")
    return path


def run_records(run_dir: Path) -> list[dict]:
    return sorted(iter_run_records(run_dir), key=lambda r: json.dumps(r, sort_keys=True))


def assert_read_as_plain_text(model, tmp_path: Path, name: str, data: bytes, text: str) -> None:
    """A run over the file ``name`` holding ``data`` gives the records of ``text`` as a
    ``.txt`` file, offsets included: the reader's text is what the records point into."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / name).write_bytes(data)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "doc.txt").write_text(text, encoding="utf-8")
    for folder in ("in", "plain"):
        ExtractionRun([tmp_path / folder], model, tmp_path / f"run-{folder}",
                      progress=False).run()
    found, plain = run_records(tmp_path / "run-in"), run_records(tmp_path / "run-plain")
    assert found and [{**r, "doc_id": "x"} for r in found] == [{**r, "doc_id": "x"}
                                                               for r in plain]
    for r in found:
        for end in ("head", "tail"):
            assert text[r[end]["start_char"]:r[end]["end_char"]] == r[end]["text"]


def manifest(run_dir: Path) -> dict[str, dict]:
    lines = list(read_manifest(run_dir))
    return {m["id"]: m for m in lines}


# --- pure helpers ----------------------------------------------------------------------------


def test_split_points_prefers_paragraphs_then_sentences_then_spaces():
    text = "a" * 40 + "\n\n" + "b" * 30 + ". " + "c" * 50
    pieces = split_points(text, 60)
    assert pieces[0] == (0, 42)  # after the paragraph break
    assert "".join(text[s:e] for s, e in pieces) == text
    assert all(e - s <= 60 for s, e in pieces)
    one_line = ("word " * 40).strip() + ". Next sentence goes on and on here."
    pieces = split_points(one_line, 50)
    assert all(one_line[e - 1] == " " for _, e in pieces[:-1])
    assert "".join(one_line[s:e] for s, e in pieces) == one_line
    hard = "x" * 125
    assert split_points(hard, 50) == [(0, 50), (50, 100), (100, 125)]
    # any line break str.splitlines knows: Windows, classic Mac, Unicode's separators
    for brk, para in [("\r\n", "\r\n\r\n"), ("\r", "\r\r"), ("\u2028", "\u2029"),
                      ("\n", "\n \n")]:
        text = "a" * 20 + brk + "a" * 20 + para + "b" * 30 + brk + "c" * 50
        assert split_points(text, 80)[0] == (0, 40 + len(brk) + len(para)), repr(brk)


def test_split_points_cut_hard_wrapped_text_at_sentence_ends_never_inside_a_broken_word():
    """Hard-wrapped text breaks its lines inside sentences: a sentence end is the better cut,
    and a word broken at a line end ("Glo-\\nbex") is one word to the pipeline."""
    text = ("Wei Chen works for Globex in\nOsaka. His sister lives in San\nFrancisco and "
            "works for\nInitech. ") * 4
    pieces = split_points(text, 120)
    assert "".join(text[s:e] for s, e in pieces) == text
    assert all(text[:e].endswith(". ") for _, e in pieces[:-1])
    # no sentence end past the half: the last line break; never the one inside "Glo-\nbex"
    wrapped = "word " * 12 + "\nmore words here " + "and Glo-\nbex " + "x" * 8
    cut = split_points(wrapped, len(wrapped) - 1)[0][1]
    assert wrapped[:cut].endswith("\n") and not wrapped[:cut].endswith("Glo-\n")
    # a period after a title or an initial, or before a lower-case word, ends no sentence
    titles = "word " * 12 + "end. He met Dr. King, Sen. Ford, F. Lee and the U.S. team"
    cut = split_points(titles, len(titles) - 1)[0][1]
    assert titles[:cut].endswith("end. ")
    hyphen_last = "a" * 30 + " Glo-\nbex" + "b" * 30
    cut = split_points(hyphen_last, 40)[0][1]
    assert hyphen_last[:cut].endswith("a ")


# --- extraction API --------------------------------------------------------------------------


def test_extract_yields_records_matching_nlp(fixture_model, tmp_path):
    corpus = make_corpus(tmp_path / "c.jsonl", 12)
    records = list(extract([corpus], fixture_model))
    nlp = spacy.load(fixture_model)
    texts = {json.loads(x)["id"]: json.loads(x)["text"] for x in corpus.read_text().splitlines()}
    expected = []
    from kgx.records import doc_to_records, model_name

    for doc_id, text in texts.items():
        expected.extend(doc_to_records(nlp(text), doc_id, model_name(nlp)))
    assert records == expected
    assert records, "the fixture pipeline yields relations"
    for r in records:
        t = texts[r["doc_id"]]
        assert t[r["head"]["start_char"]:r["head"]["end_char"]] == r["head"]["text"]


def test_folder_inputs_ids_glob_gz_and_metadata(fixture_model, tmp_path):
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("Maria Lopez works for Acme in Paris.", encoding="utf-8")
    (root / "sub" / "b.md").write_text("John Smith lives in Berlin.", encoding="utf-8")
    with gzip.open(root / "sub" / "c.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write("Ana Diaz joined Nordwind in Oslo.")
    with gzip.open(root / "d.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"doc": "x1", "body": "Acme is in Lyon.", "lang": "en"}) + "\n")
        fh.write(json.dumps({"body": "Globex is in Oslo."}) + "\n")
    (root / "ignored.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # no input format
    out = tmp_path / "run"
    totals = ExtractionRun([root], fixture_model, out, id_field="doc", text_field="body",
                           progress=False).run()
    m = manifest(out)
    assert set(m) == {"a.txt", "sub/b.md", "sub/c.txt.gz", "x1", "d.jsonl.gz:2"}
    assert m["x1"]["meta"] == {"lang": "en"}
    assert m["x1"]["source"].endswith("d.jsonl.gz:1")
    assert all(v["status"] == "ok" for v in m.values())
    assert totals.ok == 5 and totals.errors == 0
    assert {r["doc_id"] for r in run_records(out)} == set(m)
    only_md = ExtractionRun([root], fixture_model, tmp_path / "run2", glob="**/*.md",
                            progress=False).run()
    assert only_md.documents == 1
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "finished" and run["model"].endswith("kgx_batch_fixture@0.0.0")
    assert run["totals"]["relations"] == totals.relations > 0


def test_shards_manifest_and_counts(fixture_model, tmp_path):
    corpus = make_corpus(tmp_path / "c.jsonl", 25)
    out = tmp_path / "run"
    totals = ExtractionRun([corpus], fixture_model, out, shard_size=10, progress=False).run()
    shards = sorted(p.name for p in (out / "relations").iterdir())
    assert shards == ["shard-000000.jsonl", "shard-000001.jsonl", "shard-000002.jsonl"]
    m = manifest(out)
    assert len(m) == 25 and totals.documents == 25
    recs = run_records(out)
    for doc_id, line in m.items():
        mine = [r for r in recs if r["doc_id"] == doc_id]
        assert line["relations"] == len(mine)
        assert line["sha256"] and line["words"] > 0 and line["chars"] > 0
        assert line["entities"] >= 2
    assert sum(line["relations"] for line in m.values()) == totals.relations == len(recs)
    # the graph builder reads a run directory through the same reader
    from kgx.rundir import iter_input_records

    assert len(list(iter_input_records(out))) == len(recs)


def test_n_process_2_gives_the_same_records(fixture_model, tmp_path):
    corpus = make_corpus(tmp_path / "c.jsonl", 30)
    one = list(extract([corpus], fixture_model, batch_size=4))
    two = list(extract([corpus], fixture_model, batch_size=4, n_process=2))
    assert one == two


# --- bad input -------------------------------------------------------------------------------


def test_utf16_text_with_its_byte_order_mark_is_read(tmp_path):
    """Notepad's "Unicode" and Excel's "Unicode text" are UTF-16 with a byte-order mark, which
    says so unambiguously: read as such (they were "binary content" for their NUL bytes)."""
    from kgx.batch.inputs import TextInput

    text = "Wei Chen works for Globex in Osaka.\r\nCafé in Köln, 東京."
    (tmp_path / "le.txt").write_bytes(text.encode("utf-16"))  # with its mark, little-endian
    (tmp_path / "be.txt").write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    (tmp_path / "cut.txt").write_bytes(text.encode("utf-16")[:-1])
    (tmp_path / "nul.txt").write_bytes(text.encode("utf-16-le"))  # no mark: not said, not read
    read = {e.id: e for e in TextInput.read(tmp_path / "le.txt", tmp_path)}
    read |= {e.id: e for name in ("be", "cut", "nul")
             for e in TextInput.read(tmp_path / f"{name}.txt", tmp_path)}
    assert read["le.txt"].text == read["be.txt"].text == text
    assert "not valid UTF-16, as its byte-order mark says" in read["cut.txt"].error
    assert "binary content (NUL byte at offset 1)" in read["nul.txt"].error


def test_a_byte_order_mark_is_not_text(fixture_model, tmp_path):
    """Windows editors open UTF-8 files with a byte-order mark: it is dropped, so that the
    first line of a JSONL file parses and the first word of a text file is the word alone;
    offsets count from the character after it."""
    import gzip

    from kgx.batch.inputs import TextInput
    from kgx.batch.jsondocs import JsonlInput

    root = tmp_path / "in"
    root.mkdir()
    bom = b"\xef\xbb\xbf"
    text = "Maria Lopez works for Acme in Paris."
    (root / "win.txt").write_bytes(bom + text.encode())
    (root / "win.md.gz").write_bytes(gzip.compress(bom + text.encode()))
    line = json.dumps({"id": "j1", "text": text}).encode()
    (root / "win.jsonl").write_bytes(bom + line + b"\n" + line.replace(b"j1", b"j2") + b"\n")
    (root / "blank.jsonl").write_bytes(bom + b"\n" + line.replace(b"j1", b"j3") + b"\n")
    # only at a file's start: a mark inside the text is the text's
    (root / "inside.jsonl").write_bytes(line.replace(b"j1", b"j4") + b"\n" + bom
                                        + line.replace(b"j1", b"j5") + b"\n")
    read = {e.id: e for e in TextInput.read(root / "win.txt", root)}
    assert read["win.txt"].text == text
    assert [e.text for e in TextInput.read(root / "win.md.gz", root)] == [text]
    assert [(e.id, e.status, e.text) for e in JsonlInput.read(root / "win.jsonl", root)] == [
        ("j1", "ok", text), ("j2", "ok", text)]
    assert [e.id for e in JsonlInput.read(root / "blank.jsonl", root)] == ["j3"]
    assert JsonlInput.count(root / "blank.jsonl") == 1
    inside = list(JsonlInput.read(root / "inside.jsonl", root))
    assert [e.status for e in inside] == ["ok", "error"]
    assert "malformed JSON" in (inside[1].error or "")
    out = tmp_path / "run"
    totals = ExtractionRun([root], fixture_model, out, progress=False).run()
    assert totals.ok == 6 and totals.errors == 1
    records = run_records(out)
    assert records and all(not r["head"]["text"].startswith("\ufeff") for r in records)
    for r in records:
        for end in ("head", "tail"):
            span = r[end]
            assert text[span["start_char"]:span["end_char"]] == span["text"], r


def test_bad_inputs_are_error_entries_and_the_rest_runs(fixture_model, tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    (root / "good.txt").write_text("Maria Lopez works for Acme in Paris.", encoding="utf-8")
    (root / "latin1.txt").write_bytes("Jos\xe9 works for Acme.".encode("latin-1"))
    (root / "binary.txt").write_bytes(b"Acme\x00\x01\x02 in Paris")
    (root / "empty.txt").write_text("", encoding="utf-8")
    (root / "blank.md").write_text("  \n\t\n", encoding="utf-8")
    (root / "broken-link.txt").symlink_to(root / "does-not-exist.txt")
    os.mkfifo(root / "fifo.txt")
    lines = [
        json.dumps({"id": "j1", "text": "John Smith lives in Berlin."}),
        "{not json",
        json.dumps({"id": "j3", "body": "no text field"}),
        json.dumps({"id": "j1", "text": "Same id again: Ana Diaz in Oslo."}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "j6", "text": 42}),
        "",
        json.dumps({"id": "j8", "text": "   "}),
    ]
    (root / "docs.jsonl").write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "j9", '
                                      b'"text": "caf\xe9"}\n')
    out = tmp_path / "run"
    totals = ExtractionRun([root], fixture_model, out, progress=False).run()
    m = manifest(out)
    status = {k: v["status"] for k, v in m.items()}
    assert status["good.txt"] == "ok" and status["j1"] == "ok"
    assert status["empty.txt"] == status["blank.md"] == status["j8"] == "skipped"
    errors = {e["id"]: e for e in map(json.loads, (out / "errors.jsonl").read_text().splitlines())}
    assert "not valid UTF-8" in errors["latin1.txt"]["message"]
    assert "NUL byte" in errors["binary.txt"]["message"]
    assert "cannot read" in errors["broken-link.txt"]["message"]
    assert "not a regular file" in errors["fifo.txt"]["message"]
    assert "malformed JSON" in errors["docs.jsonl:2"]["message"]
    assert errors["docs.jsonl:2"]["line"] == 2
    assert "'text' is missing" in errors["j3"]["message"]
    assert "duplicate id 'j1'" in errors["docs.jsonl:4"]["message"]
    assert m["docs.jsonl:4"]["duplicate_of"] == "j1"
    assert "expected a JSON object" in errors["docs.jsonl:5"]["message"]
    assert "not a string" in errors["j6"]["message"]
    assert "not valid UTF-8" in errors["docs.jsonl:9"]["message"]
    assert set(errors) == {k for k, v in status.items() if v == "error"}
    assert totals.errors == len(errors) == 10 and totals.ok == 2 and totals.skipped == 3
    assert {r["doc_id"] for r in run_records(out)} == {"good.txt", "j1"}


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads chmod 000 files; broken links and FIFOs cover it")
def test_unreadable_file_chmod_000(fixture_model, tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    (root / "ok.txt").write_text("Acme is in Paris.", encoding="utf-8")
    secret = root / "secret.txt"
    secret.write_text("Acme is in Oslo.", encoding="utf-8")
    secret.chmod(0)
    try:
        out = tmp_path / "run"
        ExtractionRun([root], fixture_model, out, progress=False).run()
        m = manifest(out)
        assert m["secret.txt"]["status"] == "error" and "cannot read" in m["secret.txt"]["error"]
        assert m["ok.txt"]["status"] == "ok"
    finally:
        secret.chmod(0o644)


def test_truncated_gzip_keeps_the_lines_before(fixture_model, tmp_path):
    full = tmp_path / "full.jsonl.gz"
    rng = random.Random(3)
    with gzip.open(full, "wt", encoding="utf-8") as fh:
        for i in range(400):
            fh.write(json.dumps({"id": f"g{i}", "text": make_text(rng, 3)}) + "\n")
    data = full.read_bytes()
    cut = tmp_path / "in" / "cut.jsonl.gz"
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "run"
    totals = ExtractionRun([cut.parent], fixture_model, out, progress=False).run()
    m = manifest(out)
    ok = [k for k, v in m.items() if v["status"] == "ok"]
    bad = [v for v in m.values() if v["status"] == "error"]
    assert 0 < len(ok) < 400 and ok == [f"g{i}" for i in range(len(ok))]
    assert len(bad) == 1 and "truncated or corrupt" in bad[0]["error"]
    assert bad[0]["id"] == f"cut.jsonl.gz:{len(ok) + 1}"
    assert totals.errors == 1


def test_long_document_split_offsets_point_into_the_original(fixture_model, tmp_path):
    rng = random.Random(5)
    text = " ".join(make_text(rng, 1) for _ in range(300))  # one line, no paragraphs
    doc = tmp_path / "in" / "long.txt"
    doc.parent.mkdir()
    doc.write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    ExtractionRun([doc.parent], fixture_model, out, max_length=2000, progress=False).run()
    line = manifest(out)["long.txt"]
    assert line["status"] == "ok" and line["pieces"] >= len(text) // 2000
    recs = run_records(out)
    assert len(recs) == line["relations"] > 0
    for r in recs:
        for side in ("head", "tail"):
            assert text[r[side]["start_char"]:r[side]["end_char"]] == r[side]["text"]
        assert text[r["sent_start_char"]:r["sent_end_char"]] == r["sentence"]
    assert max(r["head"]["start_char"] for r in recs) > len(text) - 2000


@pytest.mark.slow
def test_markdown_markup_reads_as_plain_text(fixture_model, tmp_path):
    """A name inside a Markdown link or in bold is found, at its offsets in the file as
    written: the links' markup and addresses and the emphasis delimiters are read as spaces
    (spaCy's tokenizer glues "Acme](https://" into one token, so a plain read finds no
    "Acme"); list markers, code, escapes and asterisks that are not emphasis stay text."""
    from kgx.batch.inputs import INPUT_FORMATS, MarkdownInput, TextInput, format_of
    from kgx.batch.markdown import mask_markup

    text = ("Maria Lopez works for [Acme](https://acme.example/about_(us) \"home page\") in "
            "[Paris][p].\n\n![John Smith](john.png) lives in [Berlin][].\n\n"
            "[p]: https://en.wikipedia.org/wiki/Paris\n[berlin]: <https://berlin.de>\n\n"
            "* **Ana Diaz** joined ***Nordwind*** in _Oslo_, [**Lyon**](l) ~~too~~.\n"
            "* 2 * 3 is snake_case_six \\*not\\* a**b**c.\n\n"
            "Code stays: `[Oslo](x) **y**`, and so does\n```\n[Lyon](y)\n```\n"
            "[not a link] here.\n")
    masked = mask_markup(text)
    assert len(masked) == len(text)
    assert masked.split() == [
        "Maria", "Lopez", "works", "for", "Acme", "in", "Paris", ".", "John", "Smith", "lives",
        "in", "Berlin", ".", "*", "Ana", "Diaz", "joined", "Nordwind", "in", "Oslo", ",",
        "Lyon", "too", ".", "*", "2", "*", "3", "is", "snake_case_six", "\\*not\\*", "a**b**c.",
        "Code", "stays:", "`[Oslo](x)", "**y**`,", "and", "so", "does", "```", "[Lyon](y)",
        "```", "[not", "a", "link]", "here."]
    assert all(masked[i] == ch for i, ch in enumerate(text) if not masked[i].isspace())
    assert masked.count("\n") == text.count("\n")
    assert mask_markup("No links [here] or (there).") == "No links [here] or (there)."
    bare = "see https://a.org/_foo_bar_ or www.b.org/*x*y* now"  # autolinked, not emphasis
    assert mask_markup(bare) == bare
    # front matter opening the file is settings, not text; a later "---" is a thematic break
    page = "---\ntitle: Globex buys Initech\n---\nGlobex bought it.\n\n---\n\nThe end.\n"
    assert mask_markup(page) == "   \n" + " " * 26 + "\n   \n" + page[page.index("Globex bought"):]
    assert mask_markup("+++\ntitle = 'x'\n+++\nBody") == "   \n" + " " * 11 + "\n   \nBody"
    opening_rule = "---\nGlobex bought Initech.\n---\n"  # a thematic break, then a heading
    assert mask_markup(opening_rule) == opening_rule
    # raw HTML: tags and comments (a comment's line breaks kept), not "x < 3" or an autolink
    html = 'A <b>Globex</b> <a href="u?a=1&b=2">deal</a><br/>on<!-- a\nnote -->Monday'
    assert mask_markup(html).split() == ["A", "Globex", "deal", "on", "Monday"]
    assert mask_markup(html).count("\n") == 1
    assert mask_markup("x < 3 and y > 2, <https://auto.link>") == \
        "x < 3 and y > 2, <https://auto.link>"

    root = tmp_path / "in"
    root.mkdir()
    (root / "page.md").write_text(text, encoding="utf-8")
    (root / "page.txt").write_text(text, encoding="utf-8")
    assert INPUT_FORMATS["markdown"] is MarkdownInput
    assert format_of(root / "page.md") is format_of(root / "n.markdown.gz") is MarkdownInput
    assert format_of(root / "page.txt") is TextInput
    (entry,) = MarkdownInput.read(root / "page.md", root)
    assert entry.text == masked
    assert entry.sha256 == next(TextInput.read(root / "page.txt", root)).sha256  # as written
    out = tmp_path / "run"
    ExtractionRun([root], fixture_model, out, progress=False).run()
    records = run_records(out)
    names: dict[str, set[str]] = {"page.md": set(), "page.txt": set()}
    for r in records:
        names[r["doc_id"]] |= {r["head"]["text"], r["tail"]["text"]}
    assert {"Maria Lopez", "Acme", "Paris", "Ana Diaz", "Nordwind", "Oslo"} <= names["page.md"]
    assert "Acme" not in names["page.txt"]  # the plain read: "Acme](https://..."
    for r in records:
        for end in ("head", "tail"):
            span = r[end]
            assert text[span["start_char"]:span["end_char"]] == span["text"]


def test_html_text_is_what_a_browser_shows():
    """Tags, scripts and styles out, references decoded, spaces collapsed, every block its own
    paragraph (a blank line: kgx_layout_boundaries starts a sentence there)."""
    from kgx.batch.html import html_text

    page = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Globex &amp; Co</title>'
            '<style>p { color: red }</style><script>var s = "<p>Oslo</p>";</script></head>\n'
            '<body><nav><a href="/">Home</a></nav><h1>News</h1>\n<p>Maria   Lopez works for\n'
            '<a href="https://acme.example">Acme</a> in <b>Paris</b>. She joined AT&amp;T&nbsp;in'
            ' 2001</p><p>Lopez&#8217;s brother<br>lives here.</p><!-- <p>not text</p> -->'
            '<ul><li>one</li><li>two <em>items</em></li></ul><table><tr><td>a</td><td>b</td>'
            '</tr></table><pre>  x = 1\n  y</pre><p>Last')
    assert html_text(page) == (
        "Globex & Co\n\nHome\n\nNews\n\nMaria Lopez works for Acme in Paris. She joined AT&T "
        "in 2001\n\nLopez\u2019s brother\nlives here.\n\none\n\ntwo items\n\na\n\nb\n\n"
        "  x = 1\n  y\n\nLast")
    # broken markup is read as browsers read it, without an error
    assert html_text("<p>Acme <b>in <i>Paris</p><div>Oslo") == "Acme in Paris\n\nOslo"
    assert html_text("<p>x < 3 &amp;&amp; y &gt; 2 &bogus;</p>") == "x < 3 && y > 2 &bogus;"
    assert html_text("<html><script>only()</script></html>") == ""
    assert html_text("plain text, no tags") == "plain text, no tags"
    assert html_text("<p>Glo&shy;bex in Osa&#8203;ka</p>") == "Globex in Osaka"
    # what the page says of itself: <title> first, then Open Graph / Dublin Core / citation tags
    from kgx.batch.html import html_document

    head = ('<html lang="en-GB"><head><title> Globex\n buys  Initech </title>'
            '<meta property="og:title" content="Not this one"><meta name="author" '
            'content="Maria Lopez"><meta property="article:published_time" '
            'content="2026-11-02T10:00:00Z"><link rel="canonical" href="https://news.example/a">'
            '<meta name="description" content="ignored"></head><body><p>Text.</p></body></html>')
    assert html_document(head) == ("Globex buys Initech\n\nText.", {
        "language": "en-GB", "title": "Globex buys Initech", "author": "Maria Lopez",
        "date": "2026-11-02T10:00:00Z", "url": "https://news.example/a"})
    assert html_document('<meta property="og:title" content="OG"><p>x')[1] == {"title": "OG"}


def test_html_pages_in_the_charset_they_declare(tmp_path):
    """UTF-8 first; else the charset the page's <meta> declares (browsers read "iso-8859-1" as
    windows-1252); undeclared or undecodable bytes are an error entry naming the file."""
    from kgx.batch.html import HtmlInput

    body = "<p>Caf\u00e9 M\u00fcller\u2019s</p>"
    pages = {
        "utf8.html": ('<meta charset="windows-1252">' + body).encode("utf-8"),
        "meta.html": ('<meta charset="windows-1252">' + body).encode("cp1252"),
        "latin.htm": ('<META http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
                      + body).encode("cp1252"),
        "none.html": body.encode("cp1252"),
        "bogus.html": ('<meta charset="no-such-charset">' + body).encode("cp1252"),
        "wrong.html": ('<meta charset="ascii">' + body).encode("cp1252") + b"\x81",
    }
    for name, data in pages.items():
        (tmp_path / name).write_bytes(data)
    read = {name: next(HtmlInput.read(tmp_path / name, tmp_path)) for name in pages}
    for name in ("utf8.html", "meta.html", "latin.htm"):
        assert read[name].status == "ok" and read[name].text == "Caf\u00e9 M\u00fcller\u2019s"
    assert read["none.html"].status == "error"
    assert "not valid UTF-8 (byte 0xe9 at offset 6)" in read["none.html"].error
    assert read["bogus.html"].error.endswith("the charset it declares (no-such-charset) is unknown")
    assert "neither UTF-8 nor the windows-1252 it declares (byte 0x81" in read["wrong.html"].error
    assert all(str(tmp_path / name) in read[name].error
               for name in ("none.html", "bogus.html", "wrong.html"))


def test_web_archives_are_read_as_their_page(tmp_path):
    """A browser's or Word's "single file web page" (.mht, .mhtml): a MIME message whose
    first text/html part is the page, in that part's charset (else the page's own
    declaration), its images other parts; read as that .html file is."""
    from email.message import EmailMessage

    from kgx.batch.html import HtmlInput, MhtmlInput
    from kgx.batch.reading import read_inputs

    page = ("<html><head><title>Q3</title></head><body><h1>Report</h1><p>Caf\u00e9 M\u00fcller "
            "works for Globex in Osaka.</p></body></html>")
    archive = EmailMessage()
    archive["Subject"] = "Q3"
    archive.set_content(page, subtype="html", charset="windows-1252", cte="quoted-printable")
    archive.add_related(b"\x89PNG", maintype="image", subtype="png", cid="<logo>")
    (tmp_path / "q3.mht").write_bytes(bytes(archive))
    (tmp_path / "q3.html").write_text(page, encoding="utf-8")
    (tmp_path / "empty.mhtml").write_bytes(b"MIME-Version: 1.0\r\nContent-Type: text/plain"
                                           b"\r\n\r\nno page\r\n")
    [mht] = MhtmlInput.read(tmp_path / "q3.mht", tmp_path)
    [html] = HtmlInput.read(tmp_path / "q3.html", tmp_path)
    assert (mht.text, mht.meta) == (html.text, html.meta) and "Caf\u00e9 M\u00fcller" in mht.text
    [empty] = read_inputs([tmp_path / "empty.mhtml"])
    assert empty.error == f"{tmp_path / 'empty.mhtml'}: a web archive (MHTML) without an HTML part"


@pytest.mark.slow
def test_html_pages_are_read_as_their_text(fixture_model, tmp_path):
    """A name in a link or in bold is found in an .html page, at its offsets in the page's
    text (``read_document``); the same markup read as .txt glues "Acme</a" into one token. A
    page with no text is skipped, not an error."""
    from kgx.batch.html import HtmlInput
    from kgx.batch.inputs import INPUT_FORMATS, format_of, read_document

    page = ('<html><head><title>Report</title></head><body><p>Maria Lopez works for '
            '<a href="https://acme.example/about">Acme</a> in <b>Paris</b>.</p>\n'
            '<p>Ana&nbsp;Diaz joined <i>Nordwind</i> in Oslo.</p></body></html>')
    root = tmp_path / "in"
    root.mkdir()
    (root / "page.html").write_text(page, encoding="utf-8")
    (root / "page.txt").write_text(page, encoding="utf-8")
    (root / "empty.htm").write_text("<html><body><script>x()</script></body></html>",
                                    encoding="utf-8")
    assert INPUT_FORMATS["html"] is HtmlInput
    assert format_of(root / "page.html") is format_of(root / "x.xhtml.gz") is HtmlInput
    text = read_document(root / "page.html")
    assert text == ("Report\n\nMaria Lopez works for Acme in Paris.\n\n"
                    "Ana Diaz joined Nordwind in Oslo.")
    out = tmp_path / "run"
    ExtractionRun([root], fixture_model, out, progress=False).run()
    manifest = {m["id"]: m for m in read_manifest(out)}
    assert manifest["empty.htm"]["status"] == "skipped"
    names: dict[str, set[str]] = {"page.html": set(), "page.txt": set()}
    for r in run_records(out):
        names[r["doc_id"]] |= {r["head"]["text"], r["tail"]["text"]}
        if r["doc_id"] == "page.html":
            for end in ("head", "tail"):
                assert text[r[end]["start_char"]:r[end]["end_char"]] == r[end]["text"]
            assert text[r["sent_start_char"]:r["sent_end_char"]] == r["sentence"]
    assert {"Maria Lopez", "Acme", "Paris", "Ana Diaz", "Nordwind", "Oslo"} <= names["page.html"]
    assert "Acme" not in names["page.txt"]


def test_pdf_pages_lose_their_furniture_and_keep_their_sentences(tmp_path):
    """Running headers and page numbers (recurring at a page's edge, or a number alone) become
    spaces; a page break inside a sentence becomes a line break (a word broken there by a
    hyphen is joined as at any line end); a break after a sentence end stays; the text keeps
    its length. The text and JSONL readers apply it."""
    from kgx.batch.pages import mask_page_furniture
    from kgx.batch.reading import read_inputs
    from kgx.text import line_end_hyphens

    pages = ["Globex Review 2026\n\nWei Chen works for Globex in\nOsaka. The firm grew and"
             "\n\n- 1 -\n",
             "GLOBEX REVIEW  2026\n\nits chief, Ana Diaz, lives in Glo-\n\nPage 2 of 4\n",
             "Globex Review 2026\nbex City. Sales fell.\n\niii\n",
             "Globex Review 2026\n\nA new part starts here.\n\n4\n"]
    text = "\f".join(pages) + "\f"
    masked = mask_page_furniture(text)
    assert len(masked) == len(text)
    assert " ".join(masked.split()) == ("Wei Chen works for Globex in Osaka. The firm grew and its "
                                        "chief, Ana Diaz, lives in Glo- bex City. Sales fell. A "
                                        "new part starts here.")
    assert masked.count("\f") == 2  # after "Sales fell." and at the end
    assert "grew and\n " in masked and "\f" not in masked[:masked.index("Sales")]
    assert [masked[a - 3:b + 3] for a, b in line_end_hyphens(masked)] == [
        masked[masked.index("Glo-"):masked.index("bex City") + 3]]
    assert mask_page_furniture("No pages here.\n\n12\n") == "No pages here.\n\n12\n"
    # a line at a page's top that does not recur is text
    two = "Chapter one begins.\n\f The second page.\n\f"
    assert mask_page_furniture(two) == two
    # a running head that changes with the chapter: on neighbouring pages only
    words = ["Acme", "Globex", "Initech", "Hooli", "Nordwind", "Umbrella", "Vandelay", "Soylent"]
    book = "".join(f"Chapter {c}: {name}\n\n{w} grew.\n\f" for w, (c, name) in zip(
        words, [(1, "Start")] * 3 + [(2, "Middle")] * 2 + [(3, "End")] * 3, strict=True))
    assert mask_page_furniture(book).split() == [w for word in words for w in (word, "grew.")]
    lone = "\f".join(["Chapter 1: Start\n\nOne."] + [f"{w} grew." for w in words[:4]]
                     + ["Chapter 1: Start\n\nSix."])
    assert mask_page_furniture(lone) == lone  # recurring, but on no neighbouring page
    (tmp_path / "doc.txt").write_text(text, encoding="utf-8")
    (tmp_path / "docs.jsonl").write_text(json.dumps({"id": "j", "text": text}) + "\n",
                                         encoding="utf-8")
    entries = list(read_inputs([tmp_path]))
    assert [e.text for e in entries] == [masked, masked]
    assert entries[0].sha256 == entries[1].sha256  # the text as written


def test_word_documents_read_as_word_shows_them(tmp_path, monkeypatch):
    """Runs joined as they are (inside words too), tracked insertions kept and deletions and
    field codes left out, tabs and breaks kept, each paragraph and table cell a paragraph, a
    text box's paragraph its own; core properties as metadata; clear errors otherwise."""
    from helpers import load_benchmark
    from kgx.batch import limits, office
    from kgx.batch.inputs import INPUT_FORMATS, format_of
    from kgx.batch.office import OfficeError, docx_text
    from kgx.batch.reading import read_inputs

    w = load_benchmark("eval_docx")  # its minimal .docx writer
    paragraphs = [
        w.run("Report"),
        w.run("Wei Chen works for Glo") + w.run("bex") + '<w:ins w:id="1" w:author="a">'
        + w.run(" in Osaka") + "</w:ins>" + '<w:del w:id="2" w:author="a"><w:r><w:delText>'
        " and Kyoto</w:delText></w:r></w:del>" + w.run("."),
        w.run("Ana Diaz") + "<w:r><w:tab/></w:r>" + w.run("Nordwind") + "<w:r><w:br/></w:r>"
        + '<w:r><w:instrText> PAGE </w:instrText></w:r>' + w.run("Oslo &amp; more")
        + '<w:r><w:rPr><w:vanish/></w:rPr><w:t>hidden</w:t></w:r>'
        + '<w:r><w:rPr><w:vanish w:val="0"/></w:rPr><w:t>!</w:t></w:r>'
        + '<w:r><w:pict><w:txbxContent><w:p>' + w.run("A text box.") + "</w:p></w:txbxContent>"
        "</w:pict></w:r>",
        "",
    ]
    data = w.docx_bytes(paragraphs, "Quarterly <report>", ("cell one", "cell two"))
    text, meta = docx_text(data)
    assert text == ("Report\n\nWei Chen works for Globex in Osaka.\n\nA text box.\n\n"
                    "Ana Diaz\tNordwind\nOslo &amp; more!\n\ncell one\n\ncell two")
    assert meta == {"title": "Quarterly <report>", "author": "Maria Lopez"}
    assert INPUT_FORMATS["docx"].name == "docx" and format_of(tmp_path / "a.docx") is not None
    (tmp_path / "report.docx").write_bytes(data)
    (tmp_path / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0 an OLE file")
    bare = io.BytesIO()
    with zipfile.ZipFile(bare, "w") as archive:
        archive.writestr("content.xml", "<x/>")
    (tmp_path / "odt.docx").write_bytes(bare.getvalue())
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("word/document.xml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    (tmp_path / "bomb.docx").write_bytes(bad.getvalue())
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("word/document.xml", "<w:document")
    (tmp_path / "broken.docx").write_bytes(broken.getvalue())
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["report.docx"].text == text and entries["report.docx"].meta == meta
    assert "not a zip file, so not a .docx" in entries["old.docx"].error
    assert entries["odt.docx"].error.endswith("no word/document.xml inside: not a Word document")
    assert entries["bomb.docx"].error.endswith("word/document.xml declares XML entities: refused")
    assert "word/document.xml is not well-formed XML" in entries["broken.docx"].error
    assert all(str(tmp_path) in e.error for name, e in entries.items() if name != "report.docx")
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(OfficeError, match="word/document.xml holds over 100 bytes unpacked"):
        docx_text(data)
    # a damaged entry is an error naming it; a reader's library failing on odd input fails
    # that file only, and the files after it are read
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 256 * 1024 * 1024)
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", f'<w:document xmlns:w="{w.W_NS}"><w:body><w:p>'
                         + w.run("Globex") + "</w:p></w:body></w:document>")
    damaged = stored.getvalue().replace(b"Globex", b"Glebex")  # the CRC no longer matches
    with pytest.raises(OfficeError, match="word/document.xml cannot be unpacked"):
        docx_text(damaged)

    def broken_reader(data):
        raise IndexError("a bug in a parser")

    monkeypatch.setattr(office, "docx_text", broken_reader)
    (tmp_path / "z.txt").write_text("after it", encoding="utf-8")
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["report.docx"].error.endswith(
        "report.docx: cannot read it as docx: IndexError('a bug in a parser')")
    assert entries["z.txt"].text == "after it"


def test_opendocument_text_read_as_shown(tmp_path):
    """.odt: spans joined as they are, <text:s c="2"/> two spaces, tabs and line breaks kept,
    tracked deletions, comments and hidden text (a span in a hidden style) left out, footnotes
    after the body,
    headings and table cells paragraphs of their own; its meta.xml as metadata; a zip without
    content.xml an error entry."""
    from helpers import load_benchmark
    from kgx.batch.inputs import INPUT_FORMATS
    from kgx.batch.office import OdtInput, odt_text
    from kgx.batch.reading import read_inputs

    w = load_benchmark("eval_docx")
    paragraphs = [
        "Wei Chen works for <text:span>Glo</text:span>bex in<text:s text:c=\"2\"/>Osaka."
        "<text:note><text:note-citation>1</text:note-citation><text:note-body><text:p>A note."
        "</text:p></text:note-body></text:note> He<text:tab/>left.<text:line-break/>Next "
        "<text:a>Acme</text:a><office:annotation><text:p>a comment</text:p></office:annotation>"
        '<text:span text:style-name="T1"> hidden</text:span><text:span text:style-name="T2">'
        ".</text:span>",
    ]
    hidden = ('<style:style style:name="T1" style:family="text"><style:text-properties '
              'text:display="none"/></style:style><style:style style:name="T2" '
              'style:family="text"><style:text-properties fo:font-size="12pt"/></style:style>')
    data = w.odt_bytes(paragraphs, "Quarterly", ("cell one",), deleted="and Kyoto",
                       styles=hidden)
    text, meta = odt_text(data)
    assert text == ("Wei Chen works for Globex in  Osaka. He\tleft.\nNext Acme.\n\ncell one"
                    "\n\nA note.")
    assert meta == {"title": "Quarterly", "author": "Maria Lopez"}
    assert INPUT_FORMATS["odt"] is OdtInput
    (tmp_path / "a.odt").write_bytes(data)
    (tmp_path / "b.odt").write_bytes(w.docx_bytes(["<w:r><w:t>x</w:t></w:r>"]))
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["a.odt"].text == text and entries["a.odt"].meta == meta
    assert entries["b.odt"].error.endswith("b.odt: no content.xml inside: not an OpenDocument "
                                           "file")


def test_pdf_files_read_in_reading_order(tmp_path, monkeypatch):
    """A PDF: its text boxes column by column (a two-column page as LaTeX sets it: justified,
    hyphenated, no space characters), each paragraph a paragraph, a running header and page
    numbers blanked, its Info dictionary as metadata; clear errors otherwise, and the files
    after a bad one are read."""
    pytest.importorskip("pdfminer")
    import pdfminer.pdfdocument

    from helpers import load_benchmark
    from kgx.batch.inputs import INPUT_FORMATS
    from kgx.batch.pdf import PdfInput, pdf_text
    from kgx.batch.pdfmeta import pdf_date
    from kgx.batch.reading import read_inputs

    w = load_benchmark("eval_pdf")  # its PDF typesetter
    people = ["Wei Chen", "Ana Diaz", "John Smith", "Maria Lopez", "Ivan Petrov"]
    firms = ["Globex", "Nordwind", "Initech", "Acme", "Umbrella", "Hooli", "Vandelay"]
    cities = ["Osaka", "Oslo", "Paris", "Berlin", "Lima", "Quito", "Perth", "Dakar", "Riga"]
    records = [f"{people[n % 5]} of {firms[n % 7]} met the board of {firms[(n + 3) % 7]} in "
               f"{cities[n % 9]} on day {n}, and the {'two' if n % 2 else 'three'} companies "
               f"signed an agreement there{' after a long night' * (n % 3)}." for n in range(40)]
    pages = w.typeset(7, records, 2, True)
    assert len(pages) >= 2 and any(x > 300 for x, *_ in pages[0][2:])  # two columns, pages
    data = w.pdf_bytes(pages, {"Title": "Caf\xe9 review", "Author": "Maria Lopez",
                               "CreationDate": "D:20261102093000+01'00'"})
    text, meta = pdf_text(data)
    assert meta == {"title": "Caf\xe9 review", "author": "Maria Lopez",
                    "created": "2026-11-02T09:30:00+01:00"}
    assert pdf_text(w.pdf_bytes(pages, form=True))[0] == text  # drawn by form XObjects
    assert text.count("\f") == len(pages) and "Example Quarterly Review 7" in text
    read = PdfInput.text_of(text)
    assert len(read) == len(text) and "Example Quarterly" not in read  # masked, not cut
    assert w.in_order(read, records) == len(records)
    assert not any(line.strip().isdigit() for line in read.splitlines())  # page numbers
    # a footnote at each page's foot, in smaller type: after the last page, so a sentence
    # that runs over a page is still read whole
    noted, _ = pdf_text(w.pdf_bytes(w.typeset(7, records, 2, True, notes=True)))
    body, notes = noted.rsplit("\f", 2)[0], noted.rsplit("\f", 2)[1]
    assert body.replace("\n", "") == text.rsplit("\f", 1)[0].replace("\n", "")
    assert notes.strip() == "\n\n".join(f"{n} {w.NOTES[(7 + n) % len(w.NOTES)]}"
                                         for n in range(1, len(pages) + 1))
    assert w.in_order(PdfInput.text_of(noted), records) == len(records)
    assert INPUT_FORMATS["pdf"] is PdfInput
    (tmp_path / "a.pdf").write_bytes(data)
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    (tmp_path / "c.pdf").write_bytes(data[: len(data) // 2])
    (tmp_path / "d.pdf").write_bytes(w.pdf_bytes([[]]))
    (tmp_path / "e.pdf").write_text("plain text named .pdf", encoding="utf-8")
    (tmp_path / "z.txt").write_text("after them", encoding="utf-8")
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["a.pdf"].text == read and entries["a.pdf"].meta == meta
    assert entries["b.pdf"].error.endswith("damaged or not a PDF (PDFSyntaxError: No /Root "
                                           "object! - Is this really a PDF?)")
    assert "c.pdf: damaged or not a PDF" in entries["c.pdf"].error
    assert entries["d.pdf"].error.endswith("d.pdf: no text on its 1 page(s) (a scan? its text "
                                           "needs OCR first)")
    assert entries["e.pdf"].error.endswith("e.pdf: no %PDF- header: not a PDF file")
    assert entries["z.txt"].text == "after them"

    def locked(self, parser, password="", **kwargs):
        raise pdfminer.pdfdocument.PDFPasswordIncorrect

    monkeypatch.setattr(pdfminer.pdfdocument.PDFDocument, "__init__", locked)
    assert PdfInput.document(data, "a.pdf")[2] == "a.pdf: encrypted with a password: not read"
    monkeypatch.setitem(sys.modules, "pdfminer.layout", None)  # kgx without the extra
    assert PdfInput.document(data, "a.pdf")[2] == (
        "a.pdf: reading PDF files needs pdfminer.six: pip install 'kgx[pdf]'")
    assert pdf_date("D:2026") == "2026" and pdf_date("D:20261102") == "2026-11-02"
    assert pdf_date("D:20261102093000Z") == "2026-11-02T09:30:00Z"
    assert pdf_date("D:20261102093000Z'") == pdf_date("D:20261102093000Z00'00'") == (
        "2026-11-02T09:30:00Z")  # LibreOffice's and Acrobat's ways of writing UTC
    assert pdf_date("20261102093000-05'30") == "2026-11-02T09:30:00-05:30"
    assert pdf_date("2 Nov 2026") == "2 Nov 2026"


def test_pdf_footnotes_are_the_small_type_under_a_pages_text():
    """Boxes in type at most 0.85 of the body's size under all of a page's body text are its
    footnotes; a caption above text, a page number, a small footer on every page, a page all
    in small type and an index in small type under its heading stay where they are. A raised
    mark naming a note of its page is taken out of its sentence; other raised digits stay."""
    pytest.importorskip("pdfminer")
    from helpers import load_benchmark
    from kgx.batch.pdf import footnotes, note_label, pdf_text, unmarked

    def body(y: float, text: str) -> tuple:
        return (72.0, y, 540.0, y + 40, text), 10.0

    def small(y: float, text: str) -> tuple:
        return (72.0, y, 540.0, y + 8, text), 8.0

    text = "Maria Lopez joined Acme in Paris last spring, the company said,\nand she "
    page1 = [body(700, "Acme Review"), body(300, text * 3), small(250, "Figure 1: a caption."),
             body(100, text * 2), small(60, "1 A note."), body(40, "1"),
             small(30, "Confidential")]
    page2 = [body(700, "Acme Review"), body(300, text * 4), small(60, "2 Another note."),
             body(40, "2"), small(30, "Confidential")]
    page3 = [small(300, "References\nin small type"), small(60, "3 Not under body text.")]
    page4 = [body(700, "Index"), small(100, "Acme, 3\nGlobex, 4, 7\nOsaka, 2\n" * 4)]
    texts, notes = footnotes([page1, page2, page3, page4])
    assert [[box[4] for box in page] for page in notes] == [
        ["1 A note."], ["2 Another note."], [], []]
    assert texts == [[box for box, _ in page1 if box[4] != "1 A note."],
                     [box for box, _ in page2 if box[4] != "2 Another note."],
                     [box for box, _ in page3], [box for box, _ in page4]]
    # a note's mark (raised, smaller) goes where the page has that note; an exponent stays
    assert unmarked("Globex\x001\x01 in Osaka.\x0012\x01", {"1"}) == "Globex in Osaka.12"
    labels = [note_label(t) for t in ("12 Ibid.", "\u2020 Died 1990.", "Note.")]
    assert labels == ["12", "\u2020", ""]
    w = load_benchmark("eval_pdf")
    said = "Wei Chen works for Globex in Osaka."
    lines = [(72.0, 700.0, said.split(), -1.0), (72 + w.width(said), 704.0, ["1"], -1.0, 6.6),
             (72.0, 686.0, "It has a staff of 10".split(), -1.0),
             (72 + w.width("It has a staff of 10"), 690.0, ["3"], -1.0, 6.6),
             (72.0, 672.0, ["people."], -1.0)]
    note = (72.0, 60.0, "1 A note on Osaka.".split(), -1.0, 8.8)
    assert pdf_text(w.pdf_bytes([[*lines, note]]))[0] == (
        f"{said}\nIt has a staff of 103\npeople.\n\f1 A note on Osaka.\n\f")
    assert pdf_text(w.pdf_bytes([lines]))[0].startswith(f"{said}1\n")  # no note: a digit


def test_pdf_page_layout_read_as_a_reader_would():
    """Reading order over boxes (x0, y0, x1, y1, text): columns left to right, a header over
    one column first, a caption across the columns between the bands, a page number in the
    gutter last, a last page's short right column after the whole left one; a sentence that
    runs on into the next column joined by a line break; a justified line pdfminer parted in
    two read left to right; too many glyphs without Unicode an error."""
    from types import SimpleNamespace

    from kgx.batch.pdf import (
        PdfError,
        box_text,
        checked_text,
        merged,
        page_text,
        reading_order,
    )

    def box(x0, y0, x1, y1, text):
        return (float(x0), float(y0), float(x1), float(y1), text)

    page = [box(72, 750, 200, 760, "header"), box(318, 600, 540, 700, "r1"),
            box(72, 640, 294.0001, 700, "l1"), box(72, 520, 293.9999, 630, "l2"),
            box(318, 520, 540, 590, "r2"), box(72, 470, 540, 500, "caption"),
            box(318, 380, 540, 450, "r3"), box(72, 300, 294, 450, "l3"),
            box(72, 200, 294, 290, "l4"), box(303, 38, 309, 49, "7")]
    assert [b[4] for b in reading_order(page)] == [
        "header", "l1", "l2", "r1", "r2", "caption", "l3", "l4", "r3", "7"]
    assert reading_order(page[:1]) == page[:1] and reading_order([]) == []
    ran = [box(72, 100, 294, 200, "Wei Chen of Glo-"), box(318, 600, 540, 700, "bex went."),
           box(318, 500, 540, 590, "Introduction"), box(318, 400, 540, 490, "Text"),
           box(318, 300, 540, 390, "goes on."), box(318, 200, 540, 290, "done")]
    assert page_text(ran) == ("Wei Chen of Glo-\nbex went.\n\nIntroduction\n\nText\ngoes on."
                              "\n\ndone")

    class line(SimpleNamespace):  # a pdfminer text line, its characters not looked at
        def __init__(self, x0, y0, text):
            super().__init__(x0=x0, y0=y0, y1=y0 + 10, x1=x0 + 5 * len(text),
                             get_text=lambda: text + "\n")

        def __iter__(self):
            return iter(())

    parted = [line(72, 100, "aboard in 1986, at"), line(250, 100.2, "the invitation of"),
              line(72, 112, "Nelson, D-Fla., was"), line(72, 88, "NASA.")]
    assert box_text(parted) == "Nelson, D-Fla., was\naboard in 1986, at the invitation of\nNASA."

    class TextBox(list):  # pdfminer's LTTextBox: its lines, and its bounds
        def __init__(self, *lines):
            super().__init__(lines)
            self.x0, self.x1 = min(n.x0 for n in lines), max(n.x1 for n in lines)
            self.y0, self.y1 = min(n.y0 for n in lines), max(n.y1 for n in lines)

    piece = line

    paragraph = TextBox(piece(72, 112, "Nelson, D-Fla., was"), piece(72, 100, "aboard in"),
                        piece(72, 88, "NASA."))  # 72..167 wide
    inside = TextBox(piece(130, 100, "inside"))  # a piece within the paragraph's bounds
    past = TextBox(piece(172, 112, "just past"))  # 5 pt after a line's end: a word space
    gutter = TextBox(piece(235, 112, "next column"))  # 18 pt after "just past": a gutter
    kept = merged(iter([paragraph, inside, past, gutter]))
    assert [box_text(lines) for _, lines in kept] == [
        "Nelson, D-Fla., was just past\naboard in inside\nNASA.", "next column"]
    assert kept[0][0] == (72, 88, 217, 122)
    assert checked_text(["one (cid:3) two"]) == "one \ufffd two\n\f"
    with pytest.raises(PdfError, match="3 of its 7 characters are glyphs its fonts give no"):
        checked_text(["(cid:1)(cid:2)(cid:3) abcd"])


from kgx.batch.mail import read_message  # noqa: E402

MAIL = (b"From: Maria Lopez <maria@acme.example>\nTo: team@acme.example\n"
        b"Subject: =?utf-8?q?Caf=C3=A9_in_Paris?=\nDate: Mon, 2 Nov 2026 10:00:00 +0100\n"
        b"Message-ID: <1@acme.example>\nMIME-Version: 1.0\n"
        b'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable'
        b"\n\nAna Diaz joined Nordwind in Oslo. She met the Caf=C3=A9 M=C3=BC=\nller team.\n\n"
        b"On Sunday, John Smith wrote:\n> Maria Lopez works for Acme in\n> Paris.\n"
        b">> Older text.\n\n--=20\nMaria\n")


def test_mail_messages_read_as_a_mail_client_shows_them():
    """Subject, then the body decoded (quoted-printable, the declared charset), reply quote
    markers off and each quoted block a paragraph; HTML-only mail read as its text; headers as
    metadata; a wrong or unknown charset is an error naming the part."""
    from kgx.batch.mail import MailError

    text, meta = read_message(MAIL)
    assert text == ("Caf\u00e9 in Paris\n\nAna Diaz joined Nordwind in Oslo. She met the "
                    "Caf\u00e9 M\u00fcller team.\n\nOn Sunday, John Smith wrote:\n\nMaria Lopez "
                    "works for Acme in\nParis.\n\nOlder text.\n\n-- \nMaria")
    assert meta == {"subject": "Caf\u00e9 in Paris", "from": "Maria Lopez <maria@acme.example>",
                    "to": "team@acme.example", "date": "Mon, 02 Nov 2026 10:00:00 +0100",
                    "message-id": "<1@acme.example>"}
    html_only = (b"Subject: News\nMIME-Version: 1.0\nContent-Type: multipart/alternative; "
                 b'boundary="b"\n\n--b\nContent-Type: text/html; charset="windows-1252"\n\n'
                 b"<p>Ana Diaz joined <b>Nordwind</b> in M\xfcnster.</p><p>Bye</p>\n--b--\n")
    assert read_message(html_only)[0] == "News\n\nAna Diaz joined Nordwind in M\u00fcnster.\n\nBye"
    with pytest.raises(MailError, match=r"charset \(x-nothing\) is unknown"):
        read_message(b"Content-Type: text/plain; charset=x-nothing\n\nhello\n")
    with pytest.raises(MailError, match="not valid utf-8 \\(byte 0xe9"):
        read_message(b"Content-Type: text/plain; charset=utf-8\n\ncaf\xe9\n")


def test_quoted_header_lines_are_read_as_the_quoted_messages_headers():
    """A reply's or a forward's header lines in the body (Outlook's "-----Original
    Message-----", Gmail's forward, Lotus Notes' "Forwarded by" with its sender line, a German
    Outlook's, quoted with "> "): the quoted subject a paragraph, the other fields and the
    separator left out; a wrapped field's indented line goes with it; one field line alone is
    prose, and a line with a time but no separator above stays."""
    from kgx.batch.mail import fields_apart

    outlook = ("Sounds good.\n\nJohn\n\n -----Original Message-----\nFrom: \tLopez, Maria\n"
               "Sent:\tMonday, May 14, 2001 4:39 PM\nTo:\tSmith, John;\n Diaz, Ana\n"
               "Subject:\tTrip to Oslo\n\nWei Chen works for Globex.")
    assert fields_apart(outlook) == ("Sounds good.\n\nJohn\n\nTrip to Oslo\n\n"
                                     "Wei Chen works for Globex.")
    forward = ("FYI\n---------- Forwarded message ---------\nFrom: Ana Diaz <ana@x.example>\n"
               "Date: Mon, 2 Nov 2026 at 10:00\nSubject: Visit\nTo: <team@x.example>\n"
               "Wei Chen works for Globex.")
    assert fields_apart(forward) == "FYI\n\nVisit\n\nWei Chen works for Globex."
    german = ("Danke.\n\nVon: Lopez, Maria\nGesendet: Montag\nAn: Smith, John\nBetreff: Reise\n"
              "\nText.")
    assert fields_apart(german) == "Danke.\n\nReise\n\nText."
    lotus = ("See below.\n\n---------------------- Forwarded by Phillip K Allen/HOU/ECT on "
             "10/16/2000 01:42 PM ---------------------------\n\n\n\"Buckner, Buck\" "
             "<buck@x.example> on 10/12/2000 01:12:21 PM\nTo: <pallen@enron.com>\ncc:  \n"
             "Subject: FW: gas prices\n\nMaria Lopez works for Acme.")  # the Enron corpus's
    assert fields_apart(lotus) == "See below.\n\nFW: gas prices\n\nMaria Lopez works for Acme."
    assert fields_apart("At 10:30 PM\n\nFrom: A\nTo: B\n\nText.") == "At 10:30 PM\n\nText."
    no_subject = "Hi.\n\nFrom: Maria\nTo: John\n\nText."
    assert fields_apart(no_subject) == "Hi.\n\nText."
    prose = "To: all staff\nThe office closes at noon.\nNote: bring keys."
    assert fields_apart(prose) == prose
    quoted = (b"Subject: RE: Trip\n\nSounds good.\n\n> From: Maria Lopez\n> Sent: Monday\n"
              b"> Subject: Trip\n>\n> Wei Chen works for Globex.\n")
    assert read_message(quoted)[0] == ("RE: Trip\n\nSounds good.\n\nTrip\n\nWei Chen works for "
                                       "Globex.")


@pytest.mark.slow
def test_every_input_format_reaches_the_graph_and_rdf(fixture_model, tmp_path):
    """One document of each format in one run, then the graph and N-Quads: every document is
    a provenance IRI (a Message-ID's "@" and "<>" included), its evidence's offsets point into
    the text its reader gives, the store-ready RDF parses, and what a document says of itself
    (a subject, a JSONL title) is its dcterms:title until it no longer says it."""
    import rdflib

    from helpers import load_benchmark
    from kgx.batch.inputs import read_document
    from kgx.graph import build_graph
    from kgx.rdf.exporter import export

    sentence = "Maria Lopez works for Acme in Paris."
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.txt").write_text(f"Weekly\n\n{sentence[:21]}\n\n1\n\fWeekly\n\n"
                                f"{sentence[22:]}\n\n2\n\f", encoding="utf-8")
    (root / "b.md").write_text(f"**{sentence}**", encoding="utf-8")
    (root / "c.html").write_text(f"<p>{sentence.replace('Acme', '<a href=x>Acme</a>')}",
                                 encoding="utf-8")
    (root / "d.eml").write_bytes(b"Subject: Hi\n\n" + sentence.encode() + b"\n")
    (root / "e.mbox").write_bytes(b"From a@b Mon Nov  2 10:00:00 2026\nMessage-ID: "
                                  b"<e+1/x@acme.example>\nSubject: Hi\n\n"
                                  + sentence.encode() + b"\n")
    (root / "f.docx").write_bytes(load_benchmark("eval_docx").docx_bytes(
        ['<w:r><w:t>Maria Lo</w:t></w:r><w:r><w:t xml:space="preserve">pez works for Acme in '
         "Paris.</w:t></w:r>"]))
    (root / "g.jsonl").write_text(json.dumps({"id": "g", "text": sentence, "title": "G report",
                                              "date": "2026-11-02"}) + "\n", encoding="utf-8")
    (root / "h.odt").write_bytes(load_benchmark("eval_docx").odt_bytes(
        ["Maria <text:span>Lo</text:span>pez works for Acme in Paris."]))
    w = load_benchmark("eval_pdf")
    (root / "i.pdf").write_bytes(w.pdf_bytes(w.typeset(1, [sentence], 2, True)))
    out = tmp_path / "run"
    ExtractionRun([root], fixture_model, out, progress=False).run()
    ids = ["a.txt", "b.md", "c.html", "d.eml", "e+1/x@acme.example", "f.docx", "g", "h.odt",
           "i.pdf"]
    manifest = {m["id"]: m for m in read_manifest(out)}
    assert sorted(manifest) == ids and all(manifest[i]["relations"] >= 2 for i in ids)
    texts = {i: read_document(root / i) for i in ids if (root / i).exists()}
    for r in run_records(out):
        if r["doc_id"] in texts:
            assert texts[r["doc_id"]][r["head"]["start_char"]:r["head"]["end_char"]] == \
                r["head"]["text"]
    result = build_graph([out], tmp_path / "graph.json")
    export(result.graph, tmp_path / "graph.nq")
    dataset = rdflib.Dataset()
    dataset.parse(tmp_path / "graph.nq", format="nquads")
    documents = {str(o) for _, p, o, _ in dataset.quads((None, None, None, None))
                 if str(p).endswith("documentId")}
    assert documents == set(ids)
    # what the documents say of themselves: the e-mail's subject, the JSONL line's fields
    titles = {str(s).rsplit("/", 1)[1]: str(o) for s, p, o, _ in dataset.quads(
        (None, rdflib.URIRef("http://purl.org/dc/terms/title"), None, None))}
    assert titles == {"d.eml": "Hi", "e%2B1%2Fx%40acme.example": "Hi", "g": "G report"}
    # extracted again without them, an update drops them
    (root / "g.jsonl").write_text(json.dumps({"id": "g", "text": sentence}) + "\n",
                                  encoding="utf-8")
    ExtractionRun([root], fixture_model, out, progress=False, overwrite=True).run()
    updated = build_graph([out], tmp_path / "graph.json", update=True).graph
    assert sorted(updated.graph["kgx_document_meta"]) == [
        "d.eml", "e+1/x@acme.example", "f.docx", "h.odt"]  # the office files: their author


def test_mailboxes_are_read_a_message_at_a_time(tmp_path):
    """An .mbox (gzipped too): each message a document, its id the Message-ID (else
    <file>:<n>), mboxrd's ">From " unescaped; a truncated file keeps the messages before the
    damage; a file that is no mailbox is one error entry."""
    from kgx.batch.mail import MboxInput
    from kgx.batch.reading import read_inputs

    box = (b"From maria@acme.example Mon Nov  2 10:00:00 2026\n" + MAIL + b"\n"
           b"From john@acme.example Mon Nov  2 11:00:00 2026\nSubject: Two\n\n"
           b"Wei Chen works for Globex.\n>From the archive.\n\n"
           b"From x@acme.example Mon Nov  2 12:00:00 2026\nSubject: Empty\n\n")
    (tmp_path / "box.mbox").write_bytes(box)
    entries = list(MboxInput.read(tmp_path / "box.mbox", tmp_path))
    assert [(e.id, e.line, e.status) for e in entries] == [
        ("1@acme.example", 1, "ok"), ("box.mbox:2", 22, "ok"), ("box.mbox:3", 28, "ok")]
    assert entries[0].text == read_message(MAIL)[0]
    assert entries[0].meta["subject"] == "Caf\u00e9 in Paris"
    assert entries[1].text == "Two\n\nWei Chen works for Globex.\nFrom the archive."
    assert MboxInput.count(tmp_path / "box.mbox") == 3
    # an exporter that leaves no blank line before the next postmark
    tight = box.replace(b"\n\nFrom john@", b"\nFrom john@")
    (tmp_path / "tight.mbox").write_bytes(tight)
    assert MboxInput.count(tmp_path / "tight.mbox") == 3
    gmail = b"From 1234@xxx Mon Nov 02 10:00:00 +0000 2026\nSubject: A\n\nB.\n" * 2
    (tmp_path / "gmail.mbox").write_bytes(gmail)
    assert [e.text for e in MboxInput.read(tmp_path / "gmail.mbox", tmp_path)] == ["A\n\nB."] * 2
    (tmp_path / "twice.mbox").write_bytes(box * 2)
    twice = list(read_inputs([tmp_path / "twice.mbox"]))
    assert [e.status for e in twice] == ["ok", "ok", "ok", "error", "ok", "ok"]
    assert twice[3].duplicate_of == "1@acme.example"  # the same Message-ID again
    rng = random.Random(0)
    many = b"".join(b"From a@b Mon Nov  2 10:00:00 2026\nMessage-ID: <%d@b>\n\n%s\n\n" % (
        i, " ".join(rng.choice(["Globex", "Osaka", "works", "in", "for"]) + str(rng.random())
                    for _ in range(60)).encode()) for i in range(300))
    packed = gzip.compress(many)
    (tmp_path / "cut.mbox.gz").write_bytes(packed[:len(packed) * 3 // 4])
    cut = list(read_inputs([tmp_path / "cut.mbox.gz"]))
    assert len(cut) > 100 and all(e.status == "ok" for e in cut[:-1])
    assert [e.id for e in cut[:2]] == ["0@b", "1@b"]
    assert cut[-1].status == "error" and "unreadable after message" in cut[-1].error
    assert f"the {len(cut) - 1} messages before it were kept" in cut[-1].error
    (tmp_path / "no.mbox").write_bytes(b"Subject: not a mailbox\n\nhello\n")
    (entry,) = MboxInput.read(tmp_path / "no.mbox", tmp_path)
    assert entry.status == "error" and entry.error.endswith('line 1 is not a "From " line: '
                                                           "not an mbox file")


@pytest.mark.slow
def test_lzw_and_runlength_sizes_are_what_pdfminer_decodes():
    """``limits.lzw_size`` and ``runlength_size`` count exactly what pdfminer.six's decoders
    give (damaged streams included), stopping one past the budget."""
    pytest.importorskip("pdfminer")
    import random

    from pdfminer.lzw import lzwdecode
    from pdfminer.runlength import rldecode

    from helpers import load_benchmark
    from kgx.batch.limits import lzw_size, runlength_size

    bench = load_benchmark("bench_limits")
    rng = random.Random(5)
    for _ in range(60):
        alphabet = rng.choice([b" ", b"ab", bytes(range(256))])
        data = bytes(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 7, 500, 9000])))
        packed = bench.lzw_encode(data)
        assert lzwdecode(packed) == data and lzw_size(packed, 10**9) == len(data)
        cut = packed[: rng.randrange(len(packed) + 1)]  # damaged: pdfminer stops early
        assert lzw_size(cut, 10**9) == len(lzwdecode(cut))
        rl = bench.runlength_encode(data)
        assert rldecode(rl) == data and runlength_size(rl) == len(data)
    spaces = bench.lzw_spaces(20_000_000, b"BT ET")
    assert len(spaces) < 20_000 and lzw_size(spaces, 10**9) == len(lzwdecode(spaces))
    assert lzw_size(spaces, 1_000) == 1_001


def test_a_document_over_the_size_limit_is_an_error_entry_not_the_runs_memory(
        tmp_path, monkeypatch):
    """A gzip bomb, a JSONL line, an mbox message, a PDF whose streams (chained filters too)
    unpack past ``MAX_DOCUMENT_BYTES``: each an error entry naming the input and the limit,
    the documents around it read; a document at the limit is read."""
    import base64
    import zlib

    from helpers import load_benchmark
    from kgx.batch import limits
    from kgx.batch.reading import read_inputs

    def flate_pdf(content: bytes, filters: int = 1) -> bytes:
        for _ in range(filters):
            content = zlib.compress(content)
        return load_benchmark("bench_limits").pdf_with_stream(content, filters)

    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 20_000)
    with gzip.open(tmp_path / "bomb.txt.gz", "wb") as fh:
        fh.write(b"Globex. " * 10_000)
    (tmp_path / "edge.txt").write_bytes(b"Globex. " * 2_500)  # 20,000 bytes: the limit
    rows = [{"id": "a", "text": "Wei Chen works for Globex."}, {"id": "big", "text": "b" * 30_000},
            {"id": "c", "text": "Globex is in Osaka."}]
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "one-line.jsonl").write_bytes(b"x" * 50_000)  # no line break at all
    box = b"".join(b"From a@b Mon Nov  2 10:00:00 2026\nMessage-ID: <%d@b>\n\n%s\n\n" % (i, body)
                   for i, body in enumerate([b"One.", b"Two. " * 5_000, b"x" * 25_000, b"Three."]))
    (tmp_path / "box.mbox").write_bytes(box)
    page = b"BT /F1 12 Tf 72 720 Td (Wei Chen works for Globex.) Tj ET"
    (tmp_path / "bomb.pdf").write_bytes(flate_pdf(b" " * 30_000 + page))
    (tmp_path / "twice.pdf").write_bytes(flate_pdf(b" " * 30_000 + page, filters=2))
    (tmp_path / "small.pdf").write_bytes(flate_pdf(b" " * 10_000 + page, filters=2))
    # other filters: LZW and RunLength (counted, never decoded to count), a Flate bomb inside
    # ASCII85; RunLength counts 8 bytes a byte (pdfminer's decoder holds a list of ints)
    bench = load_benchmark("bench_limits")
    (tmp_path / "lzw.pdf").write_bytes(bench.pdf_with_stream(
        bench.lzw_encode(b" " * 30_000 + page), ["LZWDecode"]))
    (tmp_path / "lzw-small.pdf").write_bytes(bench.pdf_with_stream(
        bench.lzw_encode(b" " * 10_000 + page), ["LZWDecode"]))
    (tmp_path / "rl.pdf").write_bytes(bench.pdf_with_stream(
        bench.runlength_encode(b" " * 3_000 + page), ["RunLengthDecode"]))
    (tmp_path / "rl-small.pdf").write_bytes(bench.pdf_with_stream(
        bench.runlength_encode(b" " * 1_000 + page), ["RunLengthDecode"]))
    a85 = base64.a85encode(zlib.compress(b" " * 30_000 + page), adobe=True)[2:]
    (tmp_path / "a85.pdf").write_bytes(bench.pdf_with_stream(
        a85, ["ASCII85Decode", "FlateDecode"]))
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert {i: e.status for i, e in entries.items()} == {
        "bomb.txt.gz": "error", "edge.txt": "ok", "a": "ok", "docs.jsonl:2": "error", "c": "ok",
        "one-line.jsonl:1": "error", "0@b": "ok", "box.mbox:2": "error", "box.mbox:3": "error",
        "3@b": "ok", "bomb.pdf": "error", "twice.pdf": "error", "small.pdf": "ok",
        "lzw.pdf": "error", "lzw-small.pdf": "ok", "rl.pdf": "error", "rl-small.pdf": "ok",
        "a85.pdf": "error"}
    limit = "over 20,000 bytes unpacked, the limit for one document"
    assert entries["bomb.txt.gz"].error == (
        f"{tmp_path / 'bomb.txt.gz'}: the file holds {limit} (a compressed bomb, or a dump to "
        "split into documents first)")
    assert entries["docs.jsonl:2"].error.startswith(
        f"{tmp_path / 'docs.jsonl'}:2: the line holds {limit}")
    assert entries["box.mbox:2"].error.startswith(f"{tmp_path / 'box.mbox'}:6: the message holds")
    assert entries["box.mbox:3"].error.startswith(f"{tmp_path / 'box.mbox'}:11: the message holds")
    for name in ("bomb.pdf", "twice.pdf", "lzw.pdf", "rl.pdf", "a85.pdf"):
        assert entries[name].error.startswith(
            f"{tmp_path / name}: its compressed streams hold {limit}")
    for name in ("small.pdf", "lzw-small.pdf", "rl-small.pdf"):
        assert entries[name].text.startswith("Wei Chen works for Globex."), name
    assert entries["3@b"].text == "Three."
    assert all(str(tmp_path) in e.error for e in entries.values() if e.status == "error")
    # a lower limit for one context (a server's request), not for other threads or after it
    import threading

    seen = []
    with limits.at_most(1_000):
        assert limits.document_bytes() == 1_000
        assert read_inputs([tmp_path / "edge.txt"]).__next__().status == "error"
        worker = threading.Thread(target=lambda: seen.append(limits.document_bytes()))
        worker.start()
        worker.join()
    assert seen == [20_000] and limits.document_bytes() == 20_000
    with limits.at_most(10**12):  # never above the constant
        assert limits.document_bytes() == 20_000


def test_mail_messages_in_a_run(fixture_model, tmp_path):
    """An .eml file is a document: its names found at offsets into its text, its headers in
    the manifest's metadata; a message whose text cannot be read is an error entry; the same
    message in an .mbox gives the same relations."""
    from kgx.batch.inputs import INPUT_FORMATS, format_of, read_document
    from kgx.batch.mail import MailInput

    root = tmp_path / "in"
    root.mkdir()
    (root / "m.eml").write_bytes(MAIL)
    (root / "bad.eml").write_bytes(b"Content-Type: text/plain; charset=x-nothing\n\nhi\n")
    (root / "box.mbox").write_bytes(b"From maria@acme.example Mon Nov  2 10:00:00 2026\n" + MAIL)
    assert INPUT_FORMATS["email"] is MailInput and format_of(root / "m.eml.gz") is MailInput
    text = read_document(root / "m.eml")
    out = tmp_path / "run"
    ExtractionRun([root], fixture_model, out, progress=False).run()
    manifest = {m["id"]: m for m in read_manifest(out)}
    assert manifest["m.eml"]["meta"]["subject"] == "Caf\u00e9 in Paris"
    assert manifest["1@acme.example"]["source"].endswith("box.mbox:1")
    assert manifest["1@acme.example"]["relations"] == manifest["m.eml"]["relations"] > 0
    assert manifest["bad.eml"]["status"] == "error"
    assert manifest["bad.eml"]["error"].endswith("bad.eml: its body's charset (x-nothing) is "
                                                 "unknown")
    records = run_records(out)
    assert {"Ana Diaz", "Nordwind", "Maria Lopez", "Acme"} <= {
        r[end]["text"] for r in records for end in ("head", "tail")}
    for r in records:
        for end in ("head", "tail"):
            assert text[r[end]["start_char"]:r[end]["end_char"]] == r[end]["text"]


@pytest.mark.parametrize("corpus", ["conll04", "ade"])
def test_plain_text_is_unchanged_by_the_markdown_reader(shared_data, corpus):
    """Sentences with no markup read as written: "2 * 3", "(1)", "[sic]", "<" stay text."""
    from kgx.batch.markdown import mask_markup
    from kgx.corpus import read_docs

    texts = [d.text for part in ("train", "dev")
             for d in read_docs(shared_data / corpus / f"{part}.json")]
    assert len(texts) > 1000
    assert [t for t in texts if mask_markup(t) != t] == []


def test_five_megabyte_single_line_document(fixture_model, tmp_path):
    rng = random.Random(6)
    parts, size = [], 0
    filler = "The committee met again on Monday, and the discussion went on for hours."
    while size < 5_000_000:  # mostly entity-free filler, an entity sentence now and then
        s = make_text(rng, 1) if rng.random() < 0.002 else filler
        parts.append(s)
        size += len(s) + 1
    text = " ".join(parts)
    nlp_limit = spacy.load(fixture_model).max_length
    assert len(text) > nlp_limit and "\n" not in text
    path = tmp_path / "in" / "big.txt"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    ExtractionRun([path.parent], fixture_model, out, progress=False).run()
    line = manifest(out)["big.txt"]
    assert line["status"] == "ok" and line["pieces"] >= 5
    for r in iter_run_records(out):
        for side in ("head", "tail"):
            assert text[r[side]["start_char"]:r[side]["end_char"]] == r[side]["text"]


def test_component_failure_is_an_error_entry(fixture_model, tmp_path):
    """A document that makes a component raise becomes an error entry; the others go on."""
    nlp = spacy.load(fixture_model)

    @spacy.Language.component("kgx_test_fail_on_boom")
    def fail_on_boom(doc):
        if "BOOM" in doc.text:
            raise RuntimeError("boom inside the pipeline")
        return doc

    nlp.add_pipe("kgx_test_fail_on_boom", first=True)
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join(json.dumps({"id": f"x{i}", "text": t}) for i, t in enumerate(
        ["Acme is in Paris.", "BOOM said Acme in Oslo.", "John Smith lives in Berlin."]))
        + "\n", encoding="utf-8")
    out = tmp_path / "run"
    totals = ExtractionRun([corpus], nlp, out, batch_size=1, progress=False).run()
    m = manifest(out)
    assert [m[k]["status"] for k in ("x0", "x1", "x2")] == ["ok", "error", "ok"]
    assert "boom inside the pipeline" in m["x1"]["error"]
    assert totals.errors == 1


def test_progress_log_lines_without_a_terminal(fixture_model, tmp_path, caplog):
    corpus = make_corpus(tmp_path / "c.jsonl", 3)
    run = ExtractionRun([corpus], fixture_model, tmp_path / "run", progress=False)
    run_progress = _Progress(False, every=0.0)
    assert run_progress.bar is None
    with caplog.at_level("INFO", logger="kgx"):
        run_progress.update(RunTotals(documents=7, words=70, relations=3), 0.0)
    assert "extract: 7 documents, 70 words" in caplog.text
    assert run.run().documents == 3


# --- resume ----------------------------------------------------------------------------------


def test_resume_skips_unchanged_and_replaces_changed(fixture_model, tmp_path):
    corpus = make_corpus(tmp_path / "c.jsonl", 20)
    out = tmp_path / "run"
    ExtractionRun([corpus], fixture_model, out, shard_size=5, progress=False).run()
    before = run_records(out)
    lines = corpus.read_text().splitlines()
    changed = json.loads(lines[3])
    changed["text"] = "Peter Novak works for Globex in Nairobi."
    lines[3] = json.dumps(changed)
    lines.append(json.dumps({"id": "new", "text": "Aiko Tanaka lives in Lyon."}))
    corpus.write_text("\n".join(lines) + "\n")
    totals = ExtractionRun([corpus], fixture_model, out, shard_size=5, resume=True,
                           progress=False).run()
    assert totals.unchanged == 19 and totals.documents == 2
    after = run_records(out)
    old_d3 = [r for r in before if r["doc_id"] == "d00003"]
    new_d3 = [r for r in after if r["doc_id"] == "d00003"]
    assert new_d3 and all("Novak" in r["sentence"] for r in new_d3)
    assert not any(r in after for r in old_d3 if "Novak" not in r["sentence"])
    assert [r for r in after if r["doc_id"] not in ("d00003", "new")] == \
        [r for r in before if r["doc_id"] != "d00003"]
    ids = [m["id"] for m in read_manifest(out)]
    assert len(ids) == len(set(ids)) == 21  # compacted: one line per document


def test_resume_retry_errors(fixture_model, tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.txt").write_text("Acme is in Paris.", encoding="utf-8")
    (root / "b.txt").symlink_to(root / "missing.txt")
    out = tmp_path / "run"
    ExtractionRun([root], fixture_model, out, progress=False).run()
    again = ExtractionRun([root], fixture_model, out, resume=True, progress=False).run()
    assert again.documents == 0 and again.unchanged == 2
    (root / "missing.txt").write_text("Globex is in Oslo.", encoding="utf-8")
    fixed = ExtractionRun([root], fixture_model, out, resume=True, retry_errors=True,
                          progress=False).run()
    assert fixed.documents == 2 and fixed.ok == 2  # b.txt again, and missing.txt itself
    assert manifest(out)["b.txt"]["status"] == "ok"
    assert (out / "errors.jsonl").read_text() == ""


def _extract_cmd(model: Path, corpus: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "kgx", "extract", str(corpus), "--model", str(model),
            "--output", str(out), "--shard-size", "20", "--batch-size", "8", *extra]


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_run(fixture_model, tmp_path):
    corpus = make_corpus(tmp_path / "c.jsonl", 300)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    full = tmp_path / "full"
    subprocess.run(_extract_cmd(fixture_model, corpus, full), check=True, env=env,
                   capture_output=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_extract_cmd(fixture_model, corpus, killed), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(list(read_manifest(killed))) >= 100 or proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(read_manifest(killed)))
    assert done_before < 300, "the run finished before it could be killed"
    # what a kill can leave behind: a .tmp shard and a manifest line cut short
    (killed / "relations" / "shard-999999.jsonl.tmp").write_text('{"doc_id": "d0')
    with (killed / "manifest.jsonl").open("a") as fh:
        fh.write('{"id": "d00299", "sha')
    res = subprocess.run(_extract_cmd(fixture_model, corpus, killed, "--resume"), env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert not list((killed / "relations").glob("*.tmp"))
    ids = [m["id"] for m in read_manifest(killed)]
    assert sorted(ids) == [f"d{i:05d}" for i in range(300)]  # each exactly once
    assert run_records(killed) == run_records(full)
    assert "unchanged" in res.stdout


def test_sigterm_marks_the_run_interrupted_and_says_how_to_resume(fixture_model, tmp_path):
    # stdin held open: the run waits for more documents when SIGTERM comes
    docs = [json.dumps({"id": f"d{i}", "text": "Maria Lopez works for Acme."}) for i in range(3)]
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "kgx", "extract", "-", "--model", str(fixture_model),
           "--output", str(out), "--shard-size", "1", "--batch-size", "1"]
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None
    proc.stdin.write(docs[0] + "\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "run.json").exists() and \
                json.loads((out / "run.json").read_text())["status"] == "running":
            break
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert "interrupted" in stderr and "--resume" in stderr, stderr
    assert "Traceback" not in stderr
    res = subprocess.run([*cmd, "--resume"], env=env, input="\n".join(docs) + "\n",
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "run.json").read_text())["status"] == "finished"
    assert sorted(m["id"] for m in read_manifest(out)) == ["d0", "d1", "d2"]


def test_progress_shows_a_total_when_the_inputs_are_files(fixture_model, tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    make_corpus(root / "c.jsonl", 7)
    (root / "a.txt").write_text("Acme is in Paris.", encoding="utf-8")
    (root / "blank.jsonl").write_text("\n\n", encoding="utf-8")
    from kgx.batch.reading import count_documents

    assert count_documents([root]) == 8 and count_documents([root, "-"]) is None
    res = subprocess.run([sys.executable, "-m", "kgx", "extract", str(root), "--model",
                          str(fixture_model), "--output", str(tmp_path / "run"), "--progress"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr
    assert "8/8" in res.stderr, res.stderr  # a total, so tqdm shows an ETA while running


# --- CLI -------------------------------------------------------------------------------------


def test_cli_extract_summary_then_graph_and_export(fixture_model, tmp_path):
    corpus = make_corpus(tmp_path / "c.jsonl", 10)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["extract", str(corpus), "--model", str(fixture_model),
                                      "--output", str(out), "--then-export", "nt"])
    assert result.exit_code == 0, result.output
    assert "10 documents" in result.output and "words/s" in result.output
    graph = json.loads((out / "graph.json").read_text())
    assert graph["nodes"] and graph["edges"]
    assert (out / "graph.nt").read_text().count(" .\n") > 0


def test_cli_then_graph_builds_what_kgx_graph_builds(fixture_model, tmp_path):
    """--then-graph reads the run through the same reader and builder as `kgx graph RUN_DIR`."""
    from kgx.graph import load_graph

    corpus = make_corpus(tmp_path / "c.jsonl", 8)
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(app, ["extract", str(corpus), "--model", str(fixture_model),
                                 "--output", str(out), "--then-graph"])
    assert result.exit_code == 0, result.output
    assert "0 malformed lines skipped" in result.output and not (out / "graph.nt").exists()
    result = runner.invoke(app, ["graph", str(out), "--output", str(tmp_path / "g.json")])
    assert result.exit_code == 0, result.output
    chained, built = load_graph(out / "graph.json"), load_graph(tmp_path / "g.json")
    assert chained.graph == built.graph
    assert list(chained.nodes(data=True)) == list(built.nodes(data=True))
    assert list(chained.edges(keys=True, data=True)) == list(built.edges(keys=True, data=True))
    r = runner.invoke(app, ["extract", str(corpus), "--model", str(fixture_model), "--output",
                            str(tmp_path / "r2"), "--then-export", "n3"])
    assert r.exit_code != 0 and "unknown RDF format 'n3'" in r.output
    assert not (tmp_path / "r2").exists()  # refused before the run, not after it


def test_a_run_directory_in_use_is_refused(fixture_model, tmp_path):
    from kgx.batch import BatchError
    from kgx.rundir import RunDir

    corpus = make_corpus(tmp_path / "c.jsonl", 3)
    out = tmp_path / "run"
    ExtractionRun([corpus], fixture_model, out, progress=False).run()
    with RunDir(out).lock():  # another run holds the directory
        with pytest.raises(BatchError, match="in use by another kgx run"):
            ExtractionRun([corpus], fixture_model, out, resume=True, progress=False).run()
        with pytest.raises(BatchError, match="in use by another kgx run"):
            ExtractionRun([corpus], fixture_model, out, overwrite=True, progress=False)
        assert len(manifest(out)) == 3  # nothing removed
    again = ExtractionRun([corpus], fixture_model, out, resume=True, progress=False).run()
    assert again.unchanged == 3  # the lock is released with its holder


def test_cli_exits_non_zero_only_when_the_run_cannot_proceed(fixture_model, tmp_path):
    corpus = make_corpus(tmp_path / "c.jsonl", 3)
    runner = CliRunner()
    r = runner.invoke(app, ["extract", str(corpus), "--model", str(tmp_path / "nope"),
                            "--output", str(tmp_path / "r1")])
    assert r.exit_code != 0 and "cannot load the pipeline" in r.output
    r = runner.invoke(app, ["extract", str(tmp_path / "missing.txt"), "--model",
                            str(fixture_model), "--output", str(tmp_path / "r2")])
    assert r.exit_code != 0 and "no such input" in r.output
    empty = tmp_path / "empty"
    empty.mkdir()
    r = runner.invoke(app, ["extract", str(empty), "--model", str(fixture_model),
                            "--output", str(tmp_path / "r3")])
    assert r.exit_code != 0 and "no input documents" in r.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = runner.invoke(app, ["extract", str(corpus), "--model", str(fixture_model),
                            "--output", str(blocker / "run")])
    assert r.exit_code != 0 and "not writable" in r.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    r = runner.invoke(app, ["extract", str(bad), "--model", str(fixture_model),
                            "--output", str(tmp_path / "r4")])
    assert r.exit_code == 0 and "1 errors" in r.output
    r = runner.invoke(app, ["extract", str(corpus), "--model", str(fixture_model),
                            "--output", str(tmp_path / "r4")])
    assert r.exit_code != 0 and "--resume" in r.output and "--overwrite" in r.output
    r = runner.invoke(app, ["extract", str(corpus), "--model", str(fixture_model),
                            "--output", str(tmp_path / "r4"), "--overwrite", "--resume"])
    assert r.exit_code != 0 and "pass one" in r.output
    r = runner.invoke(app, ["extract", str(corpus), "--model", str(fixture_model),
                            "--output", str(tmp_path / "r4"), "--overwrite"])
    assert r.exit_code == 0, r.output
    replaced = manifest(tmp_path / "r4")
    assert len(replaced) == 3  # the corpus's documents only: the old run is gone, not merged
    assert all(m["status"] != "error" for m in replaced.values())
    stranger = tmp_path / "not-a-run"
    stranger.mkdir()
    (stranger / "keep.txt").write_text("mine")
    r = runner.invoke(app, ["extract", str(corpus), "--model", str(fixture_model),
                            "--output", str(stranger), "--overwrite"])
    assert r.exit_code != 0 and "not empty" in r.output
    assert (stranger / "keep.txt").read_text() == "mine"  # --overwrite never removes other data


def test_cli_reads_stdin_jsonl(fixture_model, tmp_path):
    data = "\n".join([json.dumps({"id": "s1", "text": "Acme is in Paris."}),
                      json.dumps({"text": "John Smith lives in Berlin."})]) + "\n"
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["extract", "-", "--model", str(fixture_model), "--output",
                                 str(out)], input=data)
    assert r.exit_code == 0, r.output
    assert set(manifest(out)) == {"s1", "<stdin>:2"}


def test_module_exports_extract_lazily():
    import kgx
    import kgx.batch

    assert kgx.extract is kgx.batch.extract
