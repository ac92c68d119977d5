"""Text taken out of PDFs page by page: what running headers, page numbers and page breaks
cost, and what ``kgx.batch.pages.mask_page_furniture`` gets back (issue 19: documents as users
have them)

``pdftotext`` writes each page's text and a form feed; every page repeats the document's
running header and its page number. This script hard-wraps the raw documents of K dev records
(``kgx evaluate --as-documents K``) at 72 columns, cuts them into pages of ``--lines`` lines,
puts a header ("Globex Quarterly Review 2026") and a blank line on top of each page and a blank
line and "- N -" below it, ends each page with a form feed, and runs the pipeline on the
wrapped text without pages, on the pages as written (kgx before) and on the pages as kgx's
text reader now reads them (furniture blanked, page breaks inside a sentence made line breaks;
the same offsets). NER and relation strict P/R/F1 by character offsets, and how many gold
relations have a page break between their two entities or inside one.

    python benchmarks/eval_pages.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 10 --lines 12
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from eval_trailing_period import (  # noqa: E402
    analysed,
    arguments,
    facts,
    moved_facts,
    pipelines,
    reading_cost,
    scores,
)

HEADER = "Globex Quarterly Review 2026"


def paginated(text: str, lines_per_page: int) -> tuple[str, list[int]]:
    """``text`` (hard-wrapped) laid out in pages as pdftotext writes them, and where each of
    its characters went (one past the end too)."""
    out: list[str] = []
    moved: list[int] = []
    lines = text.split("\n")
    for p in range(0, len(lines), lines_per_page):
        out.append(HEADER + "\n\n")
        for k, line in enumerate(lines[p:p + lines_per_page]):
            at = sum(map(len, out))
            moved.extend(range(at, at + len(line) + 1))  # the line and the break after it
            out.append(line + "\n")
            if k == lines_per_page - 1 or p + k == len(lines) - 1:
                out.append(f"\n- {p // lines_per_page + 1} -\n\f")
    page_text = "".join(out)
    moved = moved[:len(text)] + [len(page_text)]
    return page_text, moved


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--lines", type=int, default=12)
    args = ap.parse_args()

    from kgx.batch.pages import mask_page_furniture
    from kgx.corpus.documents import wrap_text

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        plain, wrapped, pages, gold = [], [], [], []
        crossing = 0
        for eg in examples:
            ents, rels = facts(eg.reference, False)
            text = wrap_text(eg.reference.text, 72)
            page_text, moved = paginated(text, args.lines)
            plain.append((ents, rels))
            wrapped.append(text)
            pages.append(page_text)
            gold.append(moved_facts((ents, rels), moved))
            for hs, _, ts, _, _ in gold[-1][1]:
                a, b = min(hs[0], ts[0]), max(hs[1], ts[1])
                crossing += "\f" in page_text[a:b]
        masked = [mask_page_furniture(p) for p in pages]
        assert all(len(m) == len(p) for m, p in zip(masked, pages, strict=True))
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)}; {sum(p.count(chr(12)) for p in pages)} pages of {args.lines} "
              f"lines; {crossing} of {sum(len(r) for _, r in gold)} gold relations across a "
              "page break")
        for name, texts, truth in (("wrapped, no pages", wrapped, plain),
                                   ("pages as written (before)", pages, gold),
                                   ("pages, furniture masked (now)", masked, gold)):
            found, seconds = analysed(nlp, texts)
            print(f"  {name:<32} {scores(truth, found)}   {seconds:.1f} s")
        reading_cost("(masking) the pages", mask_page_furniture, pages)


if __name__ == "__main__":
    main()
