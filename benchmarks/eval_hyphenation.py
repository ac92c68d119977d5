"""Does text taken out of PDFs, with words hyphenated at line ends, lose entities? (issue 19:
documents as users have them)

Justified text breaks words at the end of a line ("Glo-" / "bex"), and pdftotext and most
other extractors keep the hyphen and the line break ("Glo-\\nbex"). This script takes the raw
documents of K records (``kgx evaluate --as-documents K``), hard-wraps them at 72 columns as
``--layout wrapped`` does, but where a word of six letters or more would pass the column it is
broken there with a hyphen (at least two letters before the break and three after), as a
typesetter would; the gold offsets move with the text. It runs the pipeline on the documents
wrapped without hyphens, on the hyphenated documents as kgx read them before (the encoder and
the lexical features reading the tokens "Glo-", a line break and "bex") and as kgx reads them
now (``kgx_layout_boundaries`` merges the three into one token, which the encoder's word pieces
and the lexical features read as "Globex": ``kgx.text.fold_for_models``; the text and offsets
stay as written). It
prints NER and strict relation P/R/F1 by character offsets, how many gold mentions hold a
break and how many of those were found with their label, and what the folding costs.

    python benchmarks/eval_hyphenation.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5
"""

from __future__ import annotations

import contextlib
import cProfile
import os
import pstats
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

WIDTH = 72
MIN_WORD, MIN_BEFORE, MIN_AFTER = 6, 2, 3
ROUNDS = 5
# what kgx now does that it did not before (folded_doc ran before too, for ligatures)
PROFILED = ("merge_line_end_hyphens", "_within_tokens", "fold_for_models",
            "line_end_hyphens", "folded_doc")
_WORD = re.compile(r"[^ \n]+")
_LETTERS = re.compile(r"[^\W\d_]+")


def hyphenated(text: str, keep: set[int], width: int = WIDTH) -> tuple[str, list[int]]:
    """``text`` wrapped at ``width`` columns, a word of letters broken with a hyphen where it
    would pass the column (never at a position in ``keep``, the gold spans' edges), and each
    original position's new position (one past the end too)."""
    out: list[str] = []
    moved: list[int] = []
    column, last_space, pos = 0, -1, 0  # last_space: the line's last space, in ``out``
    for match in _WORD.finditer(text):
        start, end = match.span()
        for i in range(pos, start):  # the spaces before the word
            moved.append(len(out))
            if text[i] == " ":
                last_space = len(out)
            out.append(text[i])
            column = 0 if text[i] == "\n" else column + 1
        word, split = match.group(), width - column - 1  # letters that fit before a hyphen
        breaks = (len(word) > width - column and column > 0 and _LETTERS.fullmatch(word)
                  and len(word) >= MIN_WORD and split >= MIN_BEFORE
                  and len(word) - split >= MIN_AFTER and start + split not in keep)
        if len(word) > width - column and column > 0 and not breaks and last_space >= 0:
            out[last_space] = "\n"
            column = len(out) - last_space - 1
        for i in range(start, end):
            if breaks and i == start + split:
                out.extend("-\n")
                column = 0
            moved.append(len(out))
            out.append(text[i])
            column += 1
        pos = end
    for i in range(pos, len(text)):
        moved.append(len(out))
        out.append(text[i])
    moved.append(len(out))
    return "".join(out), moved


def main() -> None:
    args = arguments(__doc__).parse_args()

    from kgx.corpus.documents import wrap_text
    from kgx.pipeline import features, wordpieces
    from kgx.text import (
        fold_presentation_forms,
        line_end_hyphens,
    )

    def as_written(nlp) -> contextlib.ExitStack:
        """kgx before: three tokens, the models reading the hyphen and the two halves."""
        stack = contextlib.ExitStack()
        stack.enter_context(mock.patch.object(
            wordpieces, "fold_for_models", lambda text, breaks=None: fold_presentation_forms(text)))
        stack.enter_context(mock.patch.object(features, "line_end_hyphens", lambda text: []))
        if "kgx_layout_boundaries" in nlp.pipe_names:
            stack.enter_context(mock.patch.object(nlp.get_pipe("kgx_layout_boundaries"),
                                                  "line_end_hyphens", False))
        return stack

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        plain = [facts(eg.reference, False) for eg in examples]
        texts, gold, touched, touched_plain = [], [], [], []
        for eg, (ents, rels) in zip(examples, plain, strict=True):
            edges = {k for span, _ in ents for k in span}
            text, moved = hyphenated(eg.reference.text, edges)
            texts.append(text)
            gold.append(moved_facts((ents, rels), moved))
            touched.append({(s, label) for s, label in gold[-1][0]
                            if "-\n" in text[s[0]:s[1]]})
            touched_plain.append({(s, label) for s, label in ents
                                  if "-\n" in text[moved[s[0]]:moved[s[1] - 1] + 1]})
        n_touched = sum(map(len, touched))
        n_breaks = sum(t.count("-\n") for t in texts)
        capital = sum(len(re.findall(r"-\n[^\W\d_]", t)) - len(line_end_hyphens(t))
                      for t in texts)
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)}; {n_breaks} words broken at a line end ({capital} before a "
              f"capital, which no rule can tell from a real hyphen), in {n_touched} of "
              f"{sum(len(e) for e, _ in plain)} gold mentions")
        wrapped = [wrap_text(eg.reference.text, WIDTH) for eg in examples]
        found, _ = analysed(nlp, wrapped)
        hits = sum(len(t & f[0]) for t, f in zip(touched_plain, found, strict=True))
        print(f"  {'wrapped, no word broken':<40} " + scores(plain, found) +
              f"   the same mentions unbroken found {hits} of {n_touched}")
        for name in ("hyphenated, read as written (before)", "hyphenated, joined (kgx now)"):
            if name.endswith("(before)"):
                with as_written(nlp):
                    found, _ = analysed(nlp, texts)
            else:
                found, _ = analysed(nlp, texts)
            hits = sum(len(t & f[0]) for t, f in zip(touched, found, strict=True))
            print(f"  {name:<40} " + scores(gold, found) +
                  f"   mentions with a break found {hits} of {n_touched}")
        # what it costs: the whole pipeline, kgx before and now, on both texts, alternating
        words = sum(len(t.split()) for t in texts)

        def run(batch: list[str], before: bool, nlp=nlp) -> None:
            with as_written(nlp) if before else contextlib.nullcontext():
                list(nlp.pipe(batch, batch_size=64))

        median, _ = alternate({
            f"{kind}, {code}": lambda batch=batch, before=code == "before": run(batch, before)
            for kind, batch in (("hyphenated", texts), ("wrapped", wrapped))
            for code in ("before", "now")}, ROUNDS)
        for kind in ("hyphenated", "wrapped"):
            print(f"  cost on the {kind} text, median of {ROUNDS}: before "
                  f"{words / median[f'{kind}, before']:,.0f} words/s, now "
                  f"{words / median[f'{kind}, now']:,.0f} (now / before "
                  f"{median[f'{kind}, before'] / median[f'{kind}, now']:.3f})")
        # the steps added, too small for the whole pass's noise: their cumulative time in one
        # profiled pass (cProfile inflates small Python functions: an upper bound)
        for kind, batch in (("hyphenated", texts), ("wrapped", wrapped)):
            profile = cProfile.Profile()
            profile.enable()
            list(nlp.pipe(batch, batch_size=64))
            profile.disable()
            stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
            whole = max(row[3] for row in stats.values())
            steps = {name: sum(row[3] for (path, _, fn), row in stats.items()
                               if fn == name and "kgx" in path) for name in PROFILED}
            print(f"  profiled pass on the {kind} text {whole:.3f} s: " + ", ".join(
                f"{name} {t * 1000:.1f} ms" for name, t in steps.items()) +
                  f" ({100 * sum(steps.values()) / whole:.2f}% of the pass)")


if __name__ == "__main__":
    main()
