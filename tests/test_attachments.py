"""Files attached to e-mail (``.eml``, ``.mbox``, Outlook's ``.msg``) are documents of their own
format after their message: ids ``<message id>/<file name>`` (or the ids a table's rows give
themselves), ``attached_to`` the message's id in their metadata (``dcterms:isPartOf`` in RDF),
files of no input format passed over, a damaged one an error entry naming the message and the
file, the attachments after it read. Also: a file's suffix is matched in any case
(``SCAN.TXT``), in folders and attachments alike."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

from test_outlook import message

from kgx.batch import ExtractionRun
from kgx.batch.mail import MailInput, MboxInput, attachments
from kgx.batch.outlook import MsgInput, msg_attachments
from kgx.batch.reading import count_documents, read_inputs
from kgx.rundir import read_manifest

DATA = Path(__file__).parent / "data"


def mail(*files: tuple[str, bytes, str]) -> bytes:
    """A message with a plain body and ``(file name, bytes, media type)`` attachments."""
    m = EmailMessage()
    m["Subject"], m["From"], m["Message-ID"] = "Q3 notes", "Ana Diaz <ana@acme.example>", "<q3@x>"
    m.set_content("Notes attached.\n")
    for name, data, media in files:
        main, sub = media.split("/")
        m.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return bytes(m)


FILES = [
    ("notes.txt", b"Wei Chen works for Globex in Osaka.\n", "text/plain"),
    ("C:\\Data\\rows.CSV", b"id,text\nr1,Ana Diaz lives in Lima.\n", "text/csv"),
    ("logo.png", b"\x89PNG\r\n\x1a\n", "image/png"),  # no input format: passed over
    ("broken.docx", b"PK\x03\x04 not a zip", "application/octet-stream"),
    ("notes.txt", b"Maria Lopez met Ivan Petrov.\n", "text/plain"),  # the same name again
    ("deck.pptx", (DATA / "deck.pptx").read_bytes(), "application/octet-stream"),
]


def test_an_emails_attachments_are_documents_of_their_own(tmp_path):
    (tmp_path / "q3.eml").write_bytes(mail(*FILES))
    deck = next(read_inputs([DATA / "deck.pptx"])).text
    entries = list(read_inputs([tmp_path]))
    assert [(e.id, e.status) for e in entries] == [  # the message after its attachments
        ("q3.eml/notes.txt", "ok"), ("r1", "ok"), ("q3.eml/broken.docx", "error"),
        ("q3.eml/notes (2).txt", "ok"), ("q3.eml/deck.pptx", "ok"), ("q3.eml", "ok")]
    notes, row, broken, again, slides, message = entries
    assert message.text == "Q3 notes\n\nNotes attached."  # the body once, not as an attachment
    assert notes.text == "Wei Chen works for Globex in Osaka.\n"
    assert notes.meta == {"attached_to": "q3.eml"} and notes.path == f"{tmp_path}/q3.eml/notes.txt"
    assert row.text == "Ana Diaz lives in Lima." and row.meta == {"attached_to": "q3.eml"}
    assert broken.error == f"{tmp_path}/q3.eml/broken.docx: not a zip file, so not a .docx"
    assert again.text == "Maria Lopez met Ivan Petrov.\n" and slides.text == deck
    assert slides.meta["attached_to"] == "q3.eml"
    assert MailInput.count(tmp_path / "q3.eml") == len(entries)
    assert count_documents([tmp_path]) == len(entries)
    # a body that cannot be read (not the charset it declares) costs the body, not the files
    # attached to it
    (tmp_path / "q3.eml").write_bytes(mail(*FILES).replace(b"Notes attached.", b"Caf\xe9"))
    *files, bad = list(read_inputs([tmp_path / "q3.eml"]))
    assert bad.status == "error" and "not valid" in bad.error
    assert [(e.id, e.status) for e in files] == [(e.id, e.status) for e in entries[:-1]]
    (tmp_path / "x.msg").write_bytes(b"not a compound file")  # nor its attachments: said once
    assert [e.status for e in read_inputs([tmp_path / "x.msg"])] == ["error"]


def test_a_mailboxs_attachments_are_named_by_their_message_id(tmp_path):
    raw = mail(FILES[0], FILES[2]).replace(b"\r\n", b"\n")
    other = raw.replace(b"<q3@x>", b"<q4@x>")
    (tmp_path / "box.mbox").write_bytes(b"From ana Mon Nov  2 10:00:00 2026\n" + raw + b"\n"
                                        + b"From ana Mon Nov  2 11:00:00 2026\n" + other)
    entries = list(read_inputs([tmp_path / "box.mbox"]))
    second = 3 + raw.count(b"\n")  # the line of the second "From ", after a blank one
    assert [(e.id, e.source) for e in entries] == [
        ("q3@x/notes.txt", f"{tmp_path}/box.mbox:1/notes.txt"), ("q3@x", f"{tmp_path}/box.mbox:1"),
        ("q4@x/notes.txt", f"{tmp_path}/box.mbox:{second}/notes.txt"),
        ("q4@x", f"{tmp_path}/box.mbox:{second}")]
    assert entries[2].meta == {"attached_to": "q4@x"}
    assert MboxInput.count(tmp_path / "box.mbox") == 4
    # a message whose body is not in its charset: an error entry, its attachment still read
    (tmp_path / "bad.mbox").write_bytes(b"From ana Mon Nov  2 10:00:00 2026\n"
                                        + raw.replace(b"Notes attached.", b"Caf\xe9"))
    assert [(e.id, e.status) for e in read_inputs([tmp_path / "bad.mbox"])] == [
        ("bad.mbox:1/notes.txt", "ok"), ("bad.mbox:1", "error")]  # no id read: its location


def test_a_forwarded_message_is_an_eml_of_its_own_and_inline_parts_are_not_attachments(
        tmp_path):
    m = EmailMessage()
    m["Subject"], m["Message-ID"] = "Fwd", "<fwd@x>"
    m.set_content("See below.")
    m.add_alternative("<p>See <b>below</b>.</p>", subtype="html")
    inner = EmailMessage()
    inner["Subject"], inner["From"] = "Q3/Q4 plans", "Wei Chen <wei@globex.example>"
    inner.set_content("Wei Chen works for Globex in Osaka.")
    inner.add_attachment(b"Ana Diaz lives in Lima.", maintype="text", subtype="plain",
                         filename="in.txt")
    m.add_attachment(inner)  # message/rfc822, named by its subject
    m.add_attachment(b"outer file", maintype="text", subtype="plain", filename="out.txt")
    assert [name for name, _ in attachments(bytes(m))] == ["Q3-Q4 plans.eml", "out.txt"]
    (tmp_path / "fwd.eml").write_bytes(bytes(m))
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert list(entries) == ["fwd.eml/Q3-Q4 plans.eml/in.txt", "fwd.eml/Q3-Q4 plans.eml",
                             "fwd.eml/out.txt", "fwd.eml"]
    forwarded = entries["fwd.eml/Q3-Q4 plans.eml"]
    assert forwarded.text == "Q3/Q4 plans\n\nWei Chen works for Globex in Osaka."
    assert forwarded.meta == {"subject": "Q3/Q4 plans", "from": "Wei Chen <wei@globex.example>",
                              "attached_to": "fwd.eml"}
    assert entries["fwd.eml/Q3-Q4 plans.eml/in.txt"].meta == {
        "attached_to": "fwd.eml/Q3-Q4 plans.eml"}  # the message it came in, not the outer one
    assert entries["fwd.eml"].text == "Fwd\n\nSee below."


def attachment(name: str | None, data: bytes | None, short: str | None = None) -> dict:
    """An Outlook attachment's storage: its long and 8.3 file names, its bytes."""
    storage = {}
    if name is not None:
        storage["__substg1.0_3707001F"] = name.encode("utf-16-le")
    if short is not None:
        storage["__substg1.0_3704001E"] = short.encode("cp1252")
    if data is not None:
        storage["__substg1.0_37010102"] = data
    return storage


def embedded(subject: str, body: str, **files: dict) -> dict:
    """An Outlook attachment's storage holding an embedded message (its properties stream's
    header 24 bytes), with ``files`` its own attachments' storages."""
    return {"__substg1.0_3701000D": {
        "__properties_version1.0": bytes(24),
        "__substg1.0_0037001F": subject.encode("utf-16-le"),
        "__substg1.0_1000001F": body.encode("utf-16-le"),
        **{f"__attach_version1.0_#{k:08X}": storage for k, storage in enumerate(files.values())}}}


def test_an_outlook_messages_attached_files_are_documents_of_their_own(tmp_path):
    # streams of 4,096 bytes or more: the test's compound files keep no mini stream
    notes, tabs = FILES[0][1] * 120, b"A tab\tseparated line.\n" * 200
    body = {"__substg1.0_1000001F": "Notes attached.".encode("utf-16-le"),
            "__attach_version1.0_#00000000": attachment("notes.txt", notes),
            "__attach_version1.0_#00000001": attachment(None, tabs, "ROWS.TXT"),
            "__attach_version1.0_#00000002": embedded(  # a message forwarded as attachment
                "Re: Osaka", "> Wei Chen works for Globex.\r\nNoted.",
                a=attachment("inner.txt", b"Ana Diaz lives in Lima.\n" * 200)),
            "__attach_version1.0_#00000004": {"__substg1.0_3701000D": {}},  # an OLE object
            "__attach_version1.0_#00000003": attachment("word97.doc",
                                                        (DATA / "word97.doc").read_bytes())}
    (tmp_path / "m.msg").write_bytes(message(body))
    assert [name for name, _ in msg_attachments(message(body))] == [
        "notes.txt", "ROWS.TXT", "Re: Osaka.eml", "word97.doc"]
    entries = list(read_inputs([tmp_path]))
    assert [(e.id, e.status) for e in entries] == [
        ("m.msg/notes.txt", "ok"), ("m.msg/ROWS.TXT", "ok"),
        ("m.msg/Re: Osaka.eml/inner.txt", "ok"), ("m.msg/Re: Osaka.eml", "ok"),
        ("m.msg/word97.doc", "ok"), ("m.msg", "ok")]
    assert entries[0].text == notes.decode() and entries[1].text == tabs.decode()
    assert entries[1].meta == {"attached_to": "m.msg"}
    assert entries[2].meta == {"attached_to": "m.msg/Re: Osaka.eml"}
    assert entries[3].text == "Re: Osaka\n\nWei Chen works for Globex.\n\nNoted."
    assert entries[3].meta == {"subject": "Re: Osaka", "attached_to": "m.msg"}
    assert entries[4].text == next(read_inputs([DATA / "word97.doc"])).text
    assert MsgInput.count(tmp_path / "m.msg") == 5  # the inner attachment: inside its message


def test_attachments_inside_an_archive_and_suffixes_in_any_case(tmp_path):
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("mail/q3.eml", mail(FILES[0]))
    (tmp_path / "c.zip").write_bytes(packed.getvalue())
    assert [e.id for e in read_inputs([tmp_path / "c.zip"])] == [
        "c.zip/mail/q3.eml/notes.txt", "c.zip/mail/q3.eml"]
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "SCAN.TXT").write_text("Wei Chen works for Globex.", encoding="utf-8")
    (folder / "Notes.Md").write_text("Ana **Diaz** lives in Lima.", encoding="utf-8")
    (folder / "photo.JPG").write_bytes(b"\xff\xd8")
    assert [e.id for e in read_inputs([folder])] == ["Notes.Md", "SCAN.TXT"]
    assert next(read_inputs([folder / "Notes.Md"])).text == "Ana   Diaz   lives in Lima."


def test_a_run_resumes_a_message_and_its_attachments(fixture_model, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "q3.eml").write_bytes(mail(FILES[0], FILES[4]))
    first = ExtractionRun([inputs], fixture_model, tmp_path / "run", progress=False).run()
    assert first.ok == 3
    manifest = tmp_path / "run" / "manifest.jsonl"
    assert [m["id"] for m in read_manifest(tmp_path / "run")] == [
        "q3.eml/notes.txt", "q3.eml/notes (2).txt", "q3.eml"]
    # unchanged: neither the message nor its attachments are read again
    again = ExtractionRun([inputs], fixture_model, tmp_path / "run", resume=True,
                          progress=False).run()
    assert again.unchanged == 1 and again.documents == 0
    # a run cut short after the attachments, before the message: the message is read again,
    # its unchanged attachments are not processed again
    lines = manifest.read_bytes().splitlines(keepends=True)
    manifest.write_bytes(b"".join(lines[:-1]))
    cut = ExtractionRun([inputs], fixture_model, tmp_path / "run", resume=True,
                        progress=False).run()
    assert cut.ok == 1 and cut.unchanged == 2
    (inputs / "q3.eml").write_bytes(mail(FILES[0]))  # one attachment fewer, the message new
    third = ExtractionRun([inputs], fixture_model, tmp_path / "run", resume=True,
                          progress=False).run()
    assert third.ok == 1 and third.unchanged == 1


def test_an_attached_archive_is_read_member_by_member(tmp_path):
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("docs/a.txt", "Wei Chen works for Globex.")
        archive.writestr("docs/inner.zip", b"PK\x05\x06" + bytes(18))  # not opened inside
    (tmp_path / "m.eml").write_bytes(mail(("docs.zip", packed.getvalue(), "application/zip")))
    entries = list(read_inputs([tmp_path / "m.eml"]))
    assert [(e.id, e.text) for e in entries[:1]] == [("m.eml/docs.zip/docs/a.txt",
                                                      "Wei Chen works for Globex.")]
    assert entries[0].meta == {"attached_to": "m.eml"} and entries[1].id == "m.eml"
    assert len(entries) == 2


def test_embedded_messages_are_read_within_a_budget(monkeypatch):
    """Storages of a hostile file may name each other over and over: one file reads at most
    ``_MAX_EMBEDDED`` embedded messages, however deep or wide."""
    from kgx.batch import outlook

    body = {"__substg1.0_1000001F": "Two forwarded.".encode("utf-16-le"),
            "__attach_version1.0_#00000000": embedded("First", "Wei Chen."),
            "__attach_version1.0_#00000001": embedded("Second", "Ana Diaz.")}
    assert [n for n, _ in msg_attachments(message(body))] == ["First.eml", "Second.eml"]
    monkeypatch.setattr(outlook, "_MAX_EMBEDDED", 1)
    assert [n for n, _ in msg_attachments(message(body))] == ["First.eml"]


def test_apple_mail_messages_are_read_as_the_message_they_wrap(tmp_path):
    """``.emlx`` (Apple Mail's store): the length line, the message, then a property list
    that is no part of it; the message's attachments come before it, as an ``.eml``'s."""
    raw = mail(FILES[0])
    plist = (b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>flags'
             b"</key><integer>8590195713</integer></dict></plist>\n")
    (tmp_path / "12345.emlx").write_bytes(f"{len(raw)}\n".encode() + raw + plist)
    (tmp_path / "12346.partial.emlx").write_bytes(b"junk\n" + raw)
    (tmp_path / "q3.eml").write_bytes(raw)
    found = {e.id: e for e in read_inputs([tmp_path])}
    assert found["12345.emlx"].text == found["q3.eml"].text == "Q3 notes\n\nNotes attached."
    assert found["12345.emlx"].meta == found["q3.eml"].meta
    assert found["12345.emlx/notes.txt"].text == "Wei Chen works for Globex in Osaka.\n"
    assert found["12346.partial.emlx"].error.endswith(
        "12346.partial.emlx: not an Apple Mail message (.emlx): its first line is not the "
        "message's length")
