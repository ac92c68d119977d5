"""PDF files as their text: the text boxes of each page in reading order, a blank line between
boxes, a form feed after each page.

A PDF holds no paragraphs and no reading order, only glyphs placed on pages: a two-column page
read glyph by glyph interleaves its columns, and a file made by LaTeX has no space characters at
all, only gaps. Read as bytes a PDF is binary, an error entry (issue 19: documents as users have
them). ``pdf_text`` uses pdfminer.six's layout analysis (the ``pdf`` extra): characters grouped
into words by their gaps, words into lines, lines into text boxes (text that a form XObject
draws too), boxes ordered column by column. Each box is a paragraph to
``kgx_layout_boundaries`` (blank line between boxes); the lines inside a box stay hard-wrapped,
as the pipeline reads them (a word broken by a hyphen at a line end is joined for the models);
each page ends with a form feed, so
``kgx.batch.pages.mask_page_furniture`` blanks the running headers and page numbers and joins a
sentence that runs over a page. Glyphs a font gives no Unicode for come out as U+FFFD; a file
whose text is mostly such glyphs, or that has no text (a scan: its text needs OCR first), or
that needs a password, is an error entry naming the problem. The document's title, author and
dates (its Info dictionary) are its metadata.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from kgx.batch import limits
from kgx.batch.inputs import TextInput
from kgx.batch.pages import continues, furniture_key, page_number
from kgx.batch.pdfmeta import document_meta

_CID = re.compile(r"\(cid:\d+\)")
#: the most glyphs without Unicode a readable document may have, as a share of its characters
MAX_UNMAPPED = 0.2
#: pdfminer.six's layout analysis parameters (``LAParams``) that differ from its defaults
LAYOUT: dict[str, Any] = {
    "boxes_flow": None,  # the boxes' order is ``reading_order``'s
    "all_texts": True,  # text drawn by a form XObject (a figure to pdfminer) is text too
}

#: a box's type size, as a share of the body's, at or under which it may be a footnote (LaTeX
#: sets 8 pt notes under 10 pt text, Word 10 pt under 12 pt)
NOTE_SIZE = 0.85
_HYPHENS = {"-", "\u2010", "\u00ad"}  # a hyphen a line may end with
_MARKS = set("0123456789*\u2020\u2021\u00a7\u00b6")  # digits, *, daggers, section, pilcrow
_MARKED = re.compile("\x00([^\x01]*)\x01")
_LABEL = re.compile("\\s*([0-9]{1,3}|[*\u2020\u2021\u00a7\u00b6]{1,3})")
_SLACK = 2.0  # points: lines set to one measure end a rounding error apart
#: the widest word space of a justified line, in line heights (a column gutter is wider: LaTeX's
#: narrowest, 10 pt, is about 1 line height of its 10 pt text)
WORD_GAP = 0.8
#: room left at a line's end, beyond the next line's first word, that makes the line's end a
#: hard break (a paragraph's last line), in line heights: a word space is about a quarter
HARD_BREAK = 0.5
Box = tuple[float, float, float, float, str]  # x0, y0, x1, y1 (PDF points, y up), text


class PdfError(ValueError):
    """A file that is not a PDF whose text can be read."""


def pdf_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the PDF file in ``data`` and its Info dictionary's title, author and dates."""
    try:
        from pdfminer.layout import LAParams
        from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
        from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
        from pdfminer.pdfpage import PDFPage
        from pdfminer.psparser import PSException

        from kgx.batch.pdflayout import LayoutTooSlow, LinearAggregator, PageClock
    except ImportError:
        raise PdfError("reading PDF files needs pdfminer.six: pip install 'kgx[pdf]'") from None
    if b"%PDF-" not in data[:1024]:
        raise PdfError("no %PDF- header: not a PDF file")
    try:
        document = PDFDocument(bounded_parser(data))
        manager = PDFResourceManager(caching=True)
        device = LinearAggregator(manager, laparams=LAParams(**LAYOUT),
                                  clock=PageClock(limits.MAX_PAGE_SECONDS, limits.read_deadline()))
        interpreter = PDFPageInterpreter(manager, device)
        sized: list[list[tuple[Box, float]]] = []
        for page in PDFPage.create_pages(document):
            interpreter.process_page(page)
            boxes = [((*bbox, box_text(lines)), type_size(lines))
                     for bbox, lines in merged(text_boxes(device.get_result()))]
            sized.append([(box, size) for box, size in boxes if box[4].strip()])
        meta = document_meta(document)
    except PDFPasswordIncorrect:
        raise PdfError("encrypted with a password: not read") from None
    except PSException as e:
        raise PdfError(f"damaged or not a PDF ({type(e).__name__}: {e})") from None
    except LayoutTooSlow as e:
        raise PdfError(str(e)) from None
    texts, notes = footnotes(sized)
    notes = [[(*box[:4], unmarked(box[4], set())) for box in page] for page in notes]
    labels = [{note_label(box[4]) for box in page} for page in notes]
    texts = [[(*box[:4], unmarked(box[4], marks)) for box in page]
             for page, marks in zip(texts, labels, strict=True)]
    return checked_text([page_text(reading_order(boxes)) for boxes in texts],
                        [page_text(reading_order(boxes)) for boxes in notes if boxes]), meta


def line_text(line: Any) -> str:
    """A line's text, each run of raised digits or note signs in smaller type (a footnote's
    mark, maybe: "Globex¹") wrapped in NUL and SOH for :func:`unmarked` to settle."""
    from pdfminer.layout import LTChar

    chars = [c for c in line if isinstance(c, LTChar)]
    sizes = sorted(c.size for c in chars)
    if not sizes:
        return str(line.get_text())
    size = sizes[len(sizes) // 2]
    lows = sorted(c.y0 for c in chars if c.size >= size)
    base = lows[len(lows) // 2]
    items = list(line)
    while items and not isinstance(items[-1], LTChar):  # the line's end
        items.pop()
    if (len(items) > 2 and items[-1].get_text() in _HYPHENS
            and not isinstance(items[-2], LTChar) and isinstance(items[-3], LTChar)
            and items[-3].get_text().isalpha()):
        # a justified line's hyphen set a little apart from its word ("head -" for "head-",
        # LibreOffice's): pdfminer's gap-made space would part the broken word from it
        del items[-2]
    out, inside = [], False
    for c in items:
        text = c.get_text().replace("\x00", "\ufffd").replace("\x01", "\ufffd")
        mark = (isinstance(c, LTChar) and text in _MARKS and c.size <= NOTE_SIZE * size
                and c.y0 >= base + 0.2 * size)
        if mark != inside:
            out.append("\x00" if mark else "\x01")
            inside = mark
        out.append(text)
    return "".join(out) + ("\x01" if inside else "")


def unmarked(text: str, labels: set[str]) -> str:
    """``text`` without the marks :func:`line_text` wrapped that name one of its page's
    footnotes (``labels``); other raised digits (an exponent) kept as digits."""
    return _MARKED.sub(lambda m: "" if m.group(1) in labels else m.group(1), text)


def note_label(text: str) -> str:
    """The number or sign a footnote opens with ("12", "*", "†"), or ""."""
    m = _LABEL.match(text)
    return m.group(1) if m else ""


def type_size(lines: Iterable[Any]) -> float:
    """The median size of the type of a box's characters."""
    from pdfminer.layout import LTChar

    sizes = sorted(c.size for line in lines for c in line if isinstance(c, LTChar))
    return sizes[len(sizes) // 2] if sizes else 0.0


def footnotes(pages: list[list[tuple[Box, float]]]) -> tuple[list[list[Box]], list[list[Box]]]:
    """Each page's boxes parted into its text and its footnotes: boxes set in type at most
    ``NOTE_SIZE`` of the body's (the size most characters have), under all the body-size text
    of their page, where that text is not under a quarter of theirs (an index in small type
    under its heading). Page numbers and text that recurs on other pages (headers, footers) are
    furniture, for ``mask_page_furniture``: they stay, and the body's text is what is above
    them."""
    chars: Counter[float] = Counter()
    for page in pages:
        for box, size in page:
            chars[round(size, 1)] += len(box[4])
    body = chars.most_common(1)[0][0] if chars else 0.0
    keys = Counter(furniture_key(box[4]) for page in pages for box, _ in page)

    def furniture(box: Box) -> bool:
        return page_number(box[4]) or keys[furniture_key(box[4])] > 1

    notes: list[list[Box]] = []
    for page in pages:  # (paragraphs alike but for their numbers are text, not furniture)
        text = [box for box, size in page if size > NOTE_SIZE * body
                and ("\n" in box[4].strip() or not furniture(box))]
        floor = min((box[1] for box in text), default=None)
        under = [] if floor is None else [
            box for box, size in page if 0 < size <= NOTE_SIZE * body
            and box[3] <= floor + _SLACK and not furniture(box)]
        # a page in small type under a heading (an index) is no page of notes
        shown = sum(len(box[4]) for box in text)
        notes.append(under if shown >= 0.25 * sum(len(box[4]) for box in under) else [])
    moved = [set(page) for page in notes]
    texts = [[box for box, _ in page if box not in out]
             for page, out in zip(pages, moved, strict=True)]
    return texts, notes


def bounded_parser(data: bytes) -> Any:
    """A pdfminer parser of ``data`` whose streams decode within
    ``kgx.batch.limits.document_bytes()`` together, else a :class:`PdfError`.

    pdfminer decodes a stream whole when it is first read: a few kilobytes of a Flate, LZW or
    RunLength bomb (a page's content, an object stream) would take the process's memory. Each
    stream the parser makes is measured before pdfminer decodes it, through its filters in
    order (ASCII85 and ASCIIHex decoded, Flate inflated a megabyte at a time, LZW and RunLength
    counted without decoding); images are never decoded, so never counted."""
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import PDFStream

    left = [limits.document_bytes()]

    class Stream(PDFStream):
        def decode(self) -> None:
            if self.decipher and self.rawdata is not None:  # decrypted once, then counted
                assert self.objid is not None and self.genno is not None
                self.rawdata = self.decipher(self.objid, self.genno, self.rawdata, self.attrs)
                self.decipher = None
            size = decoded_size(self.rawdata or b"", [f for f, _ in self.get_filters()],
                                left[0])
            if size > left[0]:
                raise PdfError(limits.over_limit("its compressed streams hold"))
            left[0] -= size
            super().decode()

    class Parser(PDFParser):
        def do_keyword(self, pos: int, token: Any) -> None:
            super().do_keyword(pos, token)
            if token is self.KEYWORD_STREAM and self.curstack:
                at, made = self.curstack[-1]
                if type(made) is PDFStream:
                    self.curstack[-1] = (at, Stream(made.attrs, made.rawdata or b"",
                                                    made.decipher))

    return Parser(io.BytesIO(data))


def decoded_size(data: bytes, filters: list[Any], budget: int) -> int:
    """About what a stream's ``filters`` make of ``data`` in pdfminer's memory, or ``budget + 1``
    past ``budget``; measured up to the first filter pdfminer leaves alone (an image's). Its
    RunLength decoder holds a list of integers, 8 bytes a byte decoded: counted so."""
    from pdfminer import pdftypes as t

    size = len(data)
    for i, name in enumerate(filters):
        last = i + 1 == len(filters)
        if name in t.LITERALS_FLATE_DECODE:
            size, data = limits.inflated_size(data, budget, keep=not last)
        elif name in t.LITERALS_LZW_DECODE:
            size = limits.lzw_size(data, budget)
            data = t.lzwdecode(data) if size <= budget and not last else data
        elif name in t.LITERALS_RUNLENGTH_DECODE:
            size = 8 * limits.runlength_size(data)
            data = t.rldecode(data) if size <= budget and not last else data
        elif name in t.LITERALS_ASCII85_DECODE or name in t.LITERALS_ASCIIHEX_DECODE:
            decode = t.ascii85decode if name in t.LITERALS_ASCII85_DECODE else t.asciihexdecode
            data = decode(data)
            size = len(data)
        else:
            break
        if size > budget:
            return budget + 1
    return size


def checked_text(pages: list[str], notes: list[str] | None = None) -> str:
    """The pages' text, each ending in a form feed (as pdftotext writes it), then the pages'
    footnotes as a page of their own, pdfminer's ``(cid:N)`` for a glyph without Unicode as
    U+FFFD; an error where nothing or too little of it is text."""
    ended = [*pages, "\n\n".join(notes)] if notes else pages
    text, unmapped = _CID.subn("\ufffd", "".join(page + "\n\f" for page in ended))
    shown = sum(not c.isspace() for c in text)
    if not shown:
        raise PdfError(f"no text on its {len(pages)} page(s) (a scan? its text needs OCR "
                       "first)")
    if unmapped > MAX_UNMAPPED * shown:
        raise PdfError(f"{unmapped} of its {shown} characters are glyphs its fonts give no "
                       "Unicode for: its text cannot be read")
    return text


def text_boxes(container: Any) -> Iterator[Any]:
    """The text boxes of a page's layout, those inside its figures (form XObjects) too."""
    from pdfminer.layout import LTFigure, LTTextBox

    for item in container:
        if isinstance(item, LTTextBox):
            yield item
        elif isinstance(item, LTFigure):
            yield from text_boxes(item)


def merged(boxes: Iterator[Any]) -> list[tuple[tuple[float, float, float, float], list[Any]]]:
    """Each text box's bounding box and lines, a piece of a line merged into its paragraph's
    box: pdfminer parts a justified line at a gap wider than two narrow characters, and the
    part on the right may become a box of its own, inside the paragraph's bounds or just past
    them, on the baseline of one of its lines less than ``WORD_GAP`` line heights away."""
    out: list[tuple[tuple[float, float, float, float], list[Any]]] = []
    for box in sorted(boxes, key=lambda b: -(b.x1 - b.x0) * (b.y1 - b.y0)):
        lines = list(box)
        for i, ((x0, y0, x1, y1), kept) in enumerate(out):
            if box.y0 >= y1 or box.y1 <= y0 or box.x0 > x1 + WORD_GAP * (box.y1 - box.y0):
                continue  # too far to be part of this box's lines (a quick test first)
            inside = (x0 - _SLACK <= box.x0 and box.x1 <= x1 + _SLACK
                      and y0 - _SLACK <= box.y0 and box.y1 <= y1 + _SLACK)
            if inside or _continues_a_line(kept, lines):
                kept.extend(lines)
                out[i] = ((min(x0, box.x0), min(y0, box.y0), max(x1, box.x1), max(y1, box.y1)),
                          kept)
                break
        else:
            out.append(((box.x0, box.y0, box.x1, box.y1), lines))
    return out


def _continues_a_line(lines: list[Any], pieces: list[Any]) -> bool:
    """Whether one of ``pieces`` goes on one of ``lines`` after a word space (not a gutter)."""
    for a in lines:
        for b in pieces:
            height = min(a.y1 - a.y0, b.y1 - b.y0)
            if (abs((a.y0 + a.y1) - (b.y0 + b.y1)) < height
                    and 0 <= b.x0 - a.x1 < WORD_GAP * height):
                return True
    return False


def box_text(box: Iterable[Any]) -> str:
    """A text box's lines top to bottom; the pieces of one line (pdfminer parts a justified
    line at a gap wider than two characters) left to right with a space between them.

    Lines run on with a line break, but a line that ends where the next line's first word
    would still have fitted was not wrapped there: it is the last line of a paragraph (or a
    heading, a list item) set with no space below it, and a blank line follows it, a
    paragraph break to ``kgx_layout_boundaries``."""
    lines = sorted(((line.y0 + line.y1) / 2, line.y1 - line.y0, line.x0,
                    line_text(line).strip("\n"), line.x1, _first_word(line)) for line in box)
    rows: list[list[tuple[float, float, float, str, float, float | None]]] = []
    for line in reversed(lines):  # top to bottom
        if rows and abs(rows[-1][0][0] - line[0]) < 0.5 * min(rows[-1][0][1], line[1]):
            rows[-1].append(line)
        else:
            rows.append([line])
    for row in rows:
        row.sort(key=lambda p: p[2])
    ends = [max(p[4] for p in row) for row in rows]  # each row's right end and height
    sizes = [max(p[1] for p in row) for row in rows]
    furthest = sorted(ends, reverse=True)
    height = sorted(sizes)[len(sizes) // 2] if sizes else 0.0
    # the measure: the furthest end another line's end is near (one line over it, in
    # hard-wrapped text, does not set it)
    measure = next((a for a, b in zip(furthest, furthest[1:], strict=False) if a - b <= height),
                   furthest[-1] if furthest else 0.0)
    out = []
    for k, row in enumerate(rows):
        if k:
            word, room = row[0][5], measure - ends[k - 1]
            out.append("\n\n" if word is not None and room > word + HARD_BREAK * sizes[k - 1]
                       else "\n")
        out.append(" ".join(p[3].strip() for p in row))
    return "".join(out)


def _first_word(line: Any) -> float | None:
    """The width of what starts a line and cannot be parted from it: its first word, with the
    next one after punctuation alone ("( bleomycin": no line break follows an opening
    bracket); None when its characters are not known."""
    from pdfminer.layout import LTChar

    start = end = None
    alnum = False
    for c in line:
        text = c.get_text()
        if isinstance(c, LTChar) and not text.isspace():
            start = c.x0 if start is None else start
            end = c.x1
            alnum = alnum or any(ch.isalnum() for ch in text)
        elif start is not None and alnum:
            break
    return None if start is None or end is None else end - start


def page_text(boxes: list[Box]) -> str:
    """The boxes' text in the order given, a blank line between them (a paragraph break to
    ``kgx_layout_boundaries``), but a line break where the text runs on: the box before does
    not end a sentence and the next one starts higher up (the next column) or with a lowercase
    letter (pdfminer parts a paragraph where its lines are spaced apart)."""
    if not boxes:
        return ""
    out = [boxes[0][4]]
    for before, box in zip(boxes, boxes[1:], strict=False):
        runs_on = continues(before[4], len(before[4])) and (
            box[3] > before[3] or box[4][0].islower())
        out += ["\n" if runs_on else "\n\n", box[4]]
    return "".join(out)


def reading_order(boxes: list[Box]) -> list[Box]:
    """The text boxes of a page in reading order: columns left to right, each top to bottom;
    a box across the columns or between them (a heading, a caption, a page number centred in
    the gutter) between the column bands above and below it.

    A recursive XY cut that keeps columns together: the region's rows (parted at horizontal
    gaps no box crosses) top to bottom, where consecutive rows that have columns of their own,
    or that sit inside one column of the rows before them, are one band, read column by column
    (parted at vertical gaps), so that two columns' paragraphs ending at the same height, or a
    last page's short right column, are not read row by row.
    """
    if len(boxes) < 2:
        return boxes
    regions: list[list[Box]] = []
    band: list[Box] = []
    for row in _cut(boxes, 1):
        if len(_cut(row, 0)) > 1 or (band and _inside_a_column(row, band)):
            band.extend(row)
            continue
        regions += [band, row] if band else [row]
        band = []
    regions += [band] if band else []
    if len(regions) > 1:
        return [b for part in regions for b in reading_order(part)]
    columns = _cut(boxes, 0)
    if len(columns) > 1:
        return [b for part in columns for b in reading_order(part)]
    return sorted(boxes, key=lambda b: (-b[3], b[0]))


def _inside_a_column(row: list[Box], band: list[Box]) -> bool:
    """Whether ``row`` lies within the x extent of one of ``band``'s columns."""
    x0, x1 = min(b[0] for b in row), max(b[2] for b in row)
    return any(min(b[0] for b in c) - _SLACK <= x0 and x1 <= max(b[2] for b in c) + _SLACK
               for c in _cut(band, 0))


def _cut(boxes: list[Box], axis: int) -> list[list[Box]]:
    """``boxes`` parted at the gaps no box crosses along ``axis`` (0: x, left to right; 1: y,
    top to bottom)."""
    def start(b: Box) -> float:
        return b[0] if axis == 0 else -b[3]

    def end(b: Box) -> float:
        return b[2] if axis == 0 else -b[1]

    spans = sorted(boxes, key=start)
    parts: list[list[Box]] = [[spans[0]]]
    edge = end(spans[0])
    for box in spans[1:]:
        if start(box) >= edge:
            parts.append([box])
        else:
            parts[-1].append(box)
        edge = max(edge, end(box))
    return parts


class PdfInput(TextInput):
    """A PDF file: one document, its text boxes in reading order (``pdf_text``), its title,
    author and dates as metadata."""

    name = "pdf"
    suffixes = (".pdf",)

    @classmethod
    def document(cls, data: bytes, where: str, *, encoding: str | None = None
                 ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        try:
            text, meta = pdf_text(data)
        except PdfError as e:
            return None, None, f"{where}: {e}"
        return cls.text_of(text), meta or None, None
