"""What reading raw documents sentence by sentence costs: words/s of a trained pipeline as
shipped against the same weights with the issue-19 work taken out, side by side in one run.

"as shipped": the sentencizer, the encoder reading one sentence at a time
(``kgx.sentence_spans.v1``) in length-sorted buckets (``kgx.TransformerModel.v2``), spans
suggested inside sentences (``kgx.sentence_ngram_suggester.v1``) and pooled in place
(``kgx.SpanCategorizer.v1``), candidate pairs capped per head (``kgx.candidate_pairs.v2``).
"without": no sentencizer, 128-token windows with stride 96 over the whole document in one
padded batch (the old configs), spaCy's ``ngram_range_suggester`` and span extraction, and
``kgx.candidate_pairs.v1``. The trained model may have been saved with either architecture.
The variants alternate round by round over the same texts; the ratio is the figure that
matters.

    python benchmarks/bench_documents.py --model training/conll04/model-last \
        --texts corpora/raw --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _variants import load_variant, set_span_pooling  # noqa: E402
from bench_inference import load_texts  # noqa: E402  (the benchmarks' one text reader)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5, help="sentences a document (SpERT)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch
    from spacy.pipeline.spancat import build_ngram_range_suggester
    from spacy_transformers.span_getters import configure_strided_spans

    from kgx.pipeline.candidates import make_candidate_generator

    torch.set_num_threads(args.threads)
    nlp = load_variant(args.model, {"@architectures": "kgx.TransformerModel.v2"})
    texts = load_texts(args.texts, documents=args.documents)
    words = sum(len(t.split()) for t in texts)
    trf, ner, rel = (nlp.get_pipe(n) for n in ("transformer", "ner", "kgx_relation_extractor"))
    shipped = (trf.model.attrs["get_spans"], ner.suggester, rel.candidates)
    old = (configure_strided_spans(128, 96), build_ngram_range_suggester(1, 8),
           make_candidate_generator(max_sentences=1, max_tokens=100, max_pairs=1000))

    buckets = trf.model._kgx_cfg["max_batch_items"]

    def use(parts: tuple, shipped: bool) -> list[str]:
        trf.model.attrs["get_spans"], ner.suggester, rel.candidates = parts
        # one padded batch per sub-batch of docs, as spacy-transformers runs the encoder
        trf.model._kgx_cfg["max_batch_items"] = buckets if shipped else 10**9
        set_span_pooling(ner.model, shipped)
        return [] if shipped else ["sentencizer"]

    variants = {"as shipped": (shipped, True), "without": (old, False)}
    list(nlp.pipe(texts[:8]))  # warm-up
    times: dict[str, list[float]] = {name: [] for name in variants}
    found: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, (parts, sentencizer) in variants.items():
            disable = use(parts, sentencizer)
            start = time.perf_counter()
            with nlp.select_pipes(disable=disable):
                docs = list(nlp.pipe(texts, batch_size=args.batch_size))
            times[name].append(time.perf_counter() - start)
            found[name] = sum(len(d._.kgx_relations or []) for d in docs)
    use(shipped, True)
    print(f"model: {args.model}  texts: {args.texts} ({len(texts)} documents, {words} words)  "
          f"threads: {args.threads}  rounds: {args.rounds}")
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, t in median.items():
        print(f"{name:<12} {words / t:9.0f} words/s  (median {t:.2f} s; runs "
              f"{', '.join(f'{x:.2f}' for x in times[name])})  relations: {found[name]}")
    print(f"ratio as shipped / without (words/s): {median['without'] / median['as shipped']:.3f}")


if __name__ == "__main__":
    main()
