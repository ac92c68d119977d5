"""``--encoding``: text files in a legacy encoding (Windows' cp1252, Shift_JIS, ...) are read
in the encoding the run names, where they are not UTF-8 and declare none; UTF-8, byte-order
marks and declared charsets still win; bytes in neither are an error entry saying so."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import pytest
from test_batch import run_records
from typer.testing import CliRunner

from kgx.batch import BatchError, ExtractionRun
from kgx.batch.inputs import (
    Entry,
    InputFormat,
    RawFile,
    TextInput,
    check_encoding,
    read_document,
    read_options,
    sha256,
)
from kgx.batch.reading import read_inputs, reading_pool
from kgx.cli import app
from kgx.rundir import read_manifest

TEXT = "José’s café: Maria Lopez works for Globex in Paris. Zoë says “Ana Diaz” lives in Berlin."


def legacy_corpus(root: Path, encoding: str = "cp1252") -> Path:
    """One document of ``TEXT`` in each plain-text format, written in ``encoding``."""
    root.mkdir()
    (root / "a.txt").write_bytes(TEXT.encode(encoding))
    (root / "b.md").write_bytes(f"# Notes\n\n{TEXT}\n".encode(encoding))
    (root / "c.csv").write_bytes(f'id,text,desk\r\nc1,"{TEXT}",Zürich\r\n'.encode(encoding))
    (root / "d.tsv").write_bytes(f"id\ttext\nd1\t{TEXT}\n".encode(encoding))
    (root / "e.jsonl").write_bytes(
        json.dumps({"id": "e1", "text": TEXT}, ensure_ascii=False).encode(encoding) + b"\n")
    (root / "f.html").write_bytes(f"<html><body><p>{TEXT}</p></body></html>".encode(encoding))
    (root / "g.vtt").write_bytes(
        f"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n{TEXT}\n".encode(encoding))
    return root


def texts(run: Path) -> dict[str, Any]:
    return {line["id"]: line.get("error") or line["status"] for line in read_manifest(run)}


def test_legacy_files_are_read_in_the_named_encoding(fixture_model, tmp_path):
    """Without --encoding each cp1252 file is an error entry that says what to do; with it,
    every format gives the records its UTF-8 copy gives, and run.json records the encoding."""
    legacy = legacy_corpus(tmp_path / "legacy")
    utf8 = legacy_corpus(tmp_path / "utf8", "utf-8")
    runner = CliRunner()

    def extract(corpus: Path, out: str, *options: str) -> Path:
        r = runner.invoke(app, ["extract", str(corpus), "--model", str(fixture_model),
                                "--output", str(tmp_path / out), "--no-progress", *options])
        assert r.exit_code == 0, r.output
        return tmp_path / out

    strict = texts(extract(legacy, "strict"))
    assert len(strict) == 7
    for doc_id, status in strict.items():
        assert "not valid UTF-8" in status and "--encoding" in status, doc_id
    assert "byte 0xe9 at offset 3)" in strict["a.txt"]

    read = extract(legacy, "read", "--encoding", "cp1252")
    assert set(texts(read).values()) == {"ok"}
    expected = extract(utf8, "expected")
    assert run_records(read) == run_records(expected) != []
    assert json.loads((read / "run.json").read_text())["args"]["encoding"] == "cp1252"
    meta = {line["id"]: line.get("meta") for line in read_manifest(read)}
    assert meta["c1"] == {"desk": "Zürich"}  # the other columns are read alike


def test_utf8_and_declared_charsets_win(tmp_path):
    """The named encoding is a fallback: UTF-8 files, UTF-16 with its byte-order mark and a
    page's declared charset are read as they say, in one corpus with cp1252 files; a .json
    file is UTF-8 (RFC 8259) whatever the run names."""
    root = tmp_path / "in"
    root.mkdir()
    (root / "legacy.txt").write_bytes("Café Zoë".encode("cp1252"))
    (root / "modern.txt").write_bytes("Café Zoë — ½".encode())
    (root / "wide.txt").write_bytes("Café Zoë".encode("utf-16"))
    (root / "declared.html").write_bytes(
        '<meta charset="koi8-r"><p>Москва</p>'.encode("koi8-r"))
    (root / "array.json").write_bytes(json.dumps([{"text": "Café"}], ensure_ascii=False)
                                      .encode("cp1252"))
    found = {e.id: e for e in read_inputs([root], encoding="cp1252")}
    assert found["legacy.txt"].text == "Café Zoë"
    assert found["modern.txt"].text == "Café Zoë — ½"
    assert found["wide.txt"].text == "Café Zoë"
    assert found["declared.html"].text == "Москва"
    assert found["array.json[0]"].error.endswith("array.json: not UTF-8 near line 1 (invalid "
                                                 "continuation byte)")


def test_bytes_in_neither_encoding_are_an_error_that_loses_nothing(tmp_path):
    """0x81 is no character in cp1252: the file is an error entry naming the byte and both
    encodings; a CSV keeps the rows before that line; the other files are read."""
    root = tmp_path / "in"
    root.mkdir()
    (root / "bad.txt").write_bytes(b"caf\xe9 \x81")
    (root / "rows.csv").write_bytes(b"id,text\nr1,caf\xe9\nr2,bad \x81\nr3,after\n")
    (root / "good.txt").write_bytes(b"na\xefve")
    found = {e.id: e for e in read_inputs([root], encoding="cp1252")}
    assert found["bad.txt"].error.endswith(
        "bad.txt: neither UTF-8 nor cp1252 (byte 0x81 at offset 5)")
    assert found["r1"].text == "café" and "r3" not in found
    assert found["rows.csv:3"].error.endswith(
        "rows.csv:3: neither UTF-8 nor cp1252 (byte 0x81); the rows before were kept")
    assert found["good.txt"].text == "naïve"


def test_the_encoding_reaches_members_attachments_and_reading_processes(tmp_path):
    """A zip's members, an e-mail's attachments and files parsed in another process
    (--read-processes) are read in the run's encoding too."""
    root = tmp_path / "in"
    root.mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("inner/note.txt", "Señor Núñez".encode("cp1252"))
        z.writestr("rows.csv", "id,text\nz1,Málaga\n".encode("cp1252"))
    (root / "pack.zip").write_bytes(buffer.getvalue())
    mail = (b"Subject: notes\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
            b"--B\nContent-Type: text/plain; charset=utf-8\n\nSee the note.\n"
            b"--B\nContent-Type: application/octet-stream\n"
            b"Content-Disposition: attachment; filename=\"memo.txt\"\n\n"
            + "Memo für Zoë".encode("cp1252") + b"\n--B--\n")
    (root / "mail.eml").write_bytes(mail)
    (root / "plain.txt").write_bytes("Crème brûlée".encode("cp1252"))
    expected = {"pack.zip/inner/note.txt": "Señor Núñez", "z1": "Málaga",
                "mail.eml/memo.txt": "Memo für Zoë", "plain.txt": "Crème brûlée"}
    here = {e.id: e.text for e in read_inputs([root, root / "pack.zip"], encoding="cp1252")}
    with reading_pool(1) as (executor, ahead):
        pooled = {e.id: e.text for e in read_inputs([root, root / "pack.zip"],
                                                    encoding="cp1252", executor=executor,
                                                    ahead=ahead)}
    for doc_id, text in expected.items():
        assert here[doc_id].strip() == text and pooled[doc_id].strip() == text, doc_id
    assert here == pooled
    strict = {e.id: e for e in read_inputs([root])}
    assert strict["mail.eml/memo.txt"].status == "error"


@pytest.mark.parametrize("name, problem", [
    ("nope", "not an encoding Python knows"),
    ("utf-16", "does not write ASCII as ASCII"),
    ("cp037", "does not write ASCII as ASCII"),  # EBCDIC
    ("base64", "a codec (as base64 is), not a text encoding"),
])
def test_an_unusable_encoding_is_refused_before_the_run(fixture_model, tmp_path, name,
                                                        problem):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("text", encoding="utf-8")
    with pytest.raises(BatchError, match=re.escape(problem)):
        ExtractionRun([tmp_path / "in"], fixture_model, tmp_path / "run", encoding=name)
    assert not (tmp_path / "run").exists()
    r = CliRunner().invoke(app, ["extract", str(tmp_path / "in"), "-m", str(fixture_model),
                                 "-o", str(tmp_path / "cli"), "--encoding", name])
    assert r.exit_code != 0 and problem in r.output
    assert check_encoding("Latin-1") == "iso8859-1" and check_encoding(None) is None
    with pytest.raises(BatchError, match=re.escape(problem)):
        read_document(tmp_path / "in" / "a.txt", name)
    assert read_document(tmp_path / "in" / "a.txt", "shift_jis") == "text"


def test_resuming_with_an_encoding_reads_what_could_not_be_read(fixture_model, tmp_path,
                                                               caplog):
    """``--resume --encoding`` on a run read without one reads the files that failed (no
    ``--retry-errors`` needed: the reading changed, not only the bytes); the UTF-8 ones stay
    done. Resuming in yet another encoding keeps what was read, and says so."""
    root = tmp_path / "in"
    root.mkdir()
    (root / "legacy.txt").write_bytes(TEXT.encode("cp1252"))
    (root / "modern.txt").write_text(TEXT, encoding="utf-8")
    out = tmp_path / "run"
    first = ExtractionRun([root], fixture_model, out, progress=False).run()
    assert (first.ok, first.errors) == (1, 1)
    again = ExtractionRun([root], fixture_model, out, resume=True, encoding="cp1252",
                          progress=False).run()
    assert (again.ok, again.errors, again.unchanged) == (1, 0, 1)
    status = {line["id"]: line["status"] for line in read_manifest(out)}
    assert status == {"legacy.txt": "ok", "modern.txt": "ok"}
    records = run_records(out)
    assert {r["doc_id"] for r in records} == {"legacy.txt", "modern.txt"}
    same = ExtractionRun([root], fixture_model, out, resume=True, encoding="cp1252",
                         progress=False).run()
    assert (same.ok, same.unchanged) == (0, 2)
    with caplog.at_level("WARNING", logger="kgx"):
        other = ExtractionRun([root], fixture_model, out, resume=True, encoding="latin-1",
                              progress=False).run()
    assert (other.ok, other.unchanged) == (0, 2) and run_records(out) == records
    assert "documents read in cp1252 before are kept as read" in caplog.text


def test_show_reads_a_file_in_the_named_encoding(fixture_model, tmp_path):
    """``kgx show FILE --encoding``: the file's text as a run reads it; without the option
    the error says to name one."""
    (tmp_path / "note.txt").write_bytes(TEXT.encode("cp1252"))
    runner = CliRunner()
    r = runner.invoke(app, ["show", str(tmp_path / "note.txt"), "-m", str(fixture_model),
                            "--encoding", "cp1252", "--json"])
    assert r.exit_code == 0, r.output
    entities = json.loads(r.stdout)["entities"]
    assert [e["text"] for e in entities] == ["Maria Lopez", "Globex", "Paris", "Ana Diaz",
                                             "Berlin"]
    assert all(TEXT[e["start_char"]:e["end_char"]] == e["text"] for e in entities)
    r = runner.invoke(app, ["show", str(tmp_path / "note.txt"), "-m", str(fixture_model)])
    assert r.exit_code == 1 and "name its encoding (--encoding cp1252, ...)" in r.output


def test_a_plugin_format_written_before_the_option_still_reads(tmp_path):
    """A plugin's ``read`` or ``document`` without an ``encoding`` parameter is called as
    before, whether or not the run names one."""

    class OldRows(InputFormat):
        name = "oldrows"
        suffixes: ClassVar[tuple[str, ...]] = (".rows",)

        @classmethod
        def read(cls, path, root, *, id_field="id", text_field="text"):
            yield Entry("r", str(path), None, sha256(b"x"), text="rows")

    class OldText(TextInput):
        name = "oldtext"

        @classmethod
        def document(cls, data, where):
            return data.decode("latin-1").upper(), None, None

    assert read_options("id", "text", "cp1252", OldRows.read) == {
        "id_field": "id", "text_field": "text"}
    assert read_options("id", "text", "cp1252", TextInput.read)["encoding"] == "cp1252"
    assert read_options("id", "text", None, TextInput.read) == {
        "id_field": "id", "text_field": "text"}
    raw = RawFile("x.old", "x.old", b"caf\xe9", sha256(b"caf\xe9"))
    assert OldText.parse_all(raw, encoding="cp1252")[0].text == "CAFÉ"
    assert TextInput.parse_all(raw, encoding="cp1252")[0].text == "café"


def test_mail_charsets_are_read_as_mail_clients_read_them(tmp_path):
    """8-bit bytes under US-ASCII (or no charset), in a body or a header, are read as UTF-8
    where they are, else in the run's encoding, else as windows-1252; "iso-8859-1" is
    windows-1252 (curly quotes, not control codes); a body not in a charset it really names
    (UTF-8) stays an error."""
    from kgx.batch.mail import read_message

    body = "Maria Lopez’s café: “Acme” in Paris."
    ascii_head = b"Subject: Trip\nContent-Type: text/plain; charset=us-ascii\n\n"
    assert read_message(ascii_head + body.encode("cp1252"))[0] == f"Trip\n\n{body}"
    assert read_message(ascii_head + body.encode("utf-8"))[0] == f"Trip\n\n{body}"
    undeclared = b"Subject: Trip\n\n"
    assert read_message(undeclared + body.encode("cp1252"))[0] == f"Trip\n\n{body}"
    enron = b"Subject: Trip\nContent-Type: text/plain; charset=ANSI_X3.4-1968\n\n"
    assert read_message(enron + body.encode("cp1252"))[0] == f"Trip\n\n{body}"
    latin = b"Subject: Trip\nContent-Type: text/plain; charset=ISO-8859-1\n\n"
    assert read_message(latin + body.encode("cp1252"))[0] == f"Trip\n\n{body}"
    russian = "Москва: Иван Петров."
    assert read_message(undeclared + russian.encode("koi8-r"), "koi8-r")[0] == (
        f"Trip\n\n{russian}")
    assert read_message(undeclared + russian.encode("koi8-r"))[0] != f"Trip\n\n{russian}"
    old = b"Subject: Caf\xe9 \x93Acme\x94\nFrom: Jos\xe9 <j@x>\n\nMaria Lopez works for Acme.\n"
    text, meta = read_message(old)  # raw 8-bit headers (the email package shows U+FFFD)
    assert meta == {"subject": "Café “Acme”", "from": "José <j@x>"}
    assert text.startswith("Café “Acme”\n\n")
    assert read_message(b"Subject: =?utf-8?q?Zo=C3=AB?= caf\xc3\xa9\n\nx")[1] == {
        "subject": "Zoë café"}  # encoded words and raw UTF-8, as before
    root = tmp_path / "in"
    root.mkdir()
    (root / "box.mbox").write_bytes(b"From a Mon Nov  2 10:00:00 2026\nMessage-ID: <r@x>\n"
                                    + undeclared + russian.encode("koi8-r") + b"\n")
    (root / "bad.eml").write_bytes(b"Content-Type: text/plain; charset=utf-8\n\ncaf\xe9\n")
    found = {e.id: e for e in read_inputs([root], encoding="koi8-r")}
    assert found["r@x"].text == f"Trip\n\n{russian}"
    assert found["bad.eml"].error.endswith(
        "its body is not valid utf-8 (byte 0xe9 at offset 3 of the decoded part)")
