"""The recogniser's candidate filters (``edge_filter`` and ``inner_filter`` of ``kgx_span_ner``,
issue 16): the same model with no filter, the edge filter, and both, on the same data. Prints
the candidate spans each way, NER and relation F1 each way on raw documents of
``--documents`` records (entities and relations matched by character offsets, as ``kgx
evaluate --as-documents``), and the recogniser's and the whole pipeline's time each way,
alternating round by round in one process.

A model trained before the filters' words were learned lacks them: ``--train`` (its training
data) learns them first, as ``initialize`` does in training now (the same words where it had
them).

    python benchmarks/eval_edge_filter.py --model training/conll04/model-last \\
        --texts corpus/conll04/dev.spacy [--train corpus/conll04/train.spacy] \\
        --documents 5 --rounds 5 --threads 2
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _variants import filter_words  # noqa: E402
from bench_inference import alternate, paired_args  # noqa: E402


def main() -> None:
    args = paired_args(__doc__, rounds=5, extra=lambda ap: ap.add_argument(
        "--train", type=Path, help="learn the edge words from this data first"))

    import numpy
    import spacy
    import torch

    from kgx.cli import _read_examples
    from kgx.pipeline.evaluate import evaluate

    torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    ner = nlp.get_pipe("ner")
    filter_words(nlp, args.train)
    print(f"model: {args.model}  data: {args.texts}  documents of {args.documents}  "
          f"threads: {args.threads}")
    for key in ("edge_first", "edge_last", "edge_inner"):
        print(f"spared ({key}): {ner.cfg.get(key, 'not learned')}")
    examples = _read_examples(nlp, args.texts, False, args.documents, args.layout)
    texts = [eg.predicted.text for eg in examples]
    docs = list(nlp.pipe(texts, disable=["ner", "kgx_relation_extractor"]))
    words = sum(len(t.split()) for t in texts)
    settings = {"no filter": (False, False), "edge": (True, False), "edge + inner": (True, True)}

    def switch(name: str) -> None:
        ner.edge_filter, ner.inner_filter = settings[name]

    # the gold entities among the candidates each way: what a filter could cost at most
    gold = [{(s.start, s.end) for e in eg.reference.ents
             if (s := doc.char_span(e.start_char, e.end_char, alignment_mode="expand"))}
            for eg, doc in zip(examples, docs, strict=True)]
    for name in settings:
        switch(name)
        found = ner.candidate_spans(docs)
        rows = numpy.asarray(found.dataXd).reshape(-1, 2).tolist()
        doc_of = numpy.repeat(numpy.arange(len(docs)), numpy.asarray(found.lengths))
        spans_of = set(zip(doc_of.tolist(), map(tuple, rows), strict=True))
        reachable = sum((i, span) in spans_of for i, g in enumerate(gold) for span in g)
        r = evaluate(nlp, examples)
        print(f"{name:>12}: {len(rows)} candidate spans, {reachable} of {sum(map(len, gold))} "
              f"gold entities among them; NER P/R/F {100 * r['ents_p']:.2f} / "
              f"{100 * r['ents_r']:.2f} / {100 * r['ents_f']:.2f}; relations strict micro "
              f"P/R/F {100 * r['rel_strict_micro_p']:.2f} / {100 * r['rel_strict_micro_r']:.2f}"
              f" / {100 * r['rel_strict_micro_f']:.2f}")

    def run(name: str, what: str):
        def go():
            switch(name)
            if what == "recogniser":
                return ner.predict(docs)
            return list(nlp.pipe(texts, batch_size=args.batch_size))
        return go

    for what, title in (("recogniser", f"recogniser alone (predict over {len(docs)} "
                                       f"documents, {words} words)"),
                        ("pipeline", "whole pipeline (nlp.pipe)")):
        print(f"{title}:")
        t, _ = alternate({name: run(name, what) for name in settings}, args.rounds)
        print("  " + "; ".join(f"{name} {words / t[name]:,.0f} words/s "
                               f"({t['no filter'] / t[name]:.3f}x no filter)"
                               for name in settings)
              + f"; edge + inner / edge: {t['edge'] / t['edge + inner']:.3f}x")


if __name__ == "__main__":
    main()
