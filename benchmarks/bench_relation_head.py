"""Time of the relation component at inference, as it runs now and as it ran before (issue 16):
the pair classifier through thinc's layers and a column-wise numpy cumsum per span set (four a
document), against the classifier's two products with thinc's ``gemm`` (BLIS) one document at
a time and one row-wise prefix sum a document (now); and the same with numpy's matrix product
(OpenBLAS) in place of BLIS, which an earlier version used: faster on an idle machine with two
BLAS threads, but its rounding changes with the BLAS thread count and its threads spin under
CPU contention. The same docs (the pipeline run up to the recogniser once), the same process;
the variants alternate round by round. Prints seconds, the ratios to "before" and whether all
found the same relations.

    python benchmarks/bench_relation_head.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --rounds 7 --threads 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_inference import load_texts  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5, help="sentences a document (SpERT)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import numpy
    import spacy
    import torch

    from kgx.pipeline import model as relation_model

    torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    texts = load_texts(args.texts, documents=args.documents)
    component = nlp.get_pipe("kgx_relation_extractor")
    docs = list(nlp.pipe(texts, disable=["kgx_relation_extractor"]))

    current = (relation_model._classify, relation_model._prefix_sums,
               relation_model._span_means, relation_model._classify_by_doc)

    def thinc_classify(model: Any, X: Any) -> Any:
        return model.get_ref("classifier").predict(X)

    def column_prefix_sums(xp: Any, X: Any) -> Any:
        return xp.concatenate([xp.zeros((1, X.shape[1]), dtype=X.dtype),
                               numpy.cumsum(X, axis=0)], axis=0)

    def span_means_each(ops: Any, X: Any, starts: Any, ends: Any, cs: Any = None) -> Any:
        return current[2](ops, X, starts, ends)  # its own prefix sum every call

    def before() -> None:
        relation_model._classify_by_doc = lambda model, X, lengths: thinc_classify(model, X)
        relation_model._classify = thinc_classify
        relation_model._prefix_sums = column_prefix_sums
        relation_model._span_means = span_means_each

    def now() -> None:
        (relation_model._classify, relation_model._prefix_sums,
         relation_model._span_means, relation_model._classify_by_doc) = current

    def numpy_classify(model: Any, X: Any) -> Any:
        hidden, output = model.get_ref("hidden"), model.get_ref("output")
        H = X @ hidden.get_param("W").T
        H += hidden.get_param("b")
        numpy.maximum(H, 0, out=H)
        return H @ output.get_param("W").T + output.get_param("b")

    def numpy_product() -> None:
        now()
        relation_model._classify = numpy_classify

    variants = {"before (thinc layers, cumsum per span set)": before,
                "now (BLIS gemm a doc, one prefix sum a doc)": now,
                "numpy matmul a doc, one prefix sum a doc": numpy_product}
    times: dict[str, list[float]] = {name: [] for name in variants}
    found: dict[str, list[Any]] = {}
    try:
        for _ in range(args.rounds + 1):  # the first round warms up
            for name, switch in variants.items():
                switch()
                start = time.perf_counter()
                scores = component.predict(docs)
                times[name].append(time.perf_counter() - start)
                copies = [d.copy() for d in docs]
                component.set_annotations(copies, scores)
                found[name] = [[(r["head"], r["tail"], r["label"]) for r in d._.kgx_relations]
                               for d in copies]
    finally:
        now()
    words = sum(len(t.split()) for t in texts)
    print(f"model: {args.model}  texts: {args.texts} ({len(texts)} documents, {words} words)  "
          f"threads: {args.threads}  rounds: {args.rounds}")
    median = {name: statistics.median(t[1:]) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:46s} {median[name]:.3f} s  (runs {', '.join(f'{x:.3f}' for x in t[1:])})")
    old, *others = median.values()
    same = len({repr(v) for v in found.values()}) == 1
    print("relation component, x faster than before: "
          + ", ".join(f"{old / t:.2f}" for t in others) + f"; the same relations: {same} "
          f"({sum(len(d) for d in next(iter(found.values())))} relations)")


if __name__ == "__main__":
    main()
