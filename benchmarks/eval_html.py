"""Web pages: what reading an .html file as its text gains over reading its markup (issue 19:
documents as users have them)

Saved web pages put tags between the words and references inside them, and navigation,
scripts and styles around them. This script turns the raw documents of K dev records
(``kgx evaluate --as-documents K``) into pages: a head with a title, a style and a script, a
navigation bar, a heading, each record a ``<p>`` with its gold mentions (``--every N``: every
N-th) inside links, bold, italics or spans in turn, ``&``, ``<``, ``>`` and apostrophes as
references, and a footer. It runs the pipeline on the same records as plain paragraphs, on
the pages as kgx reads an .html file (``kgx.batch.html.html_text``), and on the pages' markup
as text (what a user got before, passing a page as .txt or in JSONL). NER and relations are
scored strictly by character offsets where the text allows it, and for all three by the
mentions' text (the markup has other offsets): P/R/F1.

    python benchmarks/eval_html.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5 --every 3
"""

from __future__ import annotations

import html
import os
import re

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from eval_trailing_period import (  # noqa: E402
    analysed,
    arguments,
    facts,
    pipelines,
    reading_cost,
    scores,
)

TAGS = (('<a href="https://example.org/wiki/{slug}">', "</a>"), ("<b>", "</b>"),
        ("<i>", "</i>"), ('<span class="entity">', "</span>"))
TITLE, NAV, FOOTER = "Document {i}", "Home | About", "\u00a9 2026 Example News"


def escaped(text: str) -> str:
    return html.escape(text, quote=False).replace("'", "&#39;")


def page(i: int, records: list[str], mentions: list[list[tuple[int, int]]], every: int = 1
         ) -> str:
    """The HTML page of document ``i``: its records as paragraphs, every ``every``-th mention
    in a tag."""
    body = []
    k = 0
    for text, spans in zip(records, mentions, strict=True):
        out, last = [], 0
        for start, end in sorted(spans):
            if start < last:  # nested or overlapping: the outer one only
                continue
            k += 1
            if k % every:
                continue
            opening, closing = TAGS[k // every % len(TAGS)]
            slug = re.sub(r"\W+", "_", text[start:end])
            out += [escaped(text[last:start]), opening.format(slug=slug),
                    escaped(text[start:end]), closing]
            last = end
        out.append(escaped(text[last:]))
        body.append("<p>" + "".join(out) + "</p>")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{TITLE.format(i=i)}"
            "</title>\n<style>p { margin: 0 }</style><script>var seen = '<p>x</p>';</script>"
            '</head>\n<body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>\n'
            f"<article><h1>Report {i}</h1>\n" + "\n".join(body) +
            "</article>\n<footer>&copy; 2026 Example News</footer></body></html>\n")


def by_text(text: str, found: tuple[set, set]) -> tuple[set, set]:
    """``facts`` keyed by the mentions' text (spaces collapsed) instead of their offsets."""
    def name(span: tuple[int, int]) -> str:
        return " ".join(text[span[0]:span[1]].split())

    ents, rels = found
    return ({(name(s), label) for s, label in ents},
            {(name(hs), hl, name(ts), tl, label) for hs, hl, ts, tl, label in rels})


def compared(nlp, rows: list[tuple[str, list[str], int | None]], plain: list[str],
             gold: list[list[tuple[set, set]]]) -> None:
    """Print each row's scores: ``(name, texts, which)`` runs the pipeline on ``texts`` and
    scores it against ``gold[doc][which]`` by offsets, and by the mentions' text against
    ``gold[doc][0]`` in ``plain`` where ``which`` is None (the offsets of another text)."""
    for name, texts, which in rows:
        found, seconds = analysed(nlp, texts)
        truth = [g[which or 0] for g in gold]
        base = plain if which is None else texts  # the text the gold offsets count in
        named = [by_text(t, f) for t, f in zip(texts, found, strict=True)]
        named_gold = [by_text(b, g) for b, g in zip(base, truth, strict=True)]
        strict = scores(truth, found) if which is not None else "(offsets: another text)"
        print(f"  {name:<42} {strict}\n  {'':<42} by text: {scores(named_gold, named)}"
              f"   {seconds:.1f} s")


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--every", type=int, default=1, help="tag every N-th gold mention")
    args = ap.parse_args()

    from kgx.batch.html import html_text

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        plain, pages, read, gold = [], [], [], []
        for i, eg in enumerate(examples):
            ref = eg.reference
            sents = list(ref.sents)
            records = [s.text.strip() for s in sents]
            ents, rels = facts(ref, False)
            # each record's mentions, in record offsets; then the paragraphs' offsets
            mentions, shift, at = [], {}, 0
            for s, text in zip(sents, records, strict=True):
                lead = len(s.text) - len(s.text.lstrip())
                mentions.append([(a - s.start_char - lead, b - s.start_char - lead)
                                 for (a, b), _ in ents if s.start_char <= a < s.end_char])
                for c in range(s.start_char, s.end_char + 1):
                    shift[c] = at + c - s.start_char - lead
                at += len(text) + 2
            text = "\n\n".join(records)
            pages.append(page(i, records, mentions, args.every))
            read.append(html_text(pages[-1]))
            head = f"{TITLE.format(i=i)}\n\n{NAV}\n\nReport {i}\n\n"
            if read[-1] != head + text + f"\n\n{FOOTER}":
                raise SystemExit(f"document {i}: the page's text is not its records")

            def move(span: tuple[int, int], by: int, shift: dict = shift) -> tuple[int, int]:
                return shift[span[0]] + by, shift[span[1]] + by

            plain.append(text)
            gold.append([({(move(s, by), label) for s, label in ents},
                          {(move(hs, by), hl, move(ts, by), tl, label)
                           for hs, hl, ts, tl, label in rels}) for by in (0, len(head))])
        n_tags = sum(p.count("</") for p in pages)
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)} pages, {n_tags} closing tags, "
              f"{sum(p.count('&') for p in pages)} references")
        compared(nlp, [("the records as plain paragraphs", plain, 0),
                       ("the pages read as their text (now)", read, 1),
                       ("the pages' markup read as text (before)", pages, None)], plain, gold)
        reading_cost("the pages' text", html_text, pages)


if __name__ == "__main__":
    main()
