"""Are names inside Markdown links found? (issue 19: documents as users have them)

kgx reads ``.md`` files as they are. This script takes the raw documents of K records
(``kgx evaluate --as-documents K``), turns each entity mention, with probability ``--rate``,
into a link to a wiki page of its name (``[Globex](https://example.org/wiki/Globex)``; only
mentions that overlap no other entity, hold no bracket and do not end in CoNLL04's glued period,
"Dallas.", which a link's text would not hold), moves the gold offsets with the
inserted markup, and runs the pipeline four times: on the plain documents, on the linked ones
with spaCy's English tokenizer (what pipelines saved with ``spacy.Tokenizer.v1`` have), on the
linked ones with ``kgx.Tokenizer.v1`` (the link brackets split off: ``split_markdown_links``),
and on the linked ones as kgx reads a ``.md`` file (``kgx.batch.markdown.mask_links``: the
markup and the address as spaces, the offsets unchanged).
It prints NER and strict relation P/R/F1 by character offsets, and how many of the linked
mentions were found with their label.

    python benchmarks/eval_markdown_links.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5 --rate 0.3
"""

from __future__ import annotations

import os
import random
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from eval_trailing_period import arguments, facts, pipelines, scores  # noqa: E402

Span = tuple[int, int]


def linked(text: str, entities: set, rate: float, rng: random.Random
           ) -> tuple[str, dict[Span, Span], set[Span]]:
    """The text with some mentions made links, where each gold span moved, and the linked
    spans (new offsets)."""
    spans = sorted({span for span, _ in entities})
    alone = [s for s in spans if not any(o != s and o[0] < s[1] and s[0] < o[1] for o in spans)
             and not set(text[s[0]:s[1]]) & set("[]()") and not text[s[1] - 1] == "."]
    chosen = {s for s in alone if rng.random() < rate}
    out, last, added, moved, links = [], 0, 0, {}, set()
    for start, end in spans:
        if (start, end) in chosen:
            name = text[start:end]
            out += [text[last:start], "[", name, "](https://example.org/wiki/",
                    name.replace(" ", "_"), ")"]
            last = end
            moved[start, end] = (start + added + 1, end + added + 1)
            links.add(moved[start, end])
            added += len("[](https://example.org/wiki/)") + len(name)
        else:
            moved[start, end] = (start + added, end + added)
    out.append(text[last:])
    return "".join(out), moved, links


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--rate", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from kgx.batch.markdown import mask_links
    from kgx.pipeline.tokenizer import split_markdown_links

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        rng = random.Random(args.seed)
        plain = [facts(eg.reference, False) for eg in examples]
        texts, gold, links = [], [], []
        for eg, (ents, rels) in zip(examples, plain, strict=True):
            text, moved, linked_spans = linked(eg.reference.text, ents, args.rate, rng)
            texts.append(text)
            gold.append(({(moved[s], label) for s, label in ents},
                         {(moved[hs], hl, moved[ts], tl, label)
                          for hs, hl, ts, tl, label in rels}))
            links.append({(s, label) for s, label in gold[-1][0] if s in linked_spans})
            assert all(text[a:b] == eg.reference.text[s[0]:s[1]] for s, (a, b) in moved.items())
        n_links = sum(map(len, links))
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)}; rate {args.rate}: {n_links} of "
              f"{sum(len(e) for e, _ in plain)} mentions linked")
        found = [facts(doc, False) for doc in nlp.pipe(
            [eg.reference.text for eg in examples], batch_size=64)]
        print(f"  {'plain':<26} " + scores(plain, found))
        for name in ("links, spaCy's tokenizer", "links, kgx.Tokenizer.v1", "links, read as .md"):
            if name.endswith("v1"):
                split_markdown_links(nlp.tokenizer, nlp)
            batch = [mask_links(t) for t in texts] if name.endswith(".md") else texts
            began = time.perf_counter()
            found = [facts(doc, False) for doc in nlp.pipe(batch, batch_size=64)]
            seconds = time.perf_counter() - began
            hits = sum(len(lk & f[0]) for lk, f in zip(links, found, strict=True))
            print(f"  {name:<26} " + scores(gold, found) +
                  f"   linked mentions found {hits} of {n_links}")
        words = sum(len(t.split()) for t in texts)
        began = time.perf_counter()
        for _ in range(10):
            [mask_links(t) for t in texts]
        masking = (time.perf_counter() - began) / 10
        print(f"  cost: mask_links {words / masking:,.0f} words/s, the pipeline on the masked "
              f"text {words / seconds:,.0f} words/s ({100 * masking / seconds:.2f}% of its time)")


if __name__ == "__main__":
    main()
