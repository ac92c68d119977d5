"""Where the time of a trained pipeline goes (issue 16), and how far each part is from what the
machine can do: seconds per component and inside the recogniser and the relation component,
on 1 and 2 threads, and the achieved GFLOP/s of the encoder, the recogniser's and the relation
classifier's matrix products against this machine's GEMM GFLOP/s (float32 and int8, measured in
the same run).

Encoder FLOPs are counted on the real word pieces (no padding): per layer and sequence of L
pieces, 24·L·d² for the projections and the feed-forward block plus 4·L²·d for attention.

    python benchmarks/bench_profile.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --threads 1 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _variants import load_variant  # noqa: E402
from bench_inference import load_texts  # noqa: E402  (the benchmarks' one text reader)


def gemm_gflops(seconds: float = 2.0) -> tuple[float, float]:
    """float32 GEMM and int8 dynamic-quantized Linear throughput, GFLOP/s (2 per MAC), at the
    encoder's own shapes (2,048 pieces x 384 -> 1,536), int8 on the engine kgx packs for."""
    import warnings

    import torch

    x = torch.randn(2048, 384)
    lin = torch.nn.Linear(384, 1536)
    from kgx.pipeline.precision import packing_int8

    # packed as kgx packs its int8 encoder (oneDNN where the CPU has AMX tiles)
    with warnings.catch_warnings(), packing_int8():
        warnings.simplefilter("ignore")  # torch's deprecation notices for eager quantization
        q = torch.ao.quantization.quantize_dynamic(
            torch.nn.Sequential(lin), {torch.nn.Linear}, dtype=torch.qint8)
    flops = 2 * 2048 * 384 * 1536
    out = []
    for f in (lin, q):
        with torch.no_grad():
            f(x)
            n, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                f(x)
                n += 1
        out.append(flops * n / (time.perf_counter() - start) / 1e9)
    return out[0], out[1]


def encoder_flops(nlp, docs) -> float:
    """FLOPs of the encoder over the real word pieces of ``docs`` (already annotated)."""
    cfg = nlp.get_pipe("transformer").model.transformer.config
    d, layers = cfg.hidden_size, cfg.num_hidden_layers
    total = 0.0
    for doc in docs:
        for n in doc._.trf_data.wordpieces.lengths:
            total += layers * (24 * n * d * d + 4 * n * n * d)
    return total


def recogniser_flops(proc, docs, spans) -> float:
    """Multiply-adds x 2 of the span recogniser's inference (``kgx.SpanCategorizer.v1``): the
    Maxout's mean weights on every token, its last and first weights on the tokens candidate
    spans end and start at, the per-span product of its max part, and the output layer."""
    import numpy

    maxout = proc.model.get_ref("reducer").layers[0]
    K = maxout.get_dim("nO") * maxout.get_dim("nP")
    n_in = maxout.get_dim("nI")
    n_tok = sum(len(doc) for doc in docs)
    n_labels = proc.model.get_ref("scorer").get_dim("nO")
    bounds = numpy.asarray(spans.dataXd).reshape(-1, 2)
    doc_of = numpy.repeat(numpy.arange(len(docs)), numpy.asarray(spans.lengths))
    edge_rows = sum(len(numpy.unique(doc_of * (n_tok + 1) + column))
                    for column in (bounds[:, 0], bounds[:, 1]))
    n_spans = len(bounds)
    return 2.0 * ((n_tok + edge_rows) * n_in * K + n_spans * n_in * K
                  + n_spans * maxout.get_dim("nO") * n_labels)


def relation_flops(proc, cands) -> float:
    """Multiply-adds x 2 of the relation classifier's inference (``_predict_pairs``): the hidden
    layer's columns per entity, per distinct window and per pair, and the output layer."""
    model = proc.model
    H, n_in = model.get_ref("hidden").get_param("W").shape
    tw, dw = model.attrs["type_width"], model.attrs["distance_width"]
    width = (n_in - 2 * tw - dw) // model.attrs["n_pooled"]
    context = model.attrs["pair_context"]
    n_labels = model.get_ref("output").get_dim("nO")
    total = 0.0
    for c in cands:
        if not len(c):
            continue
        n, ents = len(c), int(c.pairs.max()) + 1
        windows = len({tuple(w) for w in c.windows.tolist()}) if context else 0
        total += (n * ((2 if context else 1) * width + dw) * H + ents * (width + tw) * 2 * H
                  + windows * width * H + n * H * n_labels)
    return 2.0 * total


def profile(nlp, texts: list[str]) -> tuple[dict[str, float], list, dict[str, float]]:
    """Seconds per stage over ``texts``, each component run on the previous one's output, the
    annotated docs, and the FLOPs of the recogniser's and relation classifier's products."""
    from kgx.pipeline.component import _sigmoid  # the component's own, as predict() uses it

    t: dict[str, float] = {}
    flops: dict[str, float] = {}
    start = time.perf_counter()
    docs = [nlp.make_doc(text) for text in texts]
    t["tokenizer"] = time.perf_counter() - start
    for name, proc in nlp.pipeline:
        if name == "ner":
            start = time.perf_counter()
            spans = proc.candidate_spans(docs)
            t["ner: span suggestions"] = time.perf_counter() - start
            start = time.perf_counter()
            scores = proc.model.predict((docs, spans))
            t["ner: pooling + classifier"] = time.perf_counter() - start
            start = time.perf_counter()
            proc.set_annotations(docs, (spans, scores))
            t["ner: best spans -> doc.ents"] = time.perf_counter() - start
            flops["ner: pooling + classifier"] = recogniser_flops(proc, docs, spans)
            continue
        if name == "kgx_relation_extractor":
            start = time.perf_counter()
            cands = [proc._candidates(doc, doc.ents) for doc in docs]
            t["relations: candidate pairs"] = time.perf_counter() - start
            start = time.perf_counter()
            logits = proc.model.predict((docs, cands)) if any(len(c) for c in cands) else None
            t["relations: features + classifier"] = time.perf_counter() - start
            start = time.perf_counter()
            if logits is not None:
                proc.set_annotations(docs, (cands, _sigmoid(proc.model.ops.to_numpy(logits))))
            t["relations: thresholds -> records"] = time.perf_counter() - start
            flops["relations: features + classifier"] = relation_flops(proc, cands)
            continue
        start = time.perf_counter()
        # A component without pipe() (kgx's layout boundaries, spaCy's plain callables) runs
        # one doc at a time, as nlp.pipe runs it.
        pipe = getattr(proc, "pipe", None)
        docs = list(pipe(docs, batch_size=32)) if pipe else [proc(doc) for doc in docs]
        t[name] = time.perf_counter() - start
    return t, docs, flops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--int8", action="store_true", help="profile the int8 encoder too")
    args = ap.parse_args()

    import torch

    texts = load_texts(args.texts, limit=args.limit, documents=args.documents)
    words = sum(len(t.split()) for t in texts)
    variants = {"float32": load_variant(args.model, {"@architectures": "kgx.TransformerModel.v2"},
                                        pooled_spans=True)}
    if args.int8:
        # as kgx quantize writes it: the encoder and the recogniser's pooled products
        variants["int8"] = load_variant(args.model, {"@architectures": "kgx.TransformerModel.v2",
                                                     "quantize": "int8"}, pooled_spans=True,
                                        recogniser_quantize="int8")
    print(f"model: {args.model}  texts: {args.texts} ({len(texts)} documents, {words} words)")
    before = torch.get_num_threads()
    for threads in args.threads:
        torch.set_num_threads(threads)
        fp32, int8 = gemm_gflops()
        print(f"\n== {threads} thread(s): GEMM float32 {fp32:.1f} GFLOP/s, "
              f"int8 {int8:.1f} GOP/s")
        for name, nlp in variants.items():
            list(nlp.pipe(texts[:4]))  # warm-up
            t, docs, head_flops = profile(nlp, texts)
            total = sum(t.values())
            print(f"-- {name}: {words / total:.0f} words/s, {total:.2f} s")
            for stage, sec in t.items():
                print(f"   {stage:<36} {sec:7.3f} s  {100 * sec / total:5.1f}%")
            flops = encoder_flops(nlp, docs)
            limit = int8 if name == "int8" else fp32
            achieved = flops / t["transformer"] / 1e9
            print(f"   encoder: {achieved:.1f} GFLOP/s achieved = {100 * achieved / limit:.0f}% "
                  f"of the {name} GEMM limit; pipeline / encoder alone: "
                  f"{t['transformer'] / total:.2f}")
            for stage, f in head_flops.items():
                rate = f / t[stage] / 1e9
                print(f"   {stage}: {f / 1e9:.1f} GFLOP in products, {rate:.1f} GFLOP/s = "
                      f"{100 * rate / fp32:.0f}% of the float32 GEMM limit")
    torch.set_num_threads(before)


if __name__ == "__main__":
    main()
