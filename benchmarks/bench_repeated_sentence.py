"""One sentence repeated N times in one document: how many copies keep their relations?

The issue-19 probe: "Wei Chen works for Globex in Osaka." alone gives Wei Chen Live_In Osaka
with a CoNLL04 pipeline; 600 copies in one document gave 1,200 entities and 0 relations with the
old configs. A pipeline whose result does not depend on the document's length finds, in every
copy, what it finds in the sentence alone.

    python benchmarks/bench_repeated_sentence.py --model training/conll04/model-last \
        --copies 1 3 100 600 1000
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--sentence", default="Wei Chen works for Globex in Osaka.")
    ap.add_argument("--copies", type=int, nargs="+", default=[1, 3, 100, 600, 1000])
    args = ap.parse_args()

    import spacy

    nlp = spacy.load(args.model)
    nlp.max_length = max(nlp.max_length, (len(args.sentence) + 1) * max(args.copies) + 1)
    width = len(args.sentence) + 1
    alone = None
    print(f"model: {args.model}  pipes: {nlp.pipe_names}\nsentence: {args.sentence!r}")
    for n in args.copies:
        start = time.perf_counter()
        doc = nlp(" ".join([args.sentence] * n))
        seconds = time.perf_counter() - start
        ents = doc.ents
        per_copy: list[set] = [set() for _ in range(n)]
        for r in doc._.kgx_relations or []:
            head, tail = ents[r["head"]], ents[r["tail"]]
            k = head.start_char // width
            if tail.start_char // width == k:
                per_copy[k].add((head.text, r["label"], tail.text))
        if alone is None:
            alone = per_copy[0]
        same = sum(1 for rels in per_copy if rels == alone)
        kinds = Counter(frozenset(rels) for rels in per_copy)
        print(f"{n:>6} copies: {len(ents):>6} entities, {len(doc._.kgx_relations or []):>6} "
              f"relations; copies with the single sentence's relations: {same}/{n}; "
              f"distinct results: {len(kinds)}; {seconds:.1f} s")
    print(f"the sentence alone: {sorted(alone or [])}")


if __name__ == "__main__":
    main()
