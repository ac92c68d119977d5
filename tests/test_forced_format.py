"""``--format``: files whose names say nothing of their format are read as the format the
run names, in folders and inside archives; hidden files are passed over; archives stay
containers. (Mail without a suffix, Enron's maildir and 20 Newsgroups' ``1.`` and ``49960``,
is also known by its first bytes without it: ``kgx.batch.sniff``, ``tests/test_sniff.py``.)"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgx.batch import BatchError, ExtractionRun
from kgx.batch.reading import count_documents, read_inputs, reading_pool
from kgx.cli import app
from kgx.rundir import read_manifest

FIRST = (b"Message-ID: <1.JavaMail.evans@thyme>\nDate: Mon, 14 May 2001 16:39:00 -0700 (PDT)\n"
         b"From: phillip.allen@enron.com\nSubject: Re: trip\nMime-Version: 1.0\n"
         b"Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n"
         b"Maria Lopez works for Globex in Paris. John Smith\x92s office is in Berlin.\n")
SECOND = b"Message-ID: <2@thyme>\nSubject: Hello\n\nAna Diaz lives in Oslo.\n"


def maildir(root: Path) -> Path:
    """A maildir as Enron's: a folder per person and mailbox, a message a file ``<n>.``."""
    (root / "allen-p" / "inbox").mkdir(parents=True)
    (root / "allen-p" / "sent").mkdir()
    (root / "allen-p" / "inbox" / "1.").write_bytes(FIRST)
    (root / "allen-p" / "sent" / "2.").write_bytes(SECOND)
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")  # hidden: passed over
    return root


def test_a_maildir_is_read_as_email(fixture_model, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "meeting").write_text("Ana Diaz met Wei Chen.\n", encoding="utf-8")
    with pytest.raises(BatchError, match="files of other names are read with --format"):
        ExtractionRun([notes], fixture_model, tmp_path / "none", progress=False)
    assert [e.text for e in read_inputs([notes], input_format="text")] == [
        "Ana Diaz met Wei Chen.\n"]
    root = maildir(tmp_path / "maildir")
    (root / "allen-p" / ".notes.txt").write_text("hidden", encoding="utf-8")  # passed over too
    r = CliRunner().invoke(app, ["extract", str(root), "-m", str(fixture_model), "-o",
                                 str(tmp_path / "run"), "--format", "email", "--no-progress"])
    assert r.exit_code == 0, r.output
    manifest = {line["id"]: line for line in read_manifest(tmp_path / "run")}
    assert sorted(manifest) == ["allen-p/inbox/1.", "allen-p/sent/2."]
    assert manifest["allen-p/inbox/1."]["meta"]["subject"] == "Re: trip"
    assert all(line["status"] == "ok" and line["relations"] for line in manifest.values())
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["args"]["input_format"] == "email"
    with pytest.raises(BatchError, match="was read with --format email: resume it with the same"):
        ExtractionRun([root], fixture_model, tmp_path / "run", resume=True, input_format="text",
                      progress=False).run()
    again = ExtractionRun([root], fixture_model, tmp_path / "run", resume=True,
                          input_format="email", progress=False).run()
    assert again.unchanged == 2
    found = {e.id: e for e in read_inputs([root], input_format="email")}
    assert found["allen-p/inbox/1."].text == (
        "Re: trip\n\nMaria Lopez works for Globex in Paris. John Smith’s office is in Berlin.")
    assert count_documents([root], forced=None) == 3  # the hidden .txt, and the two sniffed
    from kgx.batch.reading import forced_format

    assert count_documents([root], forced=forced_format("email")) == 2
    with reading_pool(1) as (executor, ahead):
        pooled = {e.id: e.text for e in read_inputs([root], input_format="email",
                                                    executor=executor, ahead=ahead)}
    assert pooled == {i: e.text for i, e in found.items()}


def test_an_archives_members_are_read_as_the_named_format(tmp_path):
    """The Enron corpus ships as one .tar.gz of its maildir: named with --format email, its
    members are messages; a hidden member is passed over; the archive stays an archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in [("maildir/allen-p/inbox/1.", FIRST), ("maildir/allen-p/sent/2.",
                                                                   SECOND),
                           ("maildir/._1.", b"\x00\x05\x16\x07AppleDouble")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / "enron.tar.gz").write_bytes(buffer.getvalue())
    found = list(read_inputs([tmp_path / "enron.tar.gz"], input_format="email"))
    assert [(e.id, e.status) for e in found] == [
        ("enron.tar.gz/maildir/allen-p/inbox/1.", "ok"),
        ("enron.tar.gz/maildir/allen-p/sent/2.", "ok")]
    assert found[1].text == "Hello\n\nAna Diaz lives in Oslo." and found[1].meta["message-id"]
    sniffed = list(read_inputs([tmp_path / "enron.tar.gz"]))  # known by their first bytes
    assert [(e.id, e.text) for e in sniffed] == [(e.id, e.text) for e in found]


def test_any_format_may_be_named_and_wrong_names_are_refused(fixture_model, tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    (root / "README").write_text("Ana Diaz lives in Oslo.\n", encoding="utf-8")
    (root / "notes.log").write_text("Maria Lopez works for Acme.\n", encoding="utf-8")
    (root / "rows.dat").write_text("id,text\nr1,John Smith lives in Paris.\n", encoding="utf-8")
    texts = {e.id: e.text for e in read_inputs([root / "README", root / "notes.log"],
                                               input_format="text")}
    assert texts == {"README": "Ana Diaz lives in Oslo.\n",
                     "notes.log": "Maria Lopez works for Acme.\n"}
    rows = {e.id: e.text for e in read_inputs([root / "rows.dat"], input_format="csv")}
    assert rows == {"r1": "John Smith lives in Paris."}
    (root / "scan.bin").write_bytes(b"\x00\x01\x02 not text")
    (bad,) = read_inputs([root / "scan.bin"], input_format="email")
    assert bad.error.endswith("binary content (NUL byte at offset 0): not an e-mail message")
    for name, problem in [("zip", "an archive is known by its suffix"),
                          ("nope", "not an input format")]:
        with pytest.raises(BatchError, match=problem):
            ExtractionRun([root], fixture_model, tmp_path / name, input_format=name)
        with pytest.raises(BatchError, match=problem):
            list(read_inputs([root], input_format=name))
