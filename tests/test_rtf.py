"""kgx.batch.rtf: an RTF file is one document, its body's paragraphs as a word processor shows
them (characters in their code pages, no tables of fonts or styles, no headers, hidden or
deleted text; footnotes after the body); a file that is not RTF is an error entry naming it;
a run's records point into the text ``read_document`` gives."""

from __future__ import annotations

import gzip
import random

import pytest
from test_batch import assert_read_as_plain_text

from helpers import load_benchmark
from kgx.batch import limits, read_document
from kgx.batch.html import html_text
from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.reading import read_inputs
from kgx.batch.rtf import MAX_DEPTH, RtfError, rtf_text

# what Word leaves: the font table wrapped in \upr (its Unicode copy in \*\ud), a Cyrillic font,
# the tables of colours, styles and revisions, \info, a running header, runs in their own
# groups, a footnote, hidden and deleted text, a hyperlink field, a list number, a table, a
# bookmark, a picture, an embedded object's shown result and \bin data holding braces
WORD = rb"""{\rtf1\adeflang1025\ansi\ansicpg1252\uc1\adeff0\deff0\stshfdbch0\deflang1033
{\upr{\fonttbl{\f0\fbidi \froman\fcharset0\fprq2{\*\panose 02020603050405020304}Times New Roman;}
{\f1\fbidi \fswiss\fcharset204\fprq2 Arial Cyr;}}{\*\ud{\fonttbl{\f0\fbidi \froman\fcharset0
\fprq2{\*\panose 02020603050405020304}Times New Roman;}{\f1\fbidi \fswiss\fcharset204\fprq2
Arial Cyr;}}}}{\colortbl;\red0\green0\blue0;}{\stylesheet{\ql \li0\ri0\widctlpar\rtlch\fcs1
\af0\afs24 \ltrch\fcs0 \fs24\lang1033 \snext0 \sqformat \spriority0 Normal;}}
{\*\rsidtbl \rsid1580\rsid2428}{\*\generator Microsoft Word 11.0.0;}{\info{\title Quarterly
 review}{\author Mar\'eda L\u243\'3fpez}{\operator Maria}{\creatim\yr2026\mo11\dy2\hr9\min30}
{\revtim\yr2026\mo11\dy3\hr10\min5}{\version2}{\edmins1}{\nofpages1}}
{\header \pard\plain Page header text\par}
\pard\plain \ltrpar\ql \rtlch\fcs1 \af0 \ltrch\fcs0 {\rtlch\fcs1 \af0 \ltrch\fcs0
\insrsid1580 Wei Chen works for Glo}{\b bex} in Osaka.{\super\chftn}{\footnote \pard\plain
{\super\chftn} A footnote.\par}\par
\pard {Ana Diaz \'26 John Smith live in Lima \endash  caf\'e9 na\u239\'3fve \u-10179\'3f\u-8704
\'3f.}{\v hidden text}{\deleted formerly Initech }\par
{\field{\*\fldinst {HYPERLINK "http://example.com"}}{\fldrslt {\cs15\ul Acme Corp}}} met {\f1
\'cf\'e5\'f2\'f0\'ee\'e2} in Paris.\line Second\~line\tab tab\-bed, non\_breaking \{x\} \\.\par
{\listtext\pard\plain 1.\tab}Item one\par
\trowd \cellx4000\cellx8000 \pard\intbl Prepared by\cell Analytics team\cell \row
{\*\bkmkstart x}{\*\bkmkend x}{\pict\pngblip 89504e47}{\object\objemb{\*\objclass Word}
{\*\objdata 0102}{\result Result text}}\par
{\bin4 {{{}after the data\par}
}
after the document"""
TEXT = ("Wei Chen works for Globex in Osaka.\n\nAna Diaz & John Smith live in Lima \u2013 caf\u00e9"
        " na\u00efve \U0001f600.\n\nAcme Corp met \u041f\u0435\u0442\u0440\u043e\u0432 in Paris."
        "\nSecond\u00a0line\ttabbed, non-breaking {x} \\.\n\nItem one\n\nPrepared by\n\nAnalytics "
        "team\n\nResult text\n\nafter the data\n\nA footnote.")
META = {"title": "Quarterly review", "author": "Mar\u00eda L\u00f3pez",
        "created": "2026-11-02T09:30", "modified": "2026-11-03T10:05"}


def test_rtf_read_as_a_word_processor_shows_it():
    assert rtf_text(WORD) == (TEXT, META)
    # line breaks of the file inside text are not text, a \ line break is a paragraph's end
    assert rtf_text(b"{\\rtf1 one\r\n two\\\r\nthree}")[0] == "one two\n\nthree"
    # no \ansicpg: Windows-1252; \mac and \pc: their code pages; \cpg of a font wins
    assert rtf_text(b"{\\rtf1 \\'93quoted\\'94}")[0] == "\u201cquoted\u201d"
    assert rtf_text(b"{\\rtf1\\mac \\'8e}")[0] == "\u00e9"
    assert rtf_text(b"{\\rtf1\\pc \\'82}")[0] == "\u00e9"
    assert rtf_text(b"{\\rtf1{\\fonttbl{\\f3\\cpg1253 Greek;}}\\f3 \\'e1}")[0] == "\u03b1"


def test_double_byte_code_pages_and_unicode_fallbacks():
    japanese = (b"{\\rtf1\\ansi\\ansicpg932{\\fonttbl{\\f0\\fcharset128 MS Mincho;}}\\f0 "
                b"\\'82\\'a0\\uc2\\u12356\\'82\\'a2\\'82\\'a4}")
    assert rtf_text(japanese)[0] == "\u3042\u3044\u3046"  # あ い (its fallback skipped) う
    # \uc0: no fallback; a fallback cut by the group's end stops there; a lone half is U+FFFD
    assert rtf_text(b"{\\rtf1\\uc0\\u8364 x}")[0] == "\u20acx"
    assert rtf_text(b"{\\rtf1\\uc3{\\u8364\\'3f}x}")[0] == "\u20acx"
    assert rtf_text(b"{\\rtf1 a\\u-10179\\'3f b}")[0] == "a\ufffd b"
    assert rtf_text(b"{\\rtf1 \\u-99999?\\u70000?\\u9999999999?}")[0] == "\ufffd" * 3
    assert rtf_text(b"{\\rtf1{\\info{\\title \\u-10179?\\u-8704?}}x}")[1] == {"title": "\U0001f600"}


def test_not_rtf_and_hostile_rtf_are_refused():
    with pytest.raises(RtfError, match=r"does not start with \{\\rtf: not an RTF file"):
        rtf_text(b"Just text in a file named .rtf")
    with pytest.raises(RtfError, match=f"groups nested deeper than {MAX_DEPTH}"):
        rtf_text(b"{\\rtf1 " + b"{" * (MAX_DEPTH + 1) + b"x")
    assert rtf_text(b"{\\rtf1 " + b"{" * (MAX_DEPTH - 1) + b"deep")[0] == "deep"
    # a file cut short keeps its text; a \bin longer than the file ends it; a stray backslash
    assert rtf_text(b"{\\rtf1 Wei Chen works\\par for Glo")[0] == "Wei Chen works\n\nfor Glo"
    assert rtf_text(b"{\\rtf1 a\\bin99 b}")[0] == "a"
    assert rtf_text(b"{\\rtf1 a\\'zz b\\")[0] == "a'zz b"


def test_rtf_files_in_a_run(tmp_path, monkeypatch):
    (tmp_path / "a.rtf").write_bytes(WORD)
    (tmp_path / "b.rtf.gz").write_bytes(gzip.compress(WORD))
    (tmp_path / "c.rtf").write_bytes(b"Not RTF at all")
    (tmp_path / "d.rtf").write_bytes(b"{\\rtf1 " + b"{" * 2000)
    (tmp_path / "e.rtf").write_bytes(b"{\\rtf1 " + b"Globex. " * 10_000 + b"}")
    (tmp_path / "f.rtf").write_bytes(b"{\\rtf1{\\info{\\title Empty}}}")
    (tmp_path / "z.txt").write_text("after them", encoding="utf-8")
    assert INPUT_FORMATS["rtf"].name == "rtf"
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 40_000)
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["a.rtf"].status == "ok" and entries["a.rtf"].text == TEXT
    assert entries["a.rtf"].meta == META
    assert entries["b.rtf.gz"].text == TEXT
    assert read_document(tmp_path / "a.rtf") == TEXT
    where = {name: str(tmp_path / name) for name in entries}
    assert entries["c.rtf"].error == (
        f"{where['c.rtf']}: does not start with {{\\rtf: not an RTF file")
    assert entries["d.rtf"].error.startswith(f"{where['d.rtf']}: groups nested deeper than")
    assert limits.is_over_limit(entries["e.rtf"].error)
    assert entries["e.rtf"].error.startswith(where["e.rtf"])
    assert entries["f.rtf"].status == "skipped"
    assert entries["z.txt"].text == "after them"


def test_the_conll04_style_records_read_back(tmp_path):
    """Word's way of writing runs, footnotes, hidden and deleted text, any character: the
    paragraphs come back exactly (``benchmarks/eval_docx.py`` does this on the dev corpus)."""
    w = load_benchmark("eval_docx")
    rng = random.Random(3)
    records = ["Wei Chen works for Globex in Osaka.", "Caf\u00e9 {x} \\ back \u2013 \U0001f600 "
               "\u041f\u0435\u0442\u0440\u043e\u0432 in \u6771\u4eac.", "Ana Diaz lives in Lima.",
               "1990s: the Fourth record.", "Fifth."]
    data = w.rtf_bytes([w.rtf_escape("Report 1")]
                       + [w.as_rtf_runs(t, rng, j) for j, t in enumerate(records)],
                       "Report 1", ("Prepared by", "Analytics team"))
    text, meta = rtf_text(data)
    assert text == "\n\n".join(["Report 1", *records, "Prepared by", "Analytics team",
                                "A footnote.", "A footnote."])  # records 0 and 3's, after it
    assert meta == {"title": "Report 1", "author": "Maria Lopez", "created": "2026-11-02T09:30"}


def test_an_rtf_files_records_point_into_its_text(fixture_model, tmp_path):
    """A run over an RTF file gives the records of its text read as plain text, offsets too."""
    w = load_benchmark("eval_docx")
    paragraphs = ["Wei Chen works for Globex in Osaka.", "Maria Lopez of Acme met Ivan Petrov "
                  "in Paris.", "Ana Diaz and John Smith live in Lima."]
    data = w.rtf_bytes([w.as_rtf_runs(p, random.Random(k), k) for k, p in enumerate(paragraphs)])
    assert_read_as_plain_text(fixture_model, tmp_path, "note.rtf", data, "\n\n".join(paragraphs))


def test_html_encapsulated_in_rtf_is_read_as_the_html():
    """Outlook keeps an HTML mail's body as RTF that encapsulates the HTML ([MS-OXRTFEX],
    ``\\fromhtml1``): the tags in ``\\*\\htmltag`` groups, text between ``\\htmlrtf`` and
    ``\\htmlrtf0`` RTF's rendering only, a line break of the HTML's source written as a blank
    line of the file. Read as that HTML is (a real Outlook message's body read this way is its
    HTML body's text exactly: BENCHMARKS.md, *E-mail*)."""
    rtf = (b"{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}\r\n"
           b"{\\*\\htmltag19 <html>}\r\n{\\*\\htmltag2 \\par }\r\n{\\*\\htmltag34 <head>}\r\n"
           b"{\\*\\htmltag161 <title>}\\htmlrtf {\\htmlrtf0 Q3\\htmlrtf }\\htmlrtf0 \r\n"
           b"{\\*\\htmltag169 </title>}\r\n{\\*\\htmltag41 </head>}\r\n"
           b"{\\*\\htmltag50 <body>}\\htmlrtf \\lang1033 \\htmlrtf0 \r\n"
           b"{\\*\\htmltag64 <p>}\\htmlrtf {\\htmlrtf0 Wei Chen works for\r\n\r\n"
           b"{\\*\\htmltag84 <b>}\\htmlrtf {\\b \\htmlrtf0 Globex\r\n"
           b"{\\*\\htmltag92 </b>}\\htmlrtf }\\htmlrtf0  in Osaka \\'96 caf\\'e9"
           b"{\\*\\htmltag84 &nbsp;}\\htmlrtf \\'a0\\htmlrtf0 too.\r\n"
           b"{\\*\\htmltag72 </p>}\\htmlrtf \\par }\\htmlrtf0 \r\n"
           b"{\\*\\htmltag64 <p>}\\htmlrtf {\\htmlrtf0 Ana Diaz \\u-10179?\\u-8697? lives in Lima."
           b"\r\n{\\*\\htmltag72 </p>}\\htmlrtf \\par }\\htmlrtf0 \r\n"
           b"{\\*\\htmltag58 </body>}\r\n{\\*\\htmltag27 </html>}}")
    html = ("<html>\r\n<head><title>Q3</title></head><body><p>Wei Chen works for\r\n<b>Globex"
            "</b> in Osaka \u2013 caf\u00e9&nbsp;too.</p><p>Ana Diaz \U0001f607 lives in Lima.</p>"
            "</body></html>")
    text, _ = rtf_text(rtf)
    assert text == html_text(html) and "Globex in Osaka" in text and "for Globex" in text
