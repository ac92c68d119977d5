"""kgx.batch.outlook: an Outlook ``.msg`` file is one document, its subject and body as the
``.eml`` reader gives them (plain body, else HTML, else compressed RTF), its sender,
recipients, date and id as the same metadata; a file that is not a message is an error entry
naming it. The messages here are compound files written by ``helpers.cfb_bytes``; real
Outlook files were checked with ``benchmarks/eval_msg.py`` (BENCHMARKS.md)."""

from __future__ import annotations

import datetime
import struct

import pytest

from helpers import cfb_bytes
from kgx.batch import read_document
from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.outlook import MsgError, decompressed_rtf, msg_text
from kgx.batch.reading import read_inputs

# 2025-10-27 10:00:00 UTC, as MAPI keeps times: 100 ns since 1601
WHEN = (datetime.datetime(2025, 10, 27, 10) - datetime.datetime(1601, 1, 1)) // (
    datetime.timedelta(microseconds=1)) * 10


def properties(*fixed: tuple[int, int, bytes]) -> bytes:
    """A top-level message's ``__properties_version1.0``: a 32-byte header, then each
    fixed-size property (id, type, 8 bytes of value)."""
    return b"\0" * 32 + b"".join(struct.pack("<II", prop << 16 | kind, 6) + value.ljust(8, b"\0")
                                 for prop, kind, value in fixed)


def message(body: dict[str, bytes], codepage: int = 1252) -> bytes:
    streams = {"__properties_version1.0": properties(
        (0x0039, 0x0040, struct.pack("<Q", WHEN)), (0x3FFD, 0x0003, struct.pack("<I", codepage))),
        "__substg1.0_0037001F": "Caf\u00e9 in Osaka".encode("utf-16-le"),
        "__substg1.0_0C1A001F": "Maria Lopez".encode("utf-16-le"),
        "__substg1.0_5D01001F": "maria@acme.example".encode("utf-16-le"),
        "__substg1.0_0E04001F": "Wei Chen; Ana Diaz".encode("utf-16-le"),
        "__substg1.0_1035001F": "<1@acme.example>".encode("utf-16-le")}
    return cfb_bytes({**streams, **body})


def lzfu(raw: bytes) -> bytes:
    """``raw`` compressed as [MS-OXRTFCP] allows most simply: every byte a literal, then the
    end token (a reference to where the next byte would be written)."""
    body = bytearray()
    for at in range(0, len(raw), 8):
        body += b"\0" + raw[at:at + 8]
    end = (207 + len(raw)) % 4096
    body += bytes([1]) + struct.pack(">H", end << 4) if len(raw) % 8 == 0 else b""
    if len(raw) % 8:  # the end token in the last group's free slot
        free = len(raw) % 8
        body[-(free + 1)] = 1 << free
        body += struct.pack(">H", end << 4)
    return struct.pack("<IIII", len(body) + 12, len(raw), 0x75465A4C, 0) + bytes(body)


META = {"subject": "Caf\u00e9 in Osaka", "from": "Maria Lopez <maria@acme.example>",
        "to": "Wei Chen; Ana Diaz", "date": "Mon, 27 Oct 2025 10:00:00 +0000",
        "message-id": "<1@acme.example>"}


def test_outlook_messages_read_as_mail_is():
    plain = message({"__substg1.0_1000001F": ("Wei Chen works for Globex.\r\n\r\n> Ana Diaz "
                                              "lives in\r\n> Lima.\r\n").encode("utf-16-le")})
    assert msg_text(plain) == ("Caf\u00e9 in Osaka\n\nWei Chen works for Globex.\n\nAna Diaz "
                               "lives in\nLima.", META)
    html = message({"__substg1.0_10130102": (
        '<html><head><meta charset="windows-1252"></head><body><p>Wei Chen works for '
        "Glo<b>bex</b> in K\xf6ln.</p><p>Ana Diaz lives in Lima.</p></body></html>"
    ).encode("cp1252")})
    assert msg_text(html)[0] == ("Caf\u00e9 in Osaka\n\nWei Chen works for Globex in K\u00f6ln."
                                 "\n\nAna Diaz lives in Lima.")
    rtf = b"{\\rtf1\\ansi Wei Chen works for Glo{\\b bex} in K\\'f6ln.\\par Ana Diaz.\\par}"
    for stored in (lzfu(rtf), struct.pack("<IIII", len(rtf) + 12, len(rtf), 0x414C454D, 0)
                   + rtf):
        assert decompressed_rtf(stored) == rtf
        assert msg_text(message({"__substg1.0_10090102": stored}))[0] == (
            "Caf\u00e9 in Osaka\n\nWei Chen works for Globex in K\u00f6ln.\n\nAna Diaz.")
    # 8-bit strings in the message's code page; an empty body: the subject alone
    cyrillic = message({"__substg1.0_1000001E": "\u041f\u0440\u0438\u0432\u0435\u0442".encode(
        "cp1251")}, codepage=1251)
    assert msg_text(cyrillic)[0] == "Caf\u00e9 in Osaka\n\n\u041f\u0440\u0438\u0432\u0435\u0442"
    assert msg_text(message({}))[0] == "Caf\u00e9 in Osaka"


def test_the_specifications_example():
    """[MS-OXRTFCP] section 3.1.1, "Example 1: Simple Compressed RTF": literals and
    back-references into the dictionary seeded with common RTF."""
    compressed = bytes.fromhex(
        "2d0000002b0000004c5a4675f1c5c7a703000a00726370673132354232"
        "0af32068656c090020627705b06c647d0a800fa0")
    assert decompressed_rtf(compressed) == b"{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"


def test_messages_in_a_run(tmp_path):
    body = {"__substg1.0_1000001F": "Wei Chen works for Globex.".encode("utf-16-le")}
    (tmp_path / "a.msg").write_bytes(message(body))
    (tmp_path / "b.msg").write_bytes(b"Subject: not Outlook's\n\nhello")
    (tmp_path / "c.msg").write_bytes(cfb_bytes({"WordDocument": b"\xec\xa5"}))
    (tmp_path / "d.msg").write_bytes(message({"__substg1.0_10090102": struct.pack(
        "<IIII", 12, 0, 0x31465A4C, 0)}))  # "LZF1": no compression MS-OXRTFCP knows
    assert INPUT_FORMATS["msg"].name == "msg"
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["a.msg"].text == "Caf\u00e9 in Osaka\n\nWei Chen works for Globex."
    assert entries["a.msg"].meta == META
    assert read_document(tmp_path / "a.msg") == entries["a.msg"].text
    where = {name: str(tmp_path / name) for name in entries}
    assert entries["b.msg"].error == f"{where['b.msg']}: not an OLE compound file"
    assert entries["c.msg"].error == (
        f"{where['c.msg']}: no __properties_version1.0 stream inside: not an Outlook message")
    assert entries["d.msg"].error == (
        f"{where['d.msg']}: its RTF body is compressed in a way kgx does not know")
    with pytest.raises(MsgError, match="its compressed RTF body is cut short"):
        decompressed_rtf(b"LZFu")
    with pytest.raises(MsgError, match="password-protected"):
        msg_text(cfb_bytes({"EncryptedPackage": b"x"}))


def test_a_replys_quoted_header_lines_are_read_as_the_quoted_messages_headers():
    """Outlook's "-----Original Message-----" block, as its plain and its HTML body give it:
    the quoted message's subject a paragraph, its From/Sent/To lines left out (they ran into
    each other: "Smith, John\\nSubject" was one name)."""
    reply = ("Sounds good.\r\n\r\nJohn\r\n\r\n-----Original Message-----\r\nFrom: Lopez, Maria\r\n"
             "Sent: Monday, May 14, 2001 4:39 PM\r\nTo: Smith, John\r\nSubject: Trip\r\n\r\n"
             "Wei Chen works for Globex.\r\n")
    expected = "Caf\u00e9 in Osaka\n\nSounds good.\n\nJohn\n\nTrip\n\nWei Chen works for Globex."
    assert msg_text(message({"__substg1.0_1000001F": reply.encode("utf-16-le")}))[0] == expected
    html = ("<p>Sounds good.</p><p>John</p><div><hr><p><b>From:</b> Lopez, Maria<br><b>Sent:</b> "
            "Monday, May 14, 2001 4:39 PM<br><b>To:</b> Smith, John<br><b>Subject:</b> Trip</p>"
            "</div><p>Wei Chen works for Globex.</p>")
    assert msg_text(message({"__substg1.0_10130102": html.encode()}))[0] == expected
