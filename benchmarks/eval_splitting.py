"""Long documents processed in pieces: where the cuts fall, and what they cost (issue 19:
documents as users have them)

``kgx extract`` processes a document longer than ``--max-length`` characters (the pipeline's
``max_length`` by default) in pieces cut by ``kgx.batch.split_points``, and shifts the pieces'
records back into the whole text. This script builds documents of K dev records, hard-wrapped at
72 columns as e-mail and text taken out of PDFs are (``--hyphenate``: with words of 6 letters
or more broken at line ends, as ``eval_hyphenation.py`` breaks them), runs ``kgx.batch.extract``
on them with a small ``--max-length`` so that each is cut several times, and scores the records
by character offsets (NER from the records' heads and tails is not scored: relations only).
It runs the cut rules of before (the last line break in the window first) and now (sentence
ends before line breaks, never inside a word broken at a line end), and counts the cuts that
fall inside a gold sentence and inside a broken word.

    python benchmarks/eval_splitting.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 10 --max-length 600
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from unittest import mock

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from eval_hyphenation import hyphenated  # noqa: E402
from eval_trailing_period import arguments, facts, moved_facts, pipelines, prf  # noqa: E402

WIDTH = 72


def cuts_before(text: str, limit: int) -> list[tuple[int, int]]:
    """``kgx.batch.split_points`` as it was: the last paragraph break, else the last line
    break, else the last sentence end, else the last whitespace in the window's second half."""
    from kgx.batch.splitting import _LINE, _PARAGRAPH, _SENT_END

    pieces: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while n - start > limit:
        window = text[start:start + limit]
        half = limit // 2
        cut = -1
        for sep in (_PARAGRAPH, _LINE):
            ends = [m.end() for m in sep.finditer(window, half)]
            if ends:
                cut = ends[-1]
                break
        if cut < 0:
            ends = [m.end() for m in _SENT_END.finditer(window, half)]
            cut = ends[-1] if ends else -1
        if cut < 0:
            space = re.search(r"\s(?=\S*$)", window[half:])
            cut = half + space.end() if space is not None else -1
        if cut <= 0:
            cut = limit
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, n))
    return pieces


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--max-length", type=int, default=600)
    ap.add_argument("--hyphenate", action="store_true")
    args = ap.parse_args()

    from kgx.batch import annotation, extract, split_points
    from kgx.corpus.documents import wrap_text
    from kgx.text import line_end_hyphens

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        texts, gold, sentences = [], [], []
        for eg in examples:
            ref = eg.reference
            text, moved = wrap_text(ref.text, WIDTH), list(range(len(ref.text) + 1))
            ents, rels = facts(ref, False)
            if args.hyphenate:
                text, moved = hyphenated(ref.text, {k for span, _ in ents for k in span})
            texts.append(text)
            gold.append(moved_facts((ents, rels), moved)[1])
            sentences.append([(moved[s.start_char], moved[s.end_char - 1] + 1)
                              for s in ref.sents])
        words = sum(len(t.split()) for t in texts)
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(texts)}, {words} words, {sum(map(len, gold))} gold relations; "
              f"wrapped at {WIDTH}{', words broken at line ends' if args.hyphenate else ''}; "
              f"pieces of at most {args.max_length} characters")
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "docs.jsonl"
            corpus.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n"
                                      for i, t in enumerate(texts)), encoding="utf-8")
            for name, rule in (("before: line breaks first", cuts_before),
                               ("now: sentence ends first", split_points)):
                inside_sentence = inside_word = n_cuts = 0
                for text, sents in zip(texts, sentences, strict=True):
                    broken = {c for a, b in line_end_hyphens(text) for c in range(a + 1, b + 1)}
                    for _, cut in rule(text, args.max_length)[:-1]:
                        n_cuts += 1
                        inside_sentence += any(s < cut < e and text[s:cut].strip()
                                               and text[cut:e].strip() for s, e in sents)
                        inside_word += cut in broken
                with mock.patch.object(annotation, "split_points", rule):
                    records = list(extract([corpus], nlp, max_length=args.max_length))
                found: list[set] = [set() for _ in texts]
                for r in records:
                    h, t = r["head"], r["tail"]
                    found[int(r["doc_id"])].add(((h["start_char"], h["end_char"]), h["label"],
                                                 (t["start_char"], t["end_char"]), t["label"],
                                                 r["relation"]))
                hits = sum(len(g & f) for g, f in zip(gold, found, strict=True))
                print(f"  {name:<28} {n_cuts} cuts, {inside_sentence} inside a sentence, "
                      f"{inside_word} inside a broken word;  relations "
                      f"{prf(hits, sum(map(len, found)), sum(map(len, gold)))}")
        # the cost: both rules on one long text cut at spaCy's default max_length
        import time

        book = " ".join(texts) * (20_000_000 // sum(map(len, texts)) + 1)
        for name, rule in (("before", cuts_before), ("now", split_points)):
            began = time.perf_counter()
            n = len(rule(book, 1_000_000))
            print(f"  cutting {len(book) / 1e6:.1f} MB into {n} pieces of at most 1,000,000 "
                  f"characters, {name}: {time.perf_counter() - began:.3f} s")
        whole = [facts(doc, False)[1] for doc in nlp.pipe(texts)]
        hits = sum(len(g & f) for g, f in zip(gold, whole, strict=True))
        print(f"  {'no cuts (one piece each)':<28} relations "
              f"{prf(hits, sum(map(len, whole)), sum(map(len, gold)))}")


if __name__ == "__main__":
    main()
