"""Office documents: does kgx read a .docx (.odt) file as the text Word (LibreOffice) shows?
(issue 19: documents as users have them)

This script writes the raw documents of K dev records (``kgx evaluate --as-documents K``) as
.docx files the way Word leaves them: a heading, each record a paragraph whose runs are cut at
random places, inside words too (Word splits runs at every formatting change, spell check and
edit), a tracked insertion in every third record and a tracked deletion in every fourth (text
that Word no longer shows), and a table at the end; and as .odt files (spans cut at random
places, a footnote in every third record, whose text comes after the body, a tracked
deletion); as EPUB books (the records as paragraphs of two chapters, a cover out of the
reading order, a navigation document); and as .rtf files the way Word writes them (font,
colour and style tables, a running header, formatting groups cut at random places, a footnote
in every third record, hidden and deleted text in every fourth, characters as ``\\'hh`` and
``\\uN``). It checks that ``kgx.batch.office``, ``kgx.batch.epub`` and ``kgx.batch.rtf`` give
back exactly the records' text from all four (the heading, the paragraphs, the table's cells;
then the footnotes), runs the pipeline on the same records as plain paragraphs and on the
files as kgx reads them, and prints NER and relation strict P/R/F1 by character offsets, what
reading costs, and what kgx's text reader said of the files before (no input format).

    python benchmarks/eval_docx.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5 [--soffice soffice]

With ``--soffice``, the .docx files are also converted by LibreOffice to Word 97 ``.doc``, to
``.rtf`` and to a ``.docx`` of its own writing, and copies without tracked changes to ``.odt``,
``.html`` and ``.epub``, and each is read back by kgx's reader of that format: files of a real
writer.
"""

from __future__ import annotations

import io
import os
import random
import zipfile
from xml.sax.saxutils import escape

os.environ.setdefault("HF_HUB_OFFLINE", "1")

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DELETED = "formerly known as Initech "


def run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def docx_bytes(paragraphs: list[str], title: str = "", cells: tuple[str, ...] = ()) -> bytes:
    """A minimal .docx: each paragraph's XML (runs) as given, then a one-row table of
    ``cells``; ``title`` in its core properties."""
    body = "".join(f"<w:p>{p}</w:p>" for p in paragraphs)
    if cells:
        body += "<w:tbl><w:tr>" + "".join(f"<w:tc><w:p>{run(c)}</w:p></w:tc>"
                                          for c in cells) + "</w:tr></w:tbl>"
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<w:document xmlns:w="{W_NS}"><w:body>{body}<w:sectPr/></w:body></w:document>')
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
            'terms/"><dc:title>' + escape(title) + "</dc:title><dc:creator>Maria Lopez"
            "</dc:creator></cp:coreProperties>")
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
             '.org/package/2006/content-types"><Default Extension="rels" ContentType="application'
             '/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
             'ContentType="application/xml"/><Override PartName="/word/document.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
             'document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http'
            '://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", document)
        archive.writestr("docProps/core.xml", core)
    return out.getvalue()


ODT_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"')


def odt_bytes(paragraphs: list[str], title: str = "", cells: tuple[str, ...] = (),
              deleted: str = "", style: str = "", styles: str = "") -> bytes:
    """A minimal .odt: a heading-free list of paragraphs' XML (spans), a one-row table of
    ``cells``, ``deleted`` as a tracked deletion; ``title`` in its metadata; ``style``: the
    paragraphs' properties (``style:paragraph-properties`` and ``style:text-properties``);
    ``styles``: more automatic styles (``style:style`` elements) for the spans."""
    styled = ' text:style-name="P1"' if style else ""
    body = "".join(f"<text:p{styled}>{p}</text:p>" for p in paragraphs)
    if cells:
        body += "<table:table><table:table-row>" + "".join(
            f"<table:table-cell><text:p>{escape(c)}</text:p></table:table-cell>"
            for c in cells) + "</table:table-row></table:table>"
    if deleted:
        body = ("<text:tracked-changes><text:changed-region><text:deletion><text:p>"
                f"{escape(deleted)}</text:p></text:deletion></text:changed-region>"
                "</text:tracked-changes>" + body)
    if style:
        styles = f'<style:style style:name="P1" style:family="paragraph">{style}</style:style>' + (
            styles)
    automatic = f"<office:automatic-styles>{styles}</office:automatic-styles>" if styles else ""
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODT_NS}>'
               f"{automatic}<office:body><office:text>{body}</office:text></office:body>"
               "</office:document-content>")
    meta = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {ODT_NS}><office:meta>'
            f"<dc:title>{escape(title)}</dc:title><meta:initial-creator>Maria Lopez"
            "</meta:initial-creator></office:meta></office:document-meta>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text",
                         compress_type=zipfile.ZIP_STORED)  # first and stored, as ODF says
        archive.writestr("content.xml", content)
        archive.writestr("meta.xml", meta)
        archive.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:'
            'names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.'
            'oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" '
            'manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="meta.xml" '
            'manifest:media-type="text/xml"/></manifest:manifest>'))
    return out.getvalue()


def epub_bytes(chapters: list[str], title: str = "", author: str = "") -> bytes:
    """A minimal EPUB 3: each chapter's XHTML body as given, a cover page out of the reading
    order (``linear="no"``), a navigation document and a stylesheet outside the spine."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # first, stored
        z.writestr("META-INF/container.xml", (
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:'
            'opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
            'media-type="application/oebps-package+xml"/></rootfiles></container>'))
        items = ['<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
                 'properties="nav"/>', '<item id="css" href="style.css" media-type="text/css"/>',
                 '<item id="cover" href="cover.xhtml" media-type="application/xhtml+xml"/>']
        spine = ['<itemref idref="cover" linear="no"/>']
        page = ('<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/'
                'xhtml"><head><title>{t}</title><link rel="stylesheet" href="style.css"/>'
                '</head><body>{b}</body></html>')
        for n, body in enumerate(chapters, 1):
            items.append(f'<item id="c{n}" href="text/chapter%20{n}.xhtml" '
                         'media-type="application/xhtml+xml"/>')
            spine.append(f'<itemref idref="c{n}"/>')
            z.writestr(f"OEBPS/text/chapter {n}.xhtml", page.format(t=f"Chapter {n}", b=body))
        z.writestr("OEBPS/cover.xhtml", page.format(t="Cover", b="<p>COVER PAGE</p>"))
        z.writestr("OEBPS/nav.xhtml", page.format(t="Contents", b="<nav><ol><li>TOC</li></ol>"
                                                                    "</nav>"))
        z.writestr("OEBPS/style.css", "p { margin: 0 }")
        z.writestr("OEBPS/content.opf", (
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
            'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:identifier id="id">urn:x</dc:identifier><dc:title>{escape(title)}</dc:title>'
            f'<dc:creator>{escape(author)}</dc:creator><dc:language>en</dc:language>'
            '<dc:date>2026-11-02</dc:date></metadata>'
            f'<manifest>{"".join(items)}</manifest><spine>{"".join(spine)}</spine></package>'))
    return out.getvalue()


def a_run(text: str) -> str:
    """A PowerPoint (DrawingML) run of ``text``."""
    return f"<a:r><a:t>{escape(text)}</a:t></a:r>"


def pptx_bytes(slides: list[list[str]], title: str = "", footer: str = "") -> bytes:
    """A minimal .pptx: each slide a title and a body text box of the given paragraphs (each
    paragraph's runs as given: ``a_run``), a table of two cells on
    the last, and ``footer`` in each slide's footer placeholder."""
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    def shape(paragraphs: list[str], kind: str = "body") -> str:
        body = "".join(f"<a:p>{x}</a:p>" for x in paragraphs)
        return (f'<p:sp><p:nvSpPr><p:cNvPr id="2" name="{kind}"/><p:cNvSpPr/><p:nvPr>'
                f'<p:ph type="{kind}"/></p:nvPr></p:nvSpPr><p:txBody><a:bodyPr/>{body}'
                "</p:txBody></p:sp>")

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        ids, rels = [], []
        for n, paragraphs in enumerate(slides, 1):
            ids.append(f'<p:sldId id="{255 + n}" r:id="rId{n + 1}"/>')
            rels.append(f'<Relationship Id="rId{n + 1}" Type="{r}/slide" '
                        f'Target="slides/slide{n}.xml"/>')
            table = ("<p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr><a:tc><a:txBody>"
                     "<a:p><a:r><a:t>Prepared by</a:t></a:r></a:p></a:txBody></a:tc><a:tc>"
                     "<a:txBody><a:p><a:r><a:t>Analytics team</a:t></a:r></a:p></a:txBody>"
                     "</a:tc></a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>"
                     if n == len(slides) else "")
            number = f'<a:fld type="slidenum"><a:t>{n}</a:t></a:fld>'
            shapes = (shape([a_run(f"Slide {n}")], "title") + shape(paragraphs) + table
                      + shape([a_run(footer)], "ftr") + shape([number], "sldNum"))
            z.writestr(f"ppt/slides/slide{n}.xml", (
                f'<?xml version="1.0"?><p:sld xmlns:a="{a}" xmlns:p="{p}" xmlns:r="{r}"><p:cSld>'
                f"<p:spTree>{shapes}</p:spTree></p:cSld></p:sld>"))
        z.writestr("ppt/presentation.xml", (
            f'<?xml version="1.0"?><p:presentation xmlns:p="{p}" xmlns:r="{r}"><p:sldIdLst>'
            f'{"".join(ids)}</p:sldIdLst></p:presentation>'))
        z.writestr("ppt/_rels/presentation.xml.rels", (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{"".join(rels)}</Relationships>'))
        z.writestr("docProps/core.xml", (
            '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.'
            'org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/'
            f'1.1/"><dc:title>{escape(title)}</dc:title></cp:coreProperties>'))
    return out.getvalue()


RTF_HEAD = (
    r"{\rtf1\adeflang1025\ansi\ansicpg1252\uc1\adeff0\deff0\stshfdbch0\stshfloch0\stshfhich0"
    r"\deflang1033\deflangfe1033{\fonttbl{\f0\fbidi \froman\fcharset0\fprq2{\*\panose "
    "02020603050405020304}Times New Roman;}\n{\\f1\\fbidi \\fswiss\\fcharset204\\fprq2 Arial "
    r"Cyr;}}{\colortbl;\red0\green0\blue0;}{\stylesheet{\ql \li0\ri0\widctlpar\rtlch\fcs1 "
    r"\af0\afs24 \ltrch\fcs0 \fs24\lang1033 \snext0 \sqformat \spriority0 Normal;}}"
    r"{\*\rsidtbl \rsid1580\rsid2428}{\*\generator Microsoft Word 11.0.0;}")


def rtf_escape(text: str) -> str:
    """``text`` as Word writes it in RTF: Windows-1252 characters as ``\\'hh``, others as
    ``\\uN`` with a ``?`` fallback (two for a character outside the BMP)."""
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ord(ch) < 128:
            out.append(ch)
        else:
            try:
                out.append("".join(f"\\'{b:02x}" for b in ch.encode("cp1252")))
            except UnicodeEncodeError:
                units = ch.encode("utf-16-le")
                for j in range(0, len(units), 2):
                    n = int.from_bytes(units[j:j + 2], "little")
                    out.append(f"\\u{n - 65536 if n > 32767 else n}\\'3f")
    return "".join(out)


def rtf_bytes(paragraphs: list[str], title: str = "", cells: tuple[str, ...] = ()) -> bytes:
    """An .rtf file as Word writes one: font, colour and style tables, ``\\info`` with
    ``title``, a running header, each paragraph's RTF as given, then a one-row table of
    ``cells``; line breaks inside control runs as Word wraps its lines."""
    info = (r"{\info{\title " + rtf_escape(title) + r"}{\author Maria Lopez}{\operator Maria}"
            r"{\creatim\yr2026\mo11\dy2\hr9\min30}{\version2}{\edmins1}}")
    body = [RTF_HEAD, info, "\n", r"{\header \pard\plain \ql {Quarterly report}\par}", "\n"]
    for p in paragraphs:
        body.append(r"\pard\plain \ltrpar\ql \rtlch\fcs1 \af0\afs24 \ltrch\fcs0 " + p
                    + "\\par\n")
    if cells:
        body.append(r"\trowd \irow0\irowband0\ltrrow\ts11" + "".join(
            f"\\cellx{4000 * (j + 1)}" for j in range(len(cells))) + "\n")
        body.append(r"\pard\plain \ltrpar\intbl " + "".join(
            "{" + rtf_escape(c) + r"\cell }" for c in cells) + r"\row " + "\n")
    body.append("}")
    return "".join(body).encode("ascii")


def as_rtf_runs(text: str, rng: random.Random, k: int) -> str:
    """``text`` as Word's RTF runs: groups of character formatting cut at random places;
    record ``k`` also gets a footnote (every third: its text comes after the body) and hidden
    and deleted text (every fourth, which the text as shown does not hold)."""
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, 6)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    rtf = [r"{\rtlch\fcs1 \af0 \ltrch\fcs0 " + ("\\b " if j % 2 else "")
           + rf"\insrsid{1580 + j} " + rtf_escape(p) + "}" for j, p in enumerate(pieces)]
    if k % 3 == 0:
        rtf.append(r"{\super\chftn}{\footnote \pard\plain {\super\chftn} A footnote.}")
    if k % 4 == 0:
        rtf.insert(1, r"{\v hidden note }{\deleted " + rtf_escape(DELETED) + "}")
    return "".join(rtf)


def as_spans(text: str, rng: random.Random, k: int) -> str:
    """``text`` as an .odt paragraph: spans cut at random places; record ``k`` also gets a
    footnote after its last word (every third), whose text comes after the body."""
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, 6)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    xml = "".join(f"<text:span>{escape(p)}</text:span>" if j % 2 else escape(p)
                  for j, p in enumerate(pieces))
    if k % 3 == 0:
        xml += ("<text:note><text:note-citation>1</text:note-citation><text:note-body><text:p>"
                "A footnote.</text:p></text:note-body></text:note>")
    return xml


def as_runs(text: str, rng: random.Random, k: int) -> str:
    """``text`` as Word's runs: cut at random places; record ``k`` also gets a tracked
    insertion (every third) and a tracked deletion (every fourth)."""
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, 6)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    xml = [run(p) for p in pieces]
    if k % 3 == 0 and len(xml) > 2:
        xml[1] = f'<w:ins w:id="{k}" w:author="A">{xml[1]}</w:ins>'
    if k % 4 == 0:
        xml.insert(1, f'<w:del w:id="d{k}" w:author="A"><w:r><w:delText xml:space="preserve">'
                      f"{escape(DELETED)}</w:delText></w:r></w:del>")
    return "".join(xml)


def main() -> None:
    from eval_trailing_period import analysed, arguments, facts, pipelines, reading_cost, scores

    parser = arguments(__doc__)
    parser.add_argument("--soffice", default=None, help=(
        "LibreOffice's soffice: also convert the .docx files with it to .doc and .rtf (a real "
        "writer's files) and check that kgx reads those back as the same text"))
    args = parser.parse_args()

    from kgx.batch.epub import epub_text
    from kgx.batch.inputs import TextInput
    from kgx.batch.office import docx_text, odt_text
    from kgx.batch.rtf import rtf_text

    rng = random.Random(0)
    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        plain, files, odts, epubs, rtfs, read, gold = [], [], [], [], [], [], []
        k = n_runs = 0
        for i, eg in enumerate(examples):
            ref = eg.reference
            records = [s.text for s in ref.sents]
            runs = [run(f"Report {i}")]
            for text in records:
                runs.append(as_runs(text, rng, k))
                k += 1
            n_runs += sum(r.count("<w:r>") for r in runs)
            files.append(docx_bytes(runs, f"Report {i}", ("Prepared by", "Analytics team")))
            spans = [escape(f"Report {i}")] + [as_spans(t, rng, j) for j, t in enumerate(records)]
            odts.append(odt_bytes(spans, f"Report {i}", ("Prepared by", "Analytics team"),
                                  DELETED))
            rtfs.append(rtf_bytes([rtf_escape(f"Report {i}")]
                                  + [as_rtf_runs(t, rng, j) for j, t in enumerate(records)],
                                  f"Report {i}", ("Prepared by", "Analytics team")))
            half = len(records) // 2 + 1  # two chapters, the table in the second
            epubs.append(epub_bytes(
                [f"<h1>{escape(f'Report {i}')}</h1>" + "".join(
                    f"<p>{escape(t)}</p>" for t in records[:half]),
                 "".join(f"<p>{escape(t)}</p>" for t in records[half:])
                 + "<table><tr><td>Prepared by</td><td>Analytics team</td></tr></table>"],
                f"Report {i}", "Maria Lopez"))
            body = "\n\n".join(records)
            shown = f"Report {i}\n\n{body}\n\nPrepared by\n\nAnalytics team"
            notes = "\n\nA footnote." * len(range(0, len(records), 3))  # after the body
            for reader, data, tail in ((docx_text, files[-1], ""), (odt_text, odts[-1], notes),
                                       (epub_text, epubs[-1], ""), (rtf_text, rtfs[-1], notes)):
                text, _ = reader(data)
                if text != shown + tail:
                    raise SystemExit(f"document {i}: {reader.__name__} is not its records")
            read.append(shown)
            plain.append(body)
            ents, rels = facts(ref, False)
            starts = [s.start_char for s in ref.sents]
            shift = {}  # each record's characters: where they are in the paragraphs' text
            at = 0
            for s, record in zip(starts, records, strict=True):
                for c in range(len(record) + 1):
                    shift[s + c] = at + c
                at += len(record) + 2

            def move(span: tuple[int, int], by: int, shift: dict = shift) -> tuple[int, int]:
                return shift[span[0]] + by, shift[span[1]] + by

            gold.append([({(move(s, by), label) for s, label in ents},
                          {(move(hs, by), hl, move(ts, by), tl, label)
                           for hs, hl, ts, tl, label in rels})
                         for by in (0, len(f"Report {i}\n\n"))])
        before = TextInput.document(files[0], "report-0.docx")[2]
        source = TextInput.document(rtfs[0], "report-0.rtf")[0] or ""
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(files)} .docx files, {k} paragraphs in {n_runs} runs\n  before: {before}"
              f"\n  before: report-0.rtf read as plain text: {len(source):,} characters of "
              f"RTF for {len(read[0]):,} of text")
        for name, texts, which in (("the records as plain paragraphs", plain, 0),
                                   ("the .docx, .odt, .epub, .rtf files as read", read, 1)):
            found, seconds = analysed(nlp, texts)
            print(f"  {name:<44} {scores([g[which] for g in gold], found)}   {seconds:.1f} s")
        reading_cost("the .docx files", docx_text, files)
        reading_cost("the .odt files", odt_text, odts)
        reading_cost("the .epub files", epub_text, epubs)
        reading_cost("the .rtf files", rtf_text, rtfs)
        if args.soffice:
            written_by_libreoffice(args.soffice, files, read, [
                docx_bytes([run(f"Report {i}"), *map(run, text.split("\n\n"))], f"Report {i}",
                           ("Prepared by", "Analytics team"))
                for i, text in enumerate(plain)])


def written_by_libreoffice(soffice: str, files: list[bytes], texts: list[str],
                           clean: list[bytes]) -> None:
    """Convert the .docx files with LibreOffice to Word 97 .doc, to .rtf and to its own .docx,
    and their ``clean`` copies (no tracked changes: LibreOffice's exports to these show
    deletions as text) to .odt, .html and .epub; check that kgx reads each back as ``texts``,
    and print what reading them costs."""
    import subprocess
    import tempfile
    from pathlib import Path

    from eval_trailing_period import reading_cost

    from kgx.batch.epub import epub_text
    from kgx.batch.html import HtmlInput
    from kgx.batch.office import docx_text, odt_text
    from kgx.batch.rtf import rtf_text
    from kgx.batch.worddoc import doc_text

    def html_text(data: bytes) -> tuple[str | None, object]:
        return HtmlInput.document(data, "report.html")[:2]

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for sub, docs in (("tracked", files), ("clean", clean)):
            (folder / sub).mkdir()
            for i, data in enumerate(docs):
                (folder / sub / f"report-{i}.docx").write_bytes(data)
        for target, reader, sub in (("doc:MS Word 97", doc_text, "tracked"),
                                    ("rtf", rtf_text, "tracked"), ("docx", docx_text, "tracked"),
                                    ("odt", odt_text, "clean"),
                                    ("html", html_text, "clean"), ("epub", epub_text, "clean")):
            suffix = target.split(":")[0]
            names = [folder / sub / f"report-{i}.docx" for i in range(len(files))]
            out = folder / f"out-{suffix}"  # not beside the .docx it converts
            subprocess.run([soffice, "--headless", "--convert-to", target, "--outdir", str(out),
                            *map(str, names)], check=True, capture_output=True)
            converted = [(out / f"{n.stem}.{suffix}").read_bytes() for n in names]
            wrong = [i for i, (data, text) in enumerate(zip(converted, texts, strict=True))
                     if reader(data)[0] != text]
            print(f"  LibreOffice's .{suffix} files: {len(converted) - len(wrong)} of "
                  f"{len(converted)} read back as the .docx text"
                  + (f" (not: {wrong[:10]})" if wrong else ""))
            reading_cost(f"LibreOffice's .{suffix} files", reader, converted)


if __name__ == "__main__":
    main()
