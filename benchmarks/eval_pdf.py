"""PDF files: does kgx read a PDF as the text its pages show, in reading order? (issue 19:
documents as users have them)

This script typesets the raw documents of K dev records (``kgx evaluate --as-documents K``) as
PDF files, two ways: as a word processor leaves them (one column, ragged right, each line one
string with its spaces) and as LaTeX leaves them (two columns, justified, words broken with a
hyphen at line ends, no space characters at all: each word placed by its gap), each page with a
running header and a page number, the document's title and author in its Info dictionary; the
two-column files again with a footnote in smaller type at the foot of each page, read with
kgx's footnote rule (the notes after the last page) and without it (where they sit). It
runs the pipeline on the records as plain paragraphs and on each file as kgx reads it
(``kgx.batch.pdf``), carries the predictions over to the plain text by aligning the two texts'
non-space characters, and prints NER and relation strict P/R/F1 by character offsets, how many
records' words came back in order, what reading costs, and what kgx's text reader said of the
files before (no input format) and what pdfminer.six's own ``pdf2txt.py`` text gives.

    python benchmarks/eval_pdf.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 40 [--soffice soffice]

With ``--soffice``, each document is also written as a .docx and typeset by LibreOffice as a
PDF: a real writer's fonts (embedded subsets), kerning and line breaking; and as an .odt whose
paragraphs are justified and hyphenated, typeset the same way.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import time
from pathlib import Path
from xml.sax.saxutils import escape

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PAGE_W, PAGE_H, MARGIN, GUTTER = 612.0, 792.0, 72.0, 24.0
SIZE, LEADING, PARAGRAPH_GAP = 11.0, 13.5, 8.0
HEADER = "Example Quarterly Review {i}"
FONT = "Times-Roman"
MIN_BEFORE, MIN_AFTER = 3, 3
MAX_STRETCH = 2.5  # TeX leaves a line underfull rather than stretch a space further
NOTE_SIZE = 8.8  # footnotes at 0.8 of the text's size, as LaTeX sets them
MARK_SIZE = 6.6  # a note's mark, raised
NOTES = ["Figures as reported at the end of the quarter.",
         "The account given here follows the minutes of the meeting.",
         "Translated from the original, with minor changes.",
         "Dates are those of the first report; later reports differ.",
         "Names are given as spelled in the documents cited.",
         "This paragraph was added in the second edition."]


def _widths() -> dict[str, int]:
    from pdfminer.fontmetrics import FONT_METRICS

    return FONT_METRICS[FONT][1]


def width(text: str, size: float = SIZE) -> float:
    widths = _widths()
    return sum(widths.get(c, 500) for c in text) * size / 1000


def _escaped(text: str) -> str:
    raw = text.encode("cp1252", "replace").decode("latin-1")
    return raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: list[list[tuple[float, float, list[str], float]]],
              info: dict[str, str] | None = None, form: bool = False) -> bytes:
    """A PDF of ``pages``, each a list of lines ``(x, y, words, gap[, size])``: the words drawn
    in ``FONT`` at ``SIZE`` (or ``size``); ``gap`` < 0 writes the line as one string with
    spaces (a word processor's), else each word placed ``gap`` points after the previous
    (LaTeX's, no space characters). ``info``: the Info dictionary's strings. ``form``: each
    page's text drawn by a form XObject, as imposition tools and some converters leave it."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
               f"<< /Type /Font /Subtype /Type1 /BaseFont /{FONT} /Encoding /WinAnsiEncoding "
               ">>".encode(),
               ("<< " + " ".join(f"/{k} ({_escaped(v)})" for k, v in (info or {}).items())
                + " >>").encode("latin-1")]
    kids = []
    for lines in pages:
        ops = []
        for x, y, words, gap, *sized in lines:
            size = sized[0] if sized else SIZE
            if gap < 0:
                ops.append(f"BT /F1 {size} Tf {x:.2f} {y:.2f} Td ({_escaped(' '.join(words))}) "
                           "Tj ET")
            else:
                shift = -gap * 1000 / size
                parts = f" {shift:.1f} ".join(f"({_escaped(w)})" for w in words)
                ops.append(f"BT /F1 {size} Tf {x:.2f} {y:.2f} Td [{parts}] TJ ET")
        stream = "\n".join(ops).encode("latin-1")
        resources = "/Font << /F1 3 0 R >>"
        if form:
            objects.append(f"<< /Type /XObject /Subtype /Form /BBox [0 0 {PAGE_W:.0f} "
                           f"{PAGE_H:.0f}] /Resources << {resources} >> /Length "
                           f"{len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
            resources = f"/XObject << /Fm1 {len(objects)} 0 R >>"
            stream = b"q /Fm1 Do Q"
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W:.0f} {PAGE_H:.0f}]"
                       f" /Resources << {resources} >> /Contents {len(objects)} 0 R "
                       ">>".encode())
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, xref))
    return bytes(out)


def broken_lines(paragraph: str, measure: float, hyphenate: bool) -> list[list[str]]:
    """The paragraph's words, line by line within ``measure`` points; with ``hyphenate`` a
    word that would pass the measure is broken there with a hyphen (at least
    ``MIN_BEFORE`` letters before, ``MIN_AFTER`` after)."""
    lines: list[list[str]] = [[]]
    space = width(" ")
    for word in paragraph.split():
        used = width(" ".join(lines[-1]))
        if not lines[-1] or used + space + width(word) <= measure:
            lines[-1].append(word)
            continue
        if hyphenate and word.isalpha() and len(word) >= MIN_BEFORE + MIN_AFTER:
            cut = max((k for k in range(MIN_BEFORE, len(word) - MIN_AFTER + 1)
                       if used + space + width(word[:k] + "-") <= measure), default=0)
            if cut:
                lines[-1].append(word[:cut] + "-")
                word = word[cut:]
        lines.append([word])
    return lines


def typeset(i: int, paragraphs: list[str], columns: int, latex: bool, notes: bool = False
            ) -> list[list[tuple]]:
    """The pages of a document: ``columns`` columns, a header and a page number on each, and
    (``notes``) a footnote at the foot of each, in smaller type (``NOTES``, in turn), its
    number raised in smaller type after the page's first line that does not end in a hyphen
    (as LaTeX sets a mark: "Osaka.¹")."""
    measure = (PAGE_W - 2 * MARGIN - GUTTER * (columns - 1)) / columns
    top, bottom = PAGE_H - MARGIN, MARGIN
    pages: list[list[tuple]] = []
    column, y = columns, bottom - 1  # start a new page at the first line
    mark = ""  # the number of the page's note, until its mark is set

    def new_column() -> None:
        nonlocal column, y, mark
        column += 1
        if column >= columns:
            column = 0
            number = str(len(pages) + 1)
            pages.append([(MARGIN, PAGE_H - 40, HEADER.format(i=i).split(), -1),
                          ((PAGE_W - width(number)) / 2, 40, [number], -1)])
            if notes:
                note = f"{len(pages)} {NOTES[(i + len(pages)) % len(NOTES)]}"
                pages[-1].append((MARGIN, MARGIN - 16, note.split(), -1, NOTE_SIZE))
                mark = str(len(pages))
        y = top

    for paragraph in paragraphs:
        lines = broken_lines(paragraph, measure, hyphenate=latex)
        for n, words in enumerate(lines):
            if y - LEADING < bottom:
                new_column()
            y -= LEADING
            x = MARGIN + column * (measure + GUTTER)
            if not latex:
                pages[-1].append((x, y, words, -1))
                end = x + width(" ".join(words))
            else:
                natural = width("".join(words))
                gaps = len(words) - 1
                gap = width(" ")
                if n < len(lines) - 1 and gaps:  # justified, a space stretched at most so far
                    gap = min((measure - natural) / gaps, MAX_STRETCH * gap)
                pages[-1].append((x, y, words, gap))
                end = x + natural + gap * gaps
            if mark and not words[-1].endswith("-"):
                pages[-1].append((end + 0.5, y + 4, [mark], -1, MARK_SIZE))
                mark = ""
        y -= PARAGRAPH_GAP
    return pages


def alignment(read: str, plain: str) -> list[int]:
    """Where each character of ``read`` (one past its end too) is in ``plain``, by their
    non-space characters; -1 where it has none there (a line end's hyphen, furniture)."""
    def solid(text: str) -> tuple[str, list[int]]:
        at = [k for k, c in enumerate(text) if not c.isspace()]
        return "".join(text[k] for k in at), at

    a, a_at = solid(read)
    b, b_at = solid(plain)
    moved = [-1] * (len(read) + 1)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            moved[a_at[block.a + k]] = b_at[block.b + k]
    return moved


def in_order(read: str, records: list[str]) -> int:
    """How many records' words appear, in order and whole, in ``read`` (line-end hyphens
    joined)."""
    words = " ".join(re.sub(r"(?<=[^\W\d_])-\s+(?=[^\W\d_])", "", read).split())
    found, at = 0, 0
    for record in records:
        where = words.find(" ".join(record.split()), at)
        if where >= 0:
            found, at = found + 1, where
    return found


def furniture(path: str) -> None:
    """Print a PDF file's pages, reading time, and the lines kgx blanks as furniture (digits
    as #), most frequent first."""
    from collections import Counter

    from kgx.batch.pdf import PdfInput, pdf_text

    data = Path(path).read_bytes()
    began = time.perf_counter()
    text, meta = pdf_text(data)
    masked = PdfInput.text_of(text)
    seconds = time.perf_counter() - began
    blanked = Counter(re.sub(r"\d+", "#", m.group().strip())
                      for m in re.finditer(r"[^\n\f]+", text)
                      if m.group().strip() and not masked[m.start():m.end()].strip())
    print(f"{path}: {text.count(chr(12))} pages, read in {seconds:.2f} s, metadata {meta}\n"
          f"  {sum(blanked.values())} lines blanked: {blanked.most_common(8)}")


def scored(nlp, texts: list[str], plain: list[str], gold: list[tuple[set, set]]
           ) -> tuple[str, float, int]:
    """The pipeline's scores on ``texts`` carried over to ``plain`` (whose ``gold`` they are),
    its seconds, and how many records of ``plain`` came back whole and in order."""
    from eval_trailing_period import analysed, moved_facts, scores

    found, seconds = analysed(nlp, texts)
    carried = [moved_facts(f, alignment(t, p)) for f, t, p in zip(found, texts, plain, strict=True)]
    whole = sum(in_order(t, p.split("\n\n")) for t, p in zip(texts, plain, strict=True))
    return scores(gold, carried), seconds, whole


def typeset_by_libreoffice(soffice: str, documents: list[str], justified: bool = False
                           ) -> list[bytes]:
    """Each document (paragraphs apart by a blank line) typeset by LibreOffice as a PDF (its
    default page, font and line breaking): written as a .docx, or with ``justified`` as an
    .odt whose paragraphs are justified and hyphenated (US English patterns: Debian's
    ``hyphen-en-us``; without them LibreOffice does not hyphenate)."""
    import subprocess
    import tempfile

    from eval_docx import docx_bytes, odt_bytes, run

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = []
        for i, text in enumerate(documents):
            paragraphs = text.split("\n\n")
            if justified:
                names.append(folder / f"doc{i}.odt")
                names[-1].write_bytes(odt_bytes([escape(p) for p in paragraphs], f"Review {i}",
                                                style=JUSTIFIED))
            else:
                names.append(folder / f"doc{i}.docx")
                names[-1].write_bytes(docx_bytes([run(p) for p in paragraphs], f"Review {i}"))
        subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(folder),
                        *map(str, names)], check=True, capture_output=True)
        return [(folder / f"doc{i}.pdf").read_bytes() for i in range(len(documents))]


#: an .odt paragraph style: justified, hyphenated as US English, 3 letters at least each side
JUSTIFIED = ('<style:paragraph-properties fo:text-align="justify"/><style:text-properties '
             'fo:hyphenate="true" fo:language="en" fo:country="US" '
             'fo:hyphenation-remain-char-count="3" fo:hyphenation-push-char-count="3"/>')


def main() -> None:
    from eval_trailing_period import (
        analysed,
        arguments,
        facts,
        moved_facts,
        pipelines,
        reading_cost,
        scores,
    )

    from kgx.batch.inputs import TextInput
    from kgx.batch.pdf import PdfInput

    ap = arguments(__doc__)
    ap.add_argument("--files", nargs="*", default=[],
                    help="real PDF files: print what reading them costs and what is blanked")
    ap.add_argument("--soffice", default=None, help=(
        "LibreOffice's soffice: also write each document as a .docx and let LibreOffice "
        "typeset it as a PDF (a real writer's fonts, kerning and line breaking)"))
    args = ap.parse_args()
    for path in args.files:
        furniture(path)
    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        plain, gold, files = [], [], {"word": [], "latex": [], "notes": []}
        n_records = 0
        for i, eg in enumerate(examples):
            ref = eg.reference
            records = [s.text.strip() for s in ref.sents]
            n_records += len(records)
            text = "\n\n".join(records)
            # the reference's offsets, moved to the paragraphs' text
            moved = alignment(ref.text, text)
            plain.append(text)
            gold.append(moved_facts(facts(ref, False), moved))
            info = {"Title": f"Review {i}", "Author": "Maria Lopez",
                    "CreationDate": "D:20261102093000+01'00'"}
            files["word"].append(pdf_bytes(typeset(i, records, 1, False), info))
            files["latex"].append(pdf_bytes(typeset(i, records, 2, True), info))
            files["notes"].append(pdf_bytes(typeset(i, records, 2, True, notes=True), info))
        ways = [("word", "one column, spaces (a word processor's)"),
                ("latex", "two columns, justified, hyphenated, no spaces"),
                ("notes", "the same, a footnote on each page")]
        if args.soffice:
            files["libreoffice"] = typeset_by_libreoffice(args.soffice, plain)
            ways.append(("libreoffice", "LibreOffice's PDF of a .docx"))
            files["justified"] = typeset_by_libreoffice(args.soffice, plain, justified=True)
            ways.append(("justified", "LibreOffice's, justified and hyphenated"))
        pages = sum(f.count(b"/Type /Page ") for f in files["latex"])
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)} files each way, {n_records} records, {pages} two-column pages")
        found, seconds = analysed(nlp, plain)
        print(f"  {'the records as plain paragraphs':<44} {scores(gold, found)}   "
              f"{seconds:.1f} s")
        for way, label in ways:
            began = time.perf_counter()
            read = [PdfInput.document(f, f"doc{i}.pdf") for i, f in enumerate(files[way])]
            reading = time.perf_counter() - began
            texts = [t or "" for t, _, _ in read]
            n_pages = sum(len(re.findall(rb"/Type\s*/Page\b", f)) for f in files[way])
            score, seconds, whole = scored(nlp, texts, plain, gold)
            print(f"  {label:<44} {score}   {seconds:.1f} s\n"
                  f"  {'':<44} records read whole and in order: {whole} / {n_records}; "
                  f"reading {reading:.2f} s for {n_pages} pages, {reading / seconds:.2f} of "
                  f"the pipeline's time; "
                  f"metadata {read[0][1]}")
        # footnotes read where they sit, between the columns' text and the next page's
        from kgx.batch import pdf

        kept = pdf.footnotes
        pdf.footnotes = lambda pages: ([[b for b, _ in p] for p in pages], [[] for _ in pages])
        try:
            texts = [PdfInput.document(f, f"doc{i}.pdf")[0] or ""
                     for i, f in enumerate(files["notes"])]
        finally:
            pdf.footnotes = kept
        score, seconds, whole = scored(nlp, texts, plain, gold)
        print(f"  {'the same, footnotes where they sit (before)':<44} {score}   {seconds:.1f} s\n"
              f"  {'':<44} records read whole and in order: {whole} / {n_records}")
        # what a user who converted the files with pdfminer.six's own pdf2txt got
        from pdfminer.high_level import extract_text

        texts = [TextInput.text_of(extract_text(io.BytesIO(f))) for f in files["latex"]]
        score, seconds, whole = scored(nlp, texts, plain, gold)
        print(f"  {'the same, pdf2txt.py text (pdfminer order)':<44} {score}   "
              f"{seconds:.1f} s\n  {'':<44} records read whole and in order: {whole} / "
              f"{n_records}")
        reading_cost("the .pdf files before (kgx's text reader)",
                     lambda f: TextInput.document(f, "doc.pdf"), files["latex"][:1])
        print(f"  before: {TextInput.document(files['latex'][0], 'doc.pdf')[2]}")


if __name__ == "__main__":
    main()
