"""Does text taken out of PDFs, with the typesetter's ligatures, lose entities? (issue 19:
documents as users have them)

pdftotext and other extractors often keep a font's ligature glyphs as the Unicode ligatures
U+FB00-FB04: "ﬁbrosis", "ofﬁcial", "Sheﬃeld". This script takes the raw documents of K records
(``kgx evaluate --as-documents K``), writes every "ffi", "ffl", "ff", "fi" and "fl" inside a
word as its ligature (one character, so the gold offsets move), and runs the pipeline on the
plain documents, on the ligature documents as kgx read them before (the encoder, the lexical
features and spaCy's infix rules reading the characters as written) and as kgx reads them now
(folded to their compatibility equivalents for the word-piece tokenizer, offsets mapped back,
and for the recogniser's lexical features; the ligatures counted as letters by the infix rules
of ``kgx.Tokenizer.v1``). It prints NER and strict relation P/R/F1 by character offsets, how
many gold mentions hold a ligature and how many of those were found with their label, and what
the folding costs.

    python benchmarks/eval_ligatures.py --model training/ade/model-last \
        --data corpus/ade/dev.spacy --documents 5
"""

from __future__ import annotations

import contextlib
import os
import re
from unittest import mock

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_inference import alternate  # noqa: E402
from eval_trailing_period import (  # noqa: E402
    analysed,
    arguments,
    facts,
    moved_facts,
    pipelines,
    scores,
)

LIGATURES = {"ffi": "\ufb03", "ffl": "\ufb04", "ff": "\ufb00", "fi": "\ufb01", "fl": "\ufb02"}
_LETTERS = re.compile("ffi|ffl|ff|fi|fl")
ROUNDS = 10


def ligated(text: str, keep: set[int]) -> tuple[str, list[int]]:
    """``text`` with its ligatures as one character each (none across a position in ``keep``,
    the gold spans' edges), and each original position's new position (one past the end too)."""
    out: list[str] = []
    moved: list[int] = []
    last = 0
    for match in _LETTERS.finditer(text):
        start, end = match.span()
        if any(start < k < end for k in keep):
            continue
        for i in range(last, start):
            moved.append(len(out))
            out.append(text[i])
        new = len(out)
        moved.extend([new] * (end - start))
        out.append(LIGATURES[match.group()])
        last = end
    for i in range(last, len(text)):
        moved.append(len(out))
        out.append(text[i])
    moved.append(len(out))
    return "".join(out), moved


def main() -> None:
    args = arguments(__doc__).parse_args()

    from kgx.pipeline import features, wordpieces
    from kgx.pipeline.tokenizer import split_at_ligatures
    from kgx.text import fold_presentation_forms

    def as_written() -> contextlib.ExitStack:
        """kgx before: the encoder and the lexical features read the characters as written."""
        stack = contextlib.ExitStack()
        stack.enter_context(mock.patch.object(wordpieces, "fold_for_models",
                                              lambda text, breaks=None: (text, None)))
        stack.enter_context(mock.patch.object(features, "has_presentation_forms",
                                              lambda text: False))
        return stack

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        plain = [facts(eg.reference, False) for eg in examples]
        texts, gold, touched = [], [], []
        for eg, (ents, rels) in zip(examples, plain, strict=True):
            edges = {k for span, _ in ents for k in span}
            text, moved = ligated(eg.reference.text, edges)
            texts.append(text)
            gold.append(moved_facts((ents, rels), moved))
            touched.append({(s, label) for s, label in gold[-1][0]
                            if re.search("[\ufb00-\ufb04]", text[s[0]:s[1]])})
        n_touched = sum(map(len, touched))
        n_ligatures = sum(len(re.findall("[\ufb00-\ufb04]", t)) for t in texts)
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)}; {n_ligatures} ligatures, in {n_touched} of "
              f"{sum(len(e) for e, _ in plain)} gold mentions")
        plain_texts = [eg.reference.text for eg in examples]
        found, _ = analysed(nlp, plain_texts)
        print(f"  {'plain':<42} " + scores(plain, found))
        for name in ("ligatures, read as written (before)", "ligatures, folded (kgx now)"):
            if name.endswith("(before)"):
                with as_written():
                    found, _ = analysed(nlp, texts)
            else:
                # a pipeline saved before kgx.Tokenizer.v1 split at ligatures gets the rules
                split_at_ligatures(nlp.tokenizer, nlp)
                found, seconds = analysed(nlp, texts)
            hits = sum(len(t & f[0]) for t, f in zip(touched, found, strict=True))
            print(f"  {name:<42} " + scores(gold, found) +
                  f"   mentions with a ligature found {hits} of {n_touched}")
        words = sum(len(t.split()) for t in texts)
        median, _ = alternate({
            f"fold ({kind} text)": lambda batch=batch: list(map(fold_presentation_forms, batch))
            for kind, batch in (("ligature", texts), ("plain", plain_texts))}, ROUNDS)
        print(f"  cost, median of {ROUNDS}: " + ", ".join(
            f"{name} {words / t:,.0f} words/s" for name, t in median.items()) +
              f"; the pipeline on the ligature text {words / seconds:,.0f} words/s (folding "
              f"{100 * median['fold (ligature text)'] / seconds:.2f}% of its time)")


if __name__ == "__main__":
    main()
