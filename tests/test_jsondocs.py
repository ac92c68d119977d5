"""kgx.batch.jsondocs: a ``.json`` file of documents (an array of objects streamed an element at
a time, an object holding one such array, or one object) reads as the same objects in JSONL do;
what is not a document is an error entry naming the element and its line, and JSON that is not
well formed ends the file there with the elements before kept. ``.ndjson`` is JSONL."""

from __future__ import annotations

import gzip
import json

import pytest

from kgx.batch import jsondocs
from kgx.batch.jsondocs import JsonInput, JsonlInput
from kgx.batch.reading import count_documents, read_inputs

DOCS = [{"id": "d1", "text": "Wei Chen works for Globex in Osaka.", "source": "feed", "n": 7},
        {"text": "Ana Diaz lives in Lima.", "score": 0.125, "tags": ["a", "b"]},
        {"id": 3, "text": "Maria Lopez of Acme met Ivan Petrov in Paris.", "when": None}]


def as_read(entries: list) -> list:
    return [(e.id, e.text, e.meta, e.status) for e in entries]


@pytest.mark.parametrize("chunk", [7, 1 << 16])
def test_an_array_of_objects_reads_as_the_same_jsonl(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(jsondocs, "_CHUNK", chunk)  # 7: numbers and strings cut at a seam
    (tmp_path / "docs.json").write_text(json.dumps(DOCS, indent=2), encoding="utf-8")
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in DOCS),
                                         encoding="utf-8")
    got = list(JsonInput.read(tmp_path / "docs.json", tmp_path))
    want = list(JsonlInput.read(tmp_path / "docs.jsonl", tmp_path))
    assert [e.id for e in got] == ["d1", "docs.json[1]", "3"]
    assert as_read(got)[0::2] == as_read(want)[0::2]
    assert got[1].meta == {"score": 0.125, "tags": ["a", "b"]} and got[1].line == 8
    assert JsonInput.count(tmp_path / "docs.json") == 3
    # minified, gzipped, with a byte-order mark: the same documents
    (tmp_path / "min.json.gz").write_bytes(gzip.compress(
        b"\xef\xbb\xbf" + json.dumps(DOCS, separators=(",", ":")).encode()))
    assert as_read(JsonInput.read(tmp_path / "min.json.gz", tmp_path))[0::2] == as_read(got)[0::2]


def test_an_object_holding_the_documents_or_being_one(tmp_path):
    (tmp_path / "export.json").write_text(json.dumps({"version": 2, "documents": DOCS}))
    assert [e.text for e in read_inputs([tmp_path / "export.json"])] == [d["text"] for d in DOCS]
    (tmp_path / "one.json").write_text(json.dumps({"title": "Q3", "text": "Wei Chen."}))
    [one] = read_inputs([tmp_path / "one.json"])
    assert (one.id, one.text, one.meta) == ("one.json", "Wei Chen.", {"title": "Q3"})
    (tmp_path / "config.json").write_text('{"model": "x", "layers": [1, 2]}')
    [config] = read_inputs([tmp_path / "config.json"])
    assert config.status == "error" and config.error == (
        f"{tmp_path / 'config.json'}[0] (line 1): text field 'text' is missing")


def test_elements_that_are_not_documents_and_json_that_is_not_well_formed(tmp_path):
    (tmp_path / "bad.json").write_text(
        '[\n  {"id": "a", "text": "Wei Chen."},\n  "just a string",\n  {"id": true, "text": "x"},'
        '\n  {"id": "b", "text": "Ana Diaz."},\n  {"id": "c", "text": NaN}\n]')
    entries = list(read_inputs([tmp_path / "bad.json"]))
    where = tmp_path / "bad.json"
    assert [(e.id, e.status) for e in entries] == [
        ("a", "ok"), ("bad.json[1]", "error"), ("bad.json[2]", "error"), ("b", "ok"),
        ("bad.json[4]", "error")]
    assert entries[1].error == f"{where}[1] (line 3): expected a JSON object, got str"
    assert entries[2].error == (f"{where}[2] (line 4): the id field 'id' must be a string or an "
                                "integer, got bool")
    assert entries[4].error == (f"{where}: line 6: malformed JSON: NaN is not JSON (RFC 8259 has "
                                "no NaN or Infinity); the 4 elements before were kept")
    for text, reason in [('[{"text": "Wei Chen."}, {"text": ', "malformed JSON: Expecting value"),
                         ('[{"text": "Wei Chen."} {"text": "x"}]', "expected ',' or ']'"),
                         ("", "empty: no JSON value"),
                         ('[{"text": "Wei Chen."}', "the array ends without ']' (truncated?)")]:
        (tmp_path / "t.json").write_text(text)
        assert reason in list(read_inputs([tmp_path / "t.json"]))[-1].error
    (tmp_path / "one.json").write_bytes('{"text": "Café"}'.encode("latin-1"))  # read whole
    assert "not UTF-8" in next(read_inputs([tmp_path / "one.json"])).error
    (tmp_path / "latin.json").write_bytes('[{"text": "Café"}]'.encode("latin-1"))
    assert "not UTF-8" in next(read_inputs([tmp_path / "latin.json"])).error
    assert JsonInput.count(tmp_path / "latin.json") is None


def test_ndjson_is_jsonl(tmp_path):
    (tmp_path / "d.ndjson").write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    assert [e.id for e in read_inputs([tmp_path])] == ["d1", "d.ndjson:2", "3"]


def test_utf16_files_with_their_byte_order_mark_are_read(tmp_path):
    """Windows PowerShell 5.1 writes its output (``ConvertTo-Json > docs.json``) in UTF-16
    with a byte-order mark: JSON, JSONL and CSV so written read as their UTF-8 twins; an odd
    byte at the end (a cut file) and a lone surrogate are error entries that keep the rest."""
    docs = [{"id": "a", "text": "Zoë Müller works for Globex in Köln."},
            {"id": "b", "text": "Ana Diaz lives in Oslo."}]
    lines = "".join(json.dumps(d, ensure_ascii=False) + "\r\n" for d in docs)
    (tmp_path / "ps.json").write_bytes(json.dumps(docs, ensure_ascii=False).encode("utf-16"))
    (tmp_path / "ps.jsonl").write_bytes(b"\xfe\xff" + lines.encode("utf-16-be"))
    (tmp_path / "ps.csv").write_bytes('"id","text"\r\n"c","Zoë lives in Köln."\r\n'.encode(
        "utf-16"))
    found = {e.id: e for e in read_inputs([tmp_path])}
    assert found["a"].text == "Zoë Müller works for Globex in Köln."
    assert [e.text for e in read_inputs([tmp_path / "ps.jsonl"])] == [d["text"] for d in docs]
    assert found["c"].text == "Zoë lives in Köln."
    assert count_documents([tmp_path / "ps.jsonl"]) == 2
    assert count_documents([tmp_path / "ps.csv"]) == 1
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "cut.jsonl").write_bytes(lines.encode("utf-16") + b"\x41")
    bad = json.dumps({"id": "s", "text": "x"}).encode("utf-16-le").replace(
        b"x\x00", b"\x00\xd8")  # a lone surrogate
    (cut / "lone.jsonl").write_bytes(b"\xff\xfe" + bad + "\n".encode("utf-16-le")
                                     + json.dumps(docs[1]).encode("utf-16-le"))
    got = {e.id: e for e in read_inputs([cut])}
    assert got["a"].status == "ok" and got["b"].status == "ok"
    assert "not valid UTF-16, as its byte-order mark says" in got["cut.jsonl:3"].error
    assert "not valid UTF-8" in got["lone.jsonl:1"].error
