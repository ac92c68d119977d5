"""Notes are text too: a document's footnotes and endnotes follow its body (``.docx``, ``.doc``,
``.rtf``, ``.odt``), each paragraph one of its own, never inline where they would cut the
sentence they mark; a slide's speaker notes follow its text (``.pptx``, ``.ppt``, ``.odp``).
Text given twice in a file (a text box and its fallback) is read once.

The files were written by LibreOffice 7.4 from this project's own text: ``notes.*`` from one
flat OpenDocument text with two footnotes (one of two paragraphs) and an endnote
(``soffice --convert-to docx``, ``doc``, ``rtf``, ``odt``), ``speaker.*`` from one flat
OpenDocument presentation of three slides, the first and third with speaker notes
(``pptx``, ``ppt``, ``odp``; the ``.ppt`` gzipped); ``notes.fodt.gz`` and ``speaker.fodp.gz``
are LibreOffice's flat (one-XML) files of ``notes.docx`` and ``speaker.pptx``."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from kgx.batch.powerpoint import ppt_text
from kgx.batch.reading import read_inputs
from kgx.batch.rtf import rtf_text

DATA = Path(__file__).parent / "data"
NOTES = ("Wei Chen works for Globex in Osaka. He met Ana Diaz there.\n\nMaria Lopez of Acme "
         "lives in Paris.\n\nIvan Petrov visited Kyiv.\n\nGlobex moved its office to Kyoto in "
         "2024.\n\nAcme is based in Lyon.\n\nA second paragraph of the note.\n\nIvan Petrov works "
         "for Initech.")
SPEAKER = ("Globex in Osaka\n\nWei Chen works for Globex.\n\nSay that Wei Chen joined Globex in "
           "2019.\n\nAna Diaz leads the Osaka office.\n\nAcme in Paris\n\nInitech\n\nIvan Petrov "
           "works for Initech in Kyiv.")


@pytest.mark.parametrize("suffix", ["docx", "doc", "rtf", "odt", "fodt.gz"])
def test_footnotes_then_endnotes_follow_the_body(suffix):
    [entry] = read_inputs([DATA / f"notes.{suffix}"])
    assert entry.status == "ok" and entry.text == NOTES


@pytest.mark.parametrize("suffix", ["pptx", "odp", "ppt.gz", "fodp.gz"])
def test_speaker_notes_follow_their_slide(suffix):
    [entry] = read_inputs([DATA / f"speaker.{suffix}"])
    assert entry.status == "ok" and entry.text == SPEAKER
    if suffix == "ppt.gz":
        assert ppt_text(gzip.decompress((DATA / "speaker.ppt.gz").read_bytes()))[0] == SPEAKER


def test_words_rtf_notes_and_endnotes():
    """Word writes ``{\\footnote`` (LibreOffice ``{\\*\\footnote``); ``\\ftnalt`` makes an
    endnote; a note inside a paragraph does not cut it."""
    rtf = (rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\pard Wei Chen works for Globex."
           rb"{\super\chftn}{\footnote\pard\plain{\super\chftn} Globex is in Osaka.\par"
           rb" Its second paragraph.}"
           rb" He met Ana Diaz.{\super\chftn}{\footnote\ftnalt\pard\plain An endnote.}\par"
           rb" Next paragraph.{\footnote\pard A second footnote.}\par}")
    assert rtf_text(rtf)[0] == (
        "Wei Chen works for Globex. He met Ana Diaz.\n\nNext paragraph.\n\nGlobex is in Osaka."
        "\n\nIts second paragraph.\n\nA second footnote.\n\nAn endnote.")


@pytest.mark.parametrize("suffix", ["docx", "odt", "doc", "rtf"])
def test_a_text_box_is_read_once(suffix):
    """``box.*``: LibreOffice's files of a paragraph holding a text box. Word-format files
    keep a text box twice (``mc:AlternateContent``: DrawingML, then its VML fallback): its
    text comes once, before the paragraph it is anchored in; ``.doc`` and ``.rtf`` keep it
    apart from the body (a story of its own, a shape's ``\\shptxt``): after the body."""
    [entry] = read_inputs([DATA / f"box.{suffix}"])
    box, body = "Globex moved to Kyoto in 2024.", ("Wei Chen works for Globex in Osaka.\n\n"
                                                 "Maria Lopez of Acme lives in Paris.")
    assert entry.text == (f"{box}\n\n{body}" if suffix in ("docx", "odt") else f"{body}\n\n{box}")


def test_words_rtf_shape_text_once():
    """Word writes a text box as a shape (``\\shpinst`` with its ``\\shptxt``) and again as
    the fallback for readers without shapes (``\\shprslt``): read once."""
    rtf = (rb"{\rtf1\ansi\pard Wei Chen works for Globex.{\shp{\*\shpinst{\sp{\sn shapeType}"
           rb"{\sv 202}}{\shptxt \pard Globex is in Osaka.\par}}{\shprslt{\*\do\dobxcolumn"
           rb"{\dptxbxtext \pard Globex is in Osaka.\par}}}}\par}")
    assert rtf_text(rtf)[0] == "Wei Chen works for Globex.\n\nGlobex is in Osaka."


def test_a_slides_shape_given_twice_is_read_once():
    import io
    import re
    import zipfile

    from helpers import load_benchmark
    from kgx.batch.slides import pptx_text

    deck = load_benchmark("eval_docx").pptx_bytes([["<a:r><a:t>Wei Chen works for Globex."
                                                    "</a:t></a:r>"]])
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(deck)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info).decode()
            if info.filename == "ppt/slides/slide1.xml":
                body = re.search(r'<p:sp><p:nvSpPr><p:cNvPr id="2" name="body"/>.*?</p:sp>', data)
                assert body is not None
                data = data.replace(body[0], f'<mc:AlternateContent xmlns:mc="{mc}"><mc:Choice '
                                    f'Requires="p14">{body[0]}</mc:Choice><mc:Fallback>{body[0]}'
                                    "</mc:Fallback></mc:AlternateContent>")
            dst.writestr(info, data)
    assert pptx_text(out.getvalue())[0] == ("Slide 1\n\nWei Chen works for Globex.\n\nPrepared by"
                                            "\n\nAnalytics team")
