"""kgx.batch.pdflayout: the same text boxes as pdfminer.six's own grouping, each line added to
a box once (pdfminer copies a growing box again for each line that joins it)."""

from __future__ import annotations

import random

import pytest

from helpers import load_benchmark

pytest.importorskip("pdfminer")


def layouts(data: bytes, aggregator: type) -> list[list[tuple]]:
    """Every page's analysed layout: each box's kind, bounding box and lines' text, in order."""
    from pdfminer.layout import LAParams, LTFigure, LTTextBox
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    from kgx.batch.pdf import LAYOUT

    def items(container) -> list[tuple]:
        out = []
        for obj in container:
            if isinstance(obj, LTTextBox):
                out.append((type(obj).__name__, obj.bbox, [line.get_text() for line in obj]))
            elif isinstance(obj, LTFigure):
                out.append(("figure", obj.bbox, items(obj)))
        return out

    import io

    document = PDFDocument(PDFParser(io.BytesIO(data)))
    manager = PDFResourceManager()
    device = aggregator(manager, laparams=LAParams(**LAYOUT))
    interpreter = PDFPageInterpreter(manager, device)
    pages = []
    for page in PDFPage.create_pages(document):
        interpreter.process_page(page)
        pages.append(items(device.get_result()))
    return pages


def test_lines_are_grouped_as_pdfminer_groups_them_each_added_once(monkeypatch):
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LTTextBox

    from kgx.batch.pdflayout import LinearAggregator

    w = load_benchmark("eval_pdf")
    rng = random.Random(7)
    records = [f"Record {n}: Ana Diaz of Acme met the board of Initech in Lima on day {n}, "
               "and both companies signed an agree- ment there." for n in range(30)]
    files = {
        "two columns, notes": w.pdf_bytes(w.typeset(3, records, 2, True, notes=True)),
        "drawn by form XObjects": w.pdf_bytes(w.typeset(4, records, 1, False), form=True),
        # labels scattered over a page: many chain into large boxes
        "scattered": w.pdf_bytes([[(rng.uniform(20, 560), rng.uniform(20, 800), [f"w{i}"], -1)
                                   for i in range(1500)]]),
        # three columns of 60 lines each (left-aligned, a few points astray), drawn in a
        # shuffled order: each column one box, built by many merges
        "columns, shuffled": w.pdf_bytes([rng.sample(
            [(50 + 190 * c + rng.uniform(-2, 2), 790 - 12.5 * r, [f"c{c}r{r}", "text"], -1)
             for c in range(3) for r in range(60)], 180)]),
        # a table on a grid: its columns are boxes
        "grid": w.pdf_bytes([[(40 + 70 * c, 800 - 6 * r, [f"{r}.{c}"], -1)
                              for r in range(100) for c in range(7)]]),
    }
    adds = {"n": 0}
    original = LTTextBox.add

    def counted(self, obj):
        adds["n"] += 1
        return original(self, obj)

    for name, data in files.items():
        expected = layouts(data, PDFPageAggregator)
        monkeypatch.setattr(LTTextBox, "add", counted)
        adds["n"] = 0
        got = layouts(data, LinearAggregator)
        monkeypatch.setattr(LTTextBox, "add", original)
        assert got == expected, name
        lines = sum(len(box[2]) for page in got for box in page if box[0] != "figure") + sum(
            len(inner[2]) for page in got for box in page if box[0] == "figure"
            for inner in box[2])
        assert adds["n"] == lines, name  # each line once
        if name == "columns, shuffled":
            assert sorted(len(box[2]) for box in got[0]) == [60, 60, 60]


def test_any_neighbour_relation_gives_pdfminers_boxes():
    """Random neighbour relations (not symmetric; a line among its own neighbours, anywhere):
    the same boxes, box order and line order as pdfminer's ``group_textlines``."""
    from pdfminer.layout import LAParams, LTLayoutContainer, LTTextLineHorizontal

    from kgx.batch.pdflayout import grouped_lines

    class Line(LTTextLineHorizontal):
        def find_neighbors(self, plane, ratio):
            return self.neighbours

    rng = random.Random(3)
    for trial in range(300):
        n = rng.randint(1, 40)
        lines = [Line(0.1) for _ in range(n)]
        for i, line in enumerate(lines):
            line.set_bbox((0, i, 10, i + 1))
            # pdfminer's lines always find themselves (the search box holds their own)
            others = rng.sample([x for x in lines if x is not line], rng.randint(0, min(n - 1, 4)))
            others.insert(rng.randint(0, len(others)), line)
            line.neighbours = others
        page = LTLayoutContainer((0, 0, 10, n + 1))
        expected = [[lines.index(x) for x in box]
                    for box in page.group_textlines(LAParams(), lines)]
        got = [[lines.index(x) for x in box] for box in grouped_lines(page.bbox, LAParams(), lines)]
        assert got == expected, trial


def test_a_page_over_the_time_limit_is_an_error_entry(tmp_path, monkeypatch):
    """A page that takes longer than ``limits.MAX_PAGE_SECONDS`` to lay out (here, lowered: a
    page of 3,000 scattered words) makes its file an error entry naming the page; the files
    after it are read."""
    from kgx.batch import limits
    from kgx.batch.reading import read_inputs

    w = load_benchmark("eval_pdf")
    rng = random.Random(1)
    slow = [(rng.uniform(20, 560), rng.uniform(20, 800), [f"w{i}"], -1) for i in range(3000)]
    ordinary = w.typeset(1, ["Ana Diaz works for Acme in Lima."], 1, False)
    (tmp_path / "a.pdf").write_bytes(w.pdf_bytes([*ordinary, slow]))
    (tmp_path / "b.pdf").write_bytes(w.pdf_bytes(ordinary))
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["a.pdf"].status == "ok" and "w2999" in entries["a.pdf"].text
    # an ordinary page takes some 2 ms here, the scattered one some 500
    monkeypatch.setattr(limits, "MAX_PAGE_SECONDS", 0.05)
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["a.pdf"].error == (
        f"{tmp_path / 'a.pdf'}: page 2 took over 0.05 s to lay out (text drawn over itself?), "
        "the limit for one page")
    assert entries["b.pdf"].status == "ok"


def test_paragraphs_set_with_no_space_between_them_stay_apart():
    """A word processor's paragraphs with no space below them (LibreOffice's default for a
    .docx without styles) fall in one text box: a line that ends where the next line's first
    word would still have fitted is a paragraph's last line, and a blank line follows it;
    lines wrapped because the next word did not fit run on. Ragged right and justified alike."""
    from kgx.batch.pdf import pdf_text

    pdf = load_benchmark("eval_pdf")
    paragraphs = ["Wei Chen works for Globex in Osaka, where the company opened its first "
                  "office abroad in spring.",
                  "Ana Diaz met John Smith in Lima.",
                  "Maria Lopez of Acme met Ivan Petrov in Paris to sign the contract that "
                  "both firms had negotiated for most of the previous winter months",
                  "Sofia Rossi lives in Oslo."]
    measure = 300.0
    longest = max(pdf.width(" ".join(line)) for p in paragraphs
                  for line in pdf.broken_lines(p, measure, False))
    for gap in (-1.0, 0.0):  # one string with spaces; words placed one by one (justified)
        lines, y = [], 700.0
        for k, paragraph in enumerate(paragraphs):
            broken = pdf.broken_lines(paragraph, measure, False)
            last = pdf.width(" ".join(broken[-1]))
            if k + 1 < len(paragraphs):  # the test's premise: the next first word fits
                first = pdf.width(paragraphs[k + 1].split()[0])
                assert last + first + 0.5 * pdf.SIZE < longest
            for j, words in enumerate(broken):
                full = j + 1 < len(broken)  # justified: all lines but the last fill the measure
                spread = ((measure - pdf.width("".join(words))) / max(1, len(words) - 1)
                          if gap >= 0 and full else pdf.width(" "))
                lines.append((72.0, y, words, -1.0 if gap < 0 else spread))
                y -= pdf.LEADING
        text, _ = pdf_text(pdf.pdf_bytes([lines]))
        assert text.rstrip("\n\f").split("\n\n") == [
            "\n".join(" ".join(w) for w in pdf.broken_lines(p, measure, False))
            for p in paragraphs], gap


def test_a_line_that_starts_with_a_bracket_runs_on():
    """No line break follows an opening bracket, so a line starting "( bleomycin" was wrapped
    because "( bleomycin" did not fit, though "(" alone would have: the line before runs on."""
    from kgx.batch.pdf import pdf_text

    pdf = load_benchmark("eval_pdf")
    full = "Maria Lopez of Acme met Ivan Petrov in Paris to sign the contract".split()
    measure = pdf.width(" ".join(full))
    words = "gangrene that developed after combined chemotherapy in the two patients".split()
    before: list[str] = []
    while pdf.width(" ".join(before)) < measure - pdf.width("( bleomycin"):
        before.append(words.pop(0))
    room = measure - pdf.width(" ".join(before))
    assert pdf.width("(") + 0.5 * pdf.SIZE < room < pdf.width("( bleomycin") + 0.5 * pdf.SIZE
    after = "( bleomycin and methotrexate ) was given.".split()
    rows = [full, full, before, after]  # two full lines: the measure is where lines end
    lines = [(72.0, 700.0 - pdf.LEADING * k, words, -1.0) for k, words in enumerate(rows)]
    text, _ = pdf_text(pdf.pdf_bytes([lines]))
    assert text.rstrip("\n\f") == "\n".join(" ".join(w) for w in rows)
    lines[-1] = (72.0, lines[-1][1], ["Ana", *after], -1.0)  # a word first: a new paragraph
    text, _ = pdf_text(pdf.pdf_bytes([lines]))
    assert text.rstrip("\n\f").split("\n\n")[1] == " ".join(["Ana", *after])


def test_a_hyphen_set_apart_at_a_justified_lines_end_stays_with_its_word():
    """LibreOffice's justified lines may set a line-end hyphen a point or so after its word,
    which pdfminer reads as a word space ("head -" / "way"): the hyphen stays with its word, so
    the broken word is read as one; a hyphen between words keeps its spaces."""
    from kgx.batch.pdf import pdf_text

    pdf = load_benchmark("eval_pdf")
    lines = [(72.0, 700.0, ["has", "made", "considerable", "head", "-"], 2.0),
             (72.0, 686.5, ["way", "in", "L", "-", "dopa", "mechanics", "."], 2.0)]
    text, _ = pdf_text(pdf.pdf_bytes([lines]))
    assert text.rstrip("\n\f") == "has made considerable head-\nway in L - dopa mechanics ."
