"""Do other whitespace characters change what kgx finds? (issue 19: documents as users have them)

Users' text has tabs, no-break spaces (from HTML and word processors) and line breaks where the
benchmark has single spaces. spaCy makes each of them a token of its own. This script takes the
raw documents of K records (``kgx evaluate --as-documents K``), replaces each space between two
words, with probability ``--rate``, by a tab, a no-break space or a line break (one character
for one, so every gold entity keeps its character offsets), and runs the pipeline on both
versions. It prints, for each version, NER and strict relation P/R/F1 by character offsets, and
how many documents got exactly the same entities and relations.

    python benchmarks/eval_whitespace_noise.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5 --rate 0.2
"""

from __future__ import annotations

import os
import random

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from eval_trailing_period import arguments, facts, pipelines, scores  # noqa: E402

NOISE = ("\t", "\u00a0", "\n")


def noisy(text: str, rate: float, rng: random.Random) -> str:
    """``text`` with each space, at ``rate``, replaced by one of ``NOISE``."""
    return "".join(rng.choice(NOISE) if ch == " " and rng.random() < rate else ch
                   for ch in text)


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--rate", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        rng = random.Random(args.seed)
        texts = [eg.reference.text for eg in examples]
        versions = {"plain": texts, "noisy": [noisy(t, args.rate, rng) for t in texts]}
        assert all(len(a) == len(b) for a, b in zip(*versions.values(), strict=True))
        spaces = sum(t.is_space for text in versions["noisy"] for t in nlp.make_doc(text))
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)}; rate {args.rate}: {spaces} whitespace tokens")
        gold = [facts(eg.reference, False) for eg in examples]
        found = {}
        for name, batch in versions.items():
            found[name] = [facts(doc, False) for doc in nlp.pipe(batch, batch_size=64)]
            print(f"  {name:<6} " + scores(gold, found[name]))
        same = sum(a == b for a, b in zip(found["plain"], found["noisy"], strict=True))
        print(f"  documents with the same entities and relations: {same} of {len(examples)}")


if __name__ == "__main__":
    main()
