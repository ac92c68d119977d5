"""Are names inside Markdown links or bold found? (issue 19: documents as users have them)

kgx reads ``.md`` files. This script takes the raw documents of K records (``kgx evaluate
--as-documents K``) and marks each entity mention up, with probability ``--rate``:
``--markup link`` makes it a link to a wiki page of its name
(``[Globex](https://example.org/wiki/Globex)``), ``--markup bold`` puts it in ``**``. Only
mentions that overlap no other entity, hold no bracket and do not end in CoNLL04's glued period
("Dallas.", which a link's text would not hold) are marked. The gold offsets move with the
inserted markup. The pipeline then reads the plain documents, the marked ones as written
(links: with spaCy's English tokenizer, what pipelines saved with ``spacy.Tokenizer.v1`` have,
and with ``kgx.Tokenizer.v1``, the link brackets split off by ``split_markdown_links``), and the
marked ones as kgx reads a ``.md`` file (``kgx.batch.markdown.mask_markup``: the markup and the
address as spaces, the offsets unchanged). It prints NER and strict relation P/R/F1 by character
offsets, how many of the marked mentions were found with their label, and what the masking
costs against the pipeline.

    python benchmarks/eval_markdown.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5 --rate 0.3 --markup link
"""

from __future__ import annotations

import os
import random

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_inference import alternate  # noqa: E402
from eval_trailing_period import analysed, arguments, facts, pipelines, scores  # noqa: E402

Span = tuple[int, int]
WIKI = "https://example.org/wiki/"
ROUNDS = 10  # of the cost timings, alternating after a warm-up round (bench_inference.alternate)


def markup(name: str, kind: str) -> tuple[str, str]:
    """What goes before and after a marked mention."""
    if kind == "bold":
        return "**", "**"
    return "[", "](" + WIKI + name.replace(" ", "_") + ")"


def marked(text: str, entities: set, rate: float, rng: random.Random, kind: str
           ) -> tuple[str, dict[Span, Span], set[Span]]:
    """The text with some mentions marked up, where each gold span moved, and the marked
    spans (new offsets)."""
    spans = sorted({span for span, _ in entities})
    alone = [s for s in spans if not any(o != s and o[0] < s[1] and s[0] < o[1] for o in spans)
             and not set(text[s[0]:s[1]]) & set("[]()") and not text[s[1] - 1] == "."]
    chosen = {s for s in alone if rng.random() < rate}
    out, last, added, moved, marks = [], 0, 0, {}, set()
    for start, end in spans:
        if (start, end) in chosen:
            before, after = markup(text[start:end], kind)
            out += [text[last:start], before, text[start:end], after]
            last = end
            moved[start, end] = (start + added + len(before), end + added + len(before))
            marks.add(moved[start, end])
            added += len(before) + len(after)
        else:
            moved[start, end] = (start + added, end + added)
    out.append(text[last:])
    return "".join(out), moved, marks


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--rate", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--markup", choices=("link", "bold"), default="link")
    args = ap.parse_args()

    import spacy

    from kgx.batch.markdown import mask_markup
    from kgx.pipeline.tokenizer import split_markdown_links

    versions = {"link": ["as written, spaCy's tokenizer", "as written, kgx.Tokenizer.v1"],
                "bold": ["as written"]}[args.markup] + ["read as .md"]
    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        rng = random.Random(args.seed)
        plain = [facts(eg.reference, False) for eg in examples]
        texts, gold, marks = [], [], []
        for eg, (ents, rels) in zip(examples, plain, strict=True):
            text, moved, marked_spans = marked(eg.reference.text, ents, args.rate, rng,
                                               args.markup)
            texts.append(text)
            gold.append(({(moved[s], label) for s, label in ents},
                         {(moved[hs], hl, moved[ts], tl, label)
                          for hs, hl, ts, tl, label in rels}))
            marks.append({(s, label) for s, label in gold[-1][0] if s in marked_spans})
            assert all(text[a:b] == eg.reference.text[s[0]:s[1]] for s, (a, b) in moved.items())
        n_marks = sum(map(len, marks))
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)}; rate {args.rate}: {n_marks} of "
              f"{sum(len(e) for e, _ in plain)} mentions marked up ({args.markup})")
        found, _ = analysed(nlp, [eg.reference.text for eg in examples])
        print(f"  {'plain':<30} " + scores(plain, found))
        for name in versions:
            if name.endswith("v1"):
                split_markdown_links(nlp.tokenizer, nlp)
            batch = [mask_markup(t) for t in texts] if name.endswith(".md") else texts
            found, seconds = analysed(nlp, batch)
            hits = sum(len(m & f[0]) for m, f in zip(marks, found, strict=True))
            print(f"  {name:<30} " + scores(gold, found) +
                  f"   marked mentions found {hits} of {n_marks}")
        words = sum(len(t.split()) for t in texts)
        median, _ = alternate({"mask_markup": lambda batch=texts: list(map(mask_markup, batch))},
                              ROUNDS)
        masking = median["mask_markup"]
        print(f"  cost: mask_markup {words / masking:,.0f} words/s, the pipeline on the masked "
              f"text {words / seconds:,.0f} words/s ({100 * masking / seconds:.2f}% of its time)")
        tokenizers = {"spaCy's": spacy.blank(nlp.lang).tokenizer,
                      "kgx.Tokenizer.v1": split_markdown_links(spacy.blank(nlp.lang).tokenizer,
                                                               nlp)}
        for kind, batch in (("plain", [eg.reference.text for eg in examples]),
                            ("marked", texts)):
            median, _ = alternate({name: lambda tok=tok, batch=batch: list(map(tok, batch))
                                   for name, tok in tokenizers.items()}, ROUNDS)
            n_words = sum(len(t.split()) for t in batch)
            print(f"  tokenizer on the {kind} text, alternating, median of {ROUNDS}: " +
                  ", ".join(f"{name} {n_words / median[name]:,.0f} words/s" for name in tokenizers))


if __name__ == "__main__":
    main()
