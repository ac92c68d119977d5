"""The hand-written demo corpus: valid kgx JSONL, in sync with its source, big enough to train."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT / "corpora"
DEMO = CORPORA / "demo"


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_demo", CORPORA / "build_demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_demo"] = module
    spec.loader.exec_module(module)
    return module


bd = _load_builder()


def _read(name: str) -> list[dict]:
    lines = (DEMO / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def records() -> dict[str, list[dict]]:
    return {"train": _read("train.jsonl"), "dev": _read("dev.jsonl")}


def test_jsonl_records_are_valid(records):
    for split, docs in records.items():
        assert docs, f"{split} is empty"
        for doc in docs:
            assert set(doc) == {"id", "text", "entities", "relations"}
            text, ents = doc["text"], doc["entities"]
            assert text == text.strip() and text
            last_end = 0
            for ent in ents:
                assert 0 <= ent["start"] < ent["end"] <= len(text), (doc["id"], ent)
                assert ent["label"] in bd.ENTITY_TYPES
                assert ent["start"] >= last_end, f"{doc['id']}: overlapping or unsorted entities"
                last_end = ent["end"]
                surface = text[ent["start"]:ent["end"]]
                assert surface == surface.strip() and "[" not in surface and "(" not in surface
            pairs = set()
            for rel in doc["relations"]:
                head, tail = ents[rel["head"]], ents[rel["tail"]]
                assert (head["label"], tail["label"]) == bd.RELATION_TYPES[rel["label"]], (
                    doc["id"], rel)
                assert rel["head"] != rel["tail"]
                assert (rel["head"], rel["tail"]) not in pairs
                pairs.add((rel["head"], rel["tail"]))
            assert "](" not in text, f"{doc['id']}: markup left in the text"


def test_entity_text_matches_source_surface():
    for doc in bd.parse_source(DEMO / "source.txt"):
        for ent in doc.entities:
            assert doc.text[ent.start:ent.end] == ent.text


def test_jsonl_up_to_date_with_source(tmp_path):
    bd.build(DEMO / "source.txt", tmp_path)
    for name in ("train.jsonl", "dev.jsonl"):
        fresh = (tmp_path / name).read_text(encoding="utf-8")
        committed = (DEMO / name).read_text(encoding="utf-8")
        assert fresh == committed, f"{name} is stale: run python corpora/build_demo.py"


def test_build_is_deterministic(tmp_path):
    bd.build(DEMO / "source.txt", tmp_path / "a")
    bd.build(DEMO / "source.txt", tmp_path / "b")
    for name in ("train.jsonl", "dev.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_size_and_coverage(records):
    docs = records["train"] + records["dev"]
    counts = {label: 0 for label in bd.RELATION_TYPES}
    for doc in docs:
        for rel in doc["relations"]:
            counts[rel["label"]] += 1
    assert all(n >= 80 for n in counts.values()), counts
    assert 180 <= len(docs) <= 250
    sentences = sum(len(d.sentences) for d in bd.parse_source(DEMO / "source.txt"))
    assert sentences >= 450
    share = len(records["dev"]) / len(docs)
    assert 0.12 <= share <= 0.28, share
    for split in ("train", "dev"):
        labels = {r["label"] for d in records[split] for r in d["relations"]}
        assert labels == set(bd.RELATION_TYPES), (split, labels)


def test_train_and_dev_share_no_document(records):
    train_ids = [d["id"] for d in records["train"]]
    dev_ids = [d["id"] for d in records["dev"]]
    assert len(set(train_ids)) == len(train_ids) and len(set(dev_ids)) == len(dev_ids)
    assert not set(train_ids) & set(dev_ids)


def test_corpus_has_the_promised_variety():
    docs = bd.parse_source(DEMO / "source.txt")
    texts = [e.text for d in docs for e in d.entities]
    assert any("'" in t for t in texts) and any("-" in t for t in texts)
    assert any(any(ord(c) > 127 for c in t) for t in texts)
    assert any(len(t.split()) >= 3 for t in texts)
    cross = sum(d.entities[h].line != d.entities[t].line for d in docs for h, t, _ in d.relations)
    assert cross >= 10
    assert sum(1 for d in docs if d.entities and not d.relations) >= 3
    assert {"Acme Corp.", "Acme Corporation"} <= set(texts)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.txt"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        ("# c\n[Ann](PER:a) works for [Zed](ORG:z).\n@rel a Work_For q\n", 3,
         "unknown entity id 'q'"),
        ("[Ann](PER:a) lives in [Oslo](LOC:b).\n\n[Bo](PERSON:x) ran.\n", 3,
         "unknown entity label"),
        ("[Ann](PER:a) lives in [Oslo](LOC:b).\n@rel a Lives_In b\n", 2, "unknown relation label"),
        ("[Ann](PER:a) and [Oslo](LOC:b).\n@rel a Work_For b\n", 2, "must be PER -> ORG"),
        ("[Ann](PER:a) and\n[Oslo](LOC:b).\n@rel b OrgBased_In a\n", 3, "must be ORG -> LOC"),
        ("x\n\n[[New](LOC:a) York](LOC:b) is big.\n", 3, "nested"),
        ("[Ann](PER:a) met [Bo](PER:a).\n", 1, "used twice"),
        ("[Ann(PER:a) ran.\n", 1, "malformed"),
        ("[Ann](PER:a) ran.\n@foo a\n", 2, "unknown directive"),
        ("[Ann](PER:a) ran.\n@rel a Work_For\n", 2, "HEAD_ID Label TAIL_ID"),
        ("@id d1\nA ran.\n\n@id d1\nB ran.\n", 4, "already used on line 1"),
        ("[Ann](PER:a) met [Bo](PER:b).\n@rel a Live_In a\n", 2, "links an entity to itself"),
        ("[Ann](PER:a) at [Zed](ORG:z).\n@rel a Work_For z ; a Work_For z\n", 2, "second relation"),
        ("@id x\n\n[Ann](PER:a) ran.\n", 1, "has no sentences"),
        ("[Ann](PER:a b) ran.\n", 1, "malformed"),
    ],
)
def test_malformed_source_reports_line(tmp_path, body, line, needle):
    path = _write(tmp_path, body)
    with pytest.raises(bd.SourceError) as err:
        bd.parse_source(path)
    assert err.value.line == line, str(err.value)
    assert needle in str(err.value)
    assert str(err.value).startswith(f"{path}:{line}:")


def test_cli_exit_codes(tmp_path):
    bad = _write(tmp_path, "[Ann](PER:a) ran.\n@rel a Work_For b\n")
    run = subprocess.run([sys.executable, str(CORPORA / "build_demo.py"), "--source", str(bad),
                          "--out-dir", str(tmp_path / "out")], capture_output=True, text=True)
    assert run.returncode == 2 and f"{bad}:2:" in run.stderr
    assert not (tmp_path / "out").exists()
    check = subprocess.run([sys.executable, str(CORPORA / "build_demo.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    stats = subprocess.run([sys.executable, str(CORPORA / "build_demo.py"), "--stats"],
                           capture_output=True, text=True)
    assert stats.returncode == 0 and "Work_For" in stats.stdout


def test_offsets_for_hand_checked_document(tmp_path):
    path = _write(tmp_path, "@id t1\n[Zoë O'Neill-Brandt](PER:z) is [Acme](ORG:a)'s CEO.\n"
                            "She lives in [Lyon](LOC:l).\n@rel z Work_For a ; z Live_In l\n")
    (doc,) = bd.parse_source(path)
    rec = doc.to_record()
    assert rec["id"] == "t1"
    assert rec["text"] == "Zoë O'Neill-Brandt is Acme's CEO. She lives in Lyon."
    spans = [rec["text"][e["start"]:e["end"]] for e in rec["entities"]]
    assert spans == ["Zoë O'Neill-Brandt", "Acme", "Lyon"]
    assert rec["relations"] == [{"head": 0, "tail": 1, "label": "Work_For"},
                                {"head": 0, "tail": 2, "label": "Live_In"}]


def test_entities_align_with_spacy_tokens(records):
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    for doc in records["train"] + records["dev"]:
        tokens = nlp.make_doc(doc["text"])
        for ent in doc["entities"]:
            span = tokens.char_span(ent["start"], ent["end"], alignment_mode="strict")
            assert span is not None, (doc["id"], doc["text"][ent["start"]:ent["end"]])


def test_raw_documents():
    raw = CORPORA / "raw"
    txts = sorted(raw.glob("*.txt"))
    assert 20 <= len(txts) <= 30
    for path in txts:
        words = len(path.read_text(encoding="utf-8").split())
        assert 80 <= words <= 300, (path.name, words)
    lines = (raw / "more.jsonl").read_text(encoding="utf-8").splitlines()
    recs = [json.loads(line) for line in lines if line.strip()]
    assert 8 <= len(recs) <= 12
    assert all(set(r) == {"id", "text", "source"} and r["text"].strip() for r in recs)
    assert len({r["id"] for r in recs}) == len(recs)


def test_kgx_reader_keeps_every_entity_and_relation(records):
    pytest.importorskip("spacy")
    from kgx.corpus import ConvertStats, read_docs
    from kgx.relations import raw_relations

    n_sents = {d.id: len(d.sentences) for d in bd.parse_source(DEMO / "source.txt")}
    for split, docs in records.items():
        stats = ConvertStats()
        gold = list(read_docs(DEMO / f"{split}.jsonl", fmt="kgx", stats=stats))
        assert len(gold) == len(docs)
        # one source line = one sentence for the sentencizer too (max_sentences windows rely on it)
        assert [len(list(g.sents)) for g in gold] == [n_sents[d["id"]] for d in docs]
        assert stats.entities == sum(len(d["entities"]) for d in docs)
        assert stats.relations == sum(len(d["relations"]) for d in docs)
        assert not stats.skipped and not stats.dropped_entities
        first = gold[0]
        assert [e.text for e in first.ents] == [
            docs[0]["text"][e["start"]:e["end"]] for e in docs[0]["entities"]]
        assert len(raw_relations(first)) == len(docs[0]["relations"])


def test_readme_counts_match_the_source():
    readme = (CORPORA / "README.md").read_text(encoding="utf-8")
    table = bd.stats(bd.parse_source(DEMO / "source.txt"))
    assert table in readme, "corpora/README.md counts are stale: paste build_demo.py --stats"


def test_raw_documents_share_names_for_graph_merging():
    names = {e.text for d in bd.parse_source(DEMO / "source.txt") for e in d.entities
             if e.label in ("PER", "ORG") and len(e.text.split()) >= 2}
    raw = CORPORA / "raw"
    texts = [p.read_text(encoding="utf-8") for p in sorted(raw.glob("*.txt"))]
    texts += [json.loads(line)["text"] for line in
              (raw / "more.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    hits = [{n for n in names if n in text} for text in texts]
    assert sum(1 for h in hits if h) >= len(texts) - 2
    shared = {n for n in names if sum(n in h for h in hits) >= 2}
    assert len(shared) >= 15, sorted(shared)
    assert "Acme Corp." in "\n".join(texts) and "Acme Corporation" in "\n".join(texts)


def test_raw_documents_read_by_kgx_batch():
    from kgx.batch import read_inputs

    entries = list(read_inputs([CORPORA / "raw"]))
    assert len(entries) == len(list((CORPORA / "raw").glob("*.txt"))) + 10
    assert {e.status for e in entries} == {"ok"}
    assert len({e.id for e in entries}) == len(entries)
