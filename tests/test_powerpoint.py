"""kgx.batch.powerpoint: a PowerPoint 97-2003 deck is one document, its slides' text in deck
order, as the ``.pptx`` reader gives the same deck; a damaged, encrypted or foreign file is an
error naming it.

``tests/data/deck.ppt.gz`` and ``deck.pptx`` were written by LibreOffice Impress 7.4 ("MS
PowerPoint 97" and "PowerPoint 2007 XML" filters) from one two-slide .odp of this project's
text (a title and a body of two paragraphs; a title, a body and a box with Cyrillic, a dash and
accents), and ``deck.odp`` by Impress again from that ``.pptx``."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from pathlib import Path

import pytest

from helpers import cfb_bytes
from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.office import odp_text
from kgx.batch.powerpoint import PptError, ppt_text
from kgx.batch.reading import read_inputs
from kgx.batch.slides import pptx_text

DATA = Path(__file__).parent / "data"
TEXT = ("Quarterly review\n\nWei Chen works for Globex in Osaka.\n\nAna Diaz met John Smith in "
        "Lima.\n\nPartners\n\nMaria Lopez of Acme met Ivan Petrov in Paris.\n\nCaf\u00e9 in "
        "K\u00f6ln \u2014 \u041f\u0435\u0442\u0440\u043e\u0432")


def test_a_ppt_deck_reads_as_the_same_deck_as_pptx(tmp_path):
    deck = gzip.decompress((DATA / "deck.ppt.gz").read_bytes())
    assert ppt_text(deck)[0] == TEXT == pptx_text((DATA / "deck.pptx").read_bytes())[0]
    (tmp_path / "a.ppt").write_bytes(deck)
    (tmp_path / "b.ppt").write_bytes(b"not a deck")
    assert INPUT_FORMATS["ppt"].name == "ppt"
    entries = {e.id: e for e in read_inputs([tmp_path, DATA / "deck.ppt.gz"])}
    assert entries["a.ppt"].text == entries["deck.ppt.gz"].text == TEXT
    assert entries["b.ppt"].error == f"{tmp_path / 'b.ppt'}: not an OLE compound file"


def test_an_odp_presentation_reads_as_the_same_deck(tmp_path):
    """LibreOffice's own format, written by Impress from the .pptx: the same text; speaker
    notes (inside each page in ODF) follow their slide's text, as for .pptx."""
    assert odp_text((DATA / "deck.odp").read_bytes())[0] == TEXT
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"')
    page = ('<draw:page><draw:frame><draw:text-box><text:p>Wei Chen works for Globex.</text:p>'
            "</draw:text-box></draw:frame><presentation:notes><draw:frame><draw:text-box>"
            "<text:p>Say this slowly.</text:p></draw:text-box></draw:frame>"
            "</presentation:notes></draw:page>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("content.xml", f"<office:document-content {ns}><office:body>"
                         f"<office:presentation>{page * 2}</office:presentation></office:body>"
                         "</office:document-content>")
    (tmp_path / "notes.odp").write_bytes(out.getvalue())
    (tmp_path / "bad.odp").write_bytes(b"not a zip")
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["notes.odp"].text == "\n\n".join(
        ["Wei Chen works for Globex.", "Say this slowly."] * 2)
    assert entries["bad.odp"].error.endswith("bad.odp: not a zip file, so not an .odp")


def user_edit(at: int, last: int, directory: int) -> bytes:
    """A UserEditAtom at ``at``: its previous edit ``last``, its persist directory, doc id 1."""
    return struct.pack("<HHI", 0, 0x0FF5, 28) + struct.pack("<IHBBIIIIHH", 0, 0, 0, 3, last,
                                                             directory, 1, 2, 1, 0)


def test_damaged_and_encrypted_decks_are_refused():
    with pytest.raises(PptError, match="no PowerPoint Document stream inside"):
        ppt_text(cfb_bytes({"WordDocument": b"x"}))
    current = struct.pack("<HHI", 0, 0x0FF6, 20) + struct.pack("<IIIHHBB", 20, 0xF3D1C4DF, 0,
                                                                0, 0, 3, 0)
    with pytest.raises(PptError, match="encrypted with a password"):
        ppt_text(cfb_bytes({"PowerPoint Document": b"\0" * 64, "Current User": current}))
    # an edit whose previous edit is itself: a loop, found and refused
    stream = b"\0" * 8 + user_edit(8, 8, 44) + struct.pack("<HHI", 0, 0x1772, 0)
    current = current.replace(struct.pack("<I", 0xF3D1C4DF), struct.pack("<I", 0xE391C05F))
    current = current[:16] + struct.pack("<I", 8) + current[20:]
    with pytest.raises(PptError, match="its chain of edits loops"):
        ppt_text(cfb_bytes({"PowerPoint Document": stream, "Current User": current}))
    stream = b"\0" * 8 + user_edit(8, 0, 999)  # an empty directory: no document in it
    with pytest.raises(PptError, match="its persist directory does not hold the document"):
        ppt_text(cfb_bytes({"PowerPoint Document": stream, "Current User": current}))
    stream = b"\0" * 8 + user_edit(8, 0, 9999)  # a directory past the stream's end
    with pytest.raises(PptError, match="cut short or point outside"):
        ppt_text(cfb_bytes({"PowerPoint Document": stream, "Current User": current}))
