"""Mail without a suffix, known by its first bytes (``kgx.batch.sniff``): a Maildir's
messages, the Enron corpus's maildir, 20 Newsgroups' articles, Thunderbird's mbox folders;
other files without a suffix stay passed over, and nothing but a regular file is opened."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from kgx.batch import BatchError
from kgx.batch.inputs import read_document
from kgx.batch.reading import count_documents, read_inputs
from kgx.batch.sniff import HEAD_BYTES, sniffed

ENRON = (b"Message-ID: <1.JavaMail.evans@thyme>\nDate: Mon, 14 May 2001 16:39:00 -0700 (PDT)\n"
         b"From: phillip.allen@enron.com\nTo: tim.belden@enron.com\nSubject: Re: trip\n"
         b"Mime-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
         b"Maria Lopez works for Globex in Paris.\n")
NEWS = (b"From: mathew <mathew@mantis.co.uk>\nSubject: Alt.Atheism FAQ: Introduction\n"
        b"Summary: Please read this file before posting\nKeywords: FAQ\nLines: 290\n\n"
        b"Ana Diaz lives in Oslo.\n")
MAILDIR = (b"Return-Path: <ana@x.example>\r\nDelivered-To: me@y.example\r\nReceived: from a\r\n"
           b"\tby b; Mon, 2 Nov 2026 10:00:00 +0100\r\nFrom: Ana Diaz <ana@x.example>\r\n"
           b"Subject: Visit\r\n\r\nWei Chen works for Globex.\r\n")
THUNDERBIRD = (b"From - Mon Nov  2 10:00:00 2026\nX-Mozilla-Status: 0001\nSubject: A\n"
               b"Message-ID: <a@x>\n\nJohn Smith lives in Lima.\n\n"
               b"From - Mon Nov  2 11:00:00 2026\nSubject: B\nMessage-ID: <b@x>\n\nBye.\n")


@pytest.mark.parametrize("head, expected", [
    (ENRON, "email"), (NEWS, "email"), (MAILDIR, "email"), (THUNDERBIRD, "mbox"),
    (b"From alice@x Mon Nov  2 10:00:00 2026\nSubject: x\n\nbody\n", "mbox"),
    (b"From: " + b"x" * HEAD_BYTES, None),  # one field, cut short
    (b"Return-Path: <a>\nReceived: from a\n" + b"\tby b\n" * 1000, "email"),  # cut short
    (b"kgx\n===\n\nThis is a readme.\n", None),
    (b"Note: bring keys\nTodo: call Ana\n\nText.\n", None),  # fields no message has
    (b"title: Notes\ndate: 2026-11-02\n\nText.\n", None),  # one common field
    (b"From: Ana\nDate: Monday\n", None),  # no blank line ends the fields of a short file
    (b"2026-11-02 10:00:00 INFO started\n", None),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None),
    (b"From: a\x00\nDate: b\n\nx", None),  # a NUL byte: binary
    (b"", None),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "pdf"),
    (b"{\\rtf1\\ansi\\deff0 Text}", "rtf"),
    (b"<!DOCTYPE html>\n<html><body>x</body></html>", "html"),
    (b"\xef\xbb\xbf\n<!-- saved from url=(0014)about:internet -->\n<HTML LANG=en>", "html"),
    (b"<htmlx>", None),
    (b"<p>a fragment</p>", None),
])
def test_what_the_first_bytes_say(head, expected):
    assert sniffed(head[:HEAD_BYTES]) == expected


def test_mail_stores_are_read_without_naming_a_format(tmp_path):
    """A Maildir (cur/new, Dovecot's index files beside), the Enron maildir, a 20 Newsgroups
    folder and Thunderbird's mbox folder files (its .msf index beside) in one run: the
    messages are documents, the rest is passed over as before."""
    root = tmp_path / "mail"
    for folder, name, data in [
            ("Maildir/cur", "1700000000.M1P2.host,S=180:2,S", MAILDIR),
            ("Maildir/new", "1700000001.M3P4.host", MAILDIR.replace(b"Visit", b"Again")),
            ("Maildir", "dovecot-uidlist", b"3 V1700000000 N2\n1 :1700000000.M1P2.host\n"),
            ("Maildir", "dovecot.index.log", b"\x01\x02\x00\x00binary index"),
            ("enron/allen-p/inbox", "1.", ENRON),
            ("20news/alt.atheism", "49960", NEWS),
            ("Thunderbird/Local Folders", "Inbox", THUNDERBIRD),
            ("Thunderbird/Local Folders", "Inbox.msf", b"// <!-- <mdb:mork:z v=\"1.4\"/> -->"),
            ("Thunderbird/Local Folders", "README", b"Local folders.\n")]:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / name).write_bytes(data)
    os.mkfifo(root / "Maildir" / "fifo")  # never opened: a read would block
    found = {e.id: e for e in read_inputs([root])}
    assert sorted(found) == [
        "20news/alt.atheism/49960", "Maildir/cur/1700000000.M1P2.host,S=180:2,S",
        "Maildir/new/1700000001.M3P4.host", "a@x", "b@x", "enron/allen-p/inbox/1."]
    assert found["a@x"].text == "A\n\nJohn Smith lives in Lima."
    assert found["20news/alt.atheism/49960"].meta["subject"] == (
        "Alt.Atheism FAQ: Introduction")
    assert found["Maildir/cur/1700000000.M1P2.host,S=180:2,S"].text == (
        "Visit\n\nWei Chen works for Globex.")
    assert all(e.status == "ok" for e in found.values())
    assert count_documents([root]) == 6
    # a file named as an input, with no suffix and no mail in it, is still read as text
    (texts,) = read_inputs([root / "Thunderbird" / "Local Folders" / "README"])
    assert texts.text == "Local folders.\n"
    # kgx show reads one file as the run does
    assert read_document(root / "enron/allen-p/inbox/1.") == found["enron/allen-p/inbox/1."].text
    with pytest.raises(BatchError, match="a mbox file holds many documents"):
        read_document(root / "Thunderbird" / "Local Folders" / "Inbox")


def test_a_web_mirror_and_downloads_without_a_suffix(tmp_path):
    """``wget --mirror`` saves pages as ``about`` and ``news?id=3``; a web application hands
    out a PDF as ``download``: read as their formats, offsets into the text their readers
    give; a fragment of HTML without a page's start stays passed over."""
    from helpers import load_benchmark

    root = tmp_path / "site"
    root.mkdir()
    (root / "about").write_text("<!DOCTYPE html><title>About</title><p>Maria Lopez works for "
                                "<b>Acme</b> in Paris.</p>", encoding="utf-8")
    (root / "news?id=3").write_text("<html><p>Ana Diaz lives in Oslo.</p></html>",
                                    encoding="utf-8")
    (root / "part").write_text("<p>not a page</p>", encoding="utf-8")
    pdf = load_benchmark("eval_pdf")
    (root / "download").write_bytes(pdf.pdf_bytes([[(72.0, 700.0, "Wei Chen works for "
                                                     "Globex.".split(), -1.0)]]))
    found = {e.id: e for e in read_inputs([root])}
    assert sorted(found) == ["about", "download", "news?id=3"]
    assert found["about"].text == "About\n\nMaria Lopez works for Acme in Paris."
    assert found["about"].meta == {"title": "About"}
    assert found["news?id=3"].text == "Ana Diaz lives in Oslo."
    assert found["download"].text.startswith("Wei Chen works for Globex.")
    assert read_document(root / "about") == found["about"].text


def test_an_archives_members_without_a_suffix_are_looked_at(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("enron/allen-p/inbox/1.", ENRON)
        z.writestr("enron/allen-p/notes", b"Just notes.\n")  # no mail: passed over
        z.writestr("enron/.DS_Store", ENRON)  # hidden: passed over
    (tmp_path / "enron.zip").write_bytes(buffer.getvalue())
    found = list(read_inputs([tmp_path / "enron.zip"]))
    assert [(e.id, e.meta["subject"]) for e in found] == [
        ("enron.zip/enron/allen-p/inbox/1.", "Re: trip")]
