"""Which inference-time change does what: one trained pipeline scored on gold data with the
issue-19 pieces switched on one at a time, on sentences (corpus tokens, raw text) and on raw
K-sentence documents. No retraining: the weights are the same in every row.

Rows: the pipeline as saved; + a sentencizer in front; + the encoder reading one sentence at a
time (``kgx.sentence_spans.v1``); + entity spans inside sentences
(``kgx.sentence_ngram_suggester.v1``); + candidate pairs capped per head
(``kgx.candidate_pairs.v2``). For a pipeline trained with ``configs/kgx_trf.cfg`` as it is now,
that row is the pipeline as saved. A last row gives the predicted docs the gold sentence
boundaries: the most a better segmenter could add.

    python benchmarks/eval_inference_variants.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5)
    ap.add_argument("--max-sentences", type=int, default=1, help="the config's candidates value")
    ap.add_argument("--output", type=Path, default=None)
    args = ap.parse_args()

    import spacy
    from spacy.util import registry

    from kgx.pipeline.candidates import make_candidate_generator_v2
    from kgx.pipeline.evaluate import evaluate
    from kgx.pipeline.span_ner import make_sentence_ngram_suggester

    reader = registry.readers.get("kgx.Corpus.v1")
    settings = {"sentences, corpus tokens": (True, 1), "sentences, raw": (False, 1),
                f"documents of {args.documents}, raw": (False, args.documents)}
    nlp = spacy.load(args.model)
    trf, ner, rel = (nlp.get_pipe(n) for n in ("transformer", "ner", "kgx_relation_extractor"))
    sentence_spans = registry.get("span_getters", "kgx.sentence_spans.v1")(128, 96)

    def add_sentencizer() -> None:
        if "sentencizer" not in nlp.pipe_names:
            nlp.add_pipe("sentencizer", first=True)

    def set_spans() -> None:
        trf.model.attrs["get_spans"] = sentence_spans

    def set_suggester() -> None:
        ner.suggester = make_sentence_ngram_suggester(1, 8)

    def set_candidates() -> None:
        rel.candidates = make_candidate_generator_v2(max_sentences=args.max_sentences,
                                                     max_tokens=100, max_tails=32)

    steps = [("as saved", None), ("+ sentencizer", add_sentencizer),
             ("+ one sentence per encoder span", set_spans),
             ("+ spans inside sentences", set_suggester),
             ("+ candidates capped per head", set_candidates)]
    def oracle(examples: list) -> list:
        """The reference's sentence boundaries on the predicted docs (the sentencizer keeps
        boundaries a doc already has): what a perfect segmenter would give."""
        for eg in examples:
            starts = {s.start_char for s in eg.reference.sents}
            for tok in eg.predicted:
                tok.is_sent_start = tok.idx in starts
        return examples

    steps.append(("+ gold sentence boundaries (oracle)", None))
    results: dict[str, dict[str, dict[str, float]]] = {}
    head = f"{'variant':<38}{'input':<26}{'NER F':>7}{'rel P':>7}{'rel R':>7}{'rel F':>7}"
    print(f"model: {args.model}  pipes: {nlp.pipe_names}\n{head}\n{'-' * len(head)}")
    for name, change in steps:
        if change is not None:
            change()
        results[name] = {}
        for setting, (gold_tokens, size) in settings.items():
            examples = list(reader(path=args.data, gold_tokens=gold_tokens,
                                   documents=size)(nlp))
            if name.endswith("(oracle)"):
                examples = oracle(examples)
            r = evaluate(nlp, examples)
            row = {k: round(100 * r[k], 2) for k in
                   ("ents_f", "rel_strict_micro_p", "rel_strict_micro_r", "rel_strict_micro_f")}
            results[name][setting] = row
            print(f"{name:<38}{setting:<26}{row['ents_f']:7.2f}{row['rel_strict_micro_p']:7.2f}"
                  f"{row['rel_strict_micro_r']:7.2f}{row['rel_strict_micro_f']:7.2f}",
                  flush=True)
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
