"""Time of the relation component at inference, as it runs now and as it ran before (issue 16):
the pair classifier through thinc's layers over every pair's 2,016 features and a column-wise
numpy cumsum per span set (four a document); the classifier's two products with thinc's
``gemm`` (BLIS) one document at a time over the same features, with one row-wise prefix sum a
document (the previous version); and now, the hidden layer's product split into per-entity,
per-window and per-pair blocks (``kgx.pipeline.model._predict_pairs``). The same docs (the
pipeline run up to the recogniser once), the same process; the variants alternate round by
round. Prints seconds, the ratios to "before" and whether all found the same relations.

    python benchmarks/bench_relation_head.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --rounds 7 --threads 2
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_inference import alternate, paired_args, paired_setup  # noqa: E402


def main() -> None:
    args = paired_args(__doc__)

    import numpy

    from kgx.pipeline import model as relation_model

    nlp, texts = paired_setup(args)
    component = nlp.get_pipe("kgx_relation_extractor")
    docs = list(nlp.pipe(texts, disable=["kgx_relation_extractor"]))

    current = (relation_model._predict_pairs, relation_model._prefix_sums,
               relation_model._span_means)

    def features(model: Any, tokvecs: Any, cands: Any) -> tuple[Any, list[int]]:
        ops = model.ops
        pooled = [relation_model._pool_pairs(ops, X, c, model.attrs["pair_context"])[0]
                  for X, c in zip(tokvecs, cands, strict=True) if len(c)]
        n = sum(len(c) for c in cands)
        ids = numpy.concatenate([c.labels for c in cands if len(c)]).reshape(-1)
        types = model.get_ref("type_embed").predict(ids).reshape(n, -1)
        dists = model.get_ref("distance_embed").predict(
            numpy.concatenate([relation_model.distance_buckets(c.spans) for c in cands
                               if len(c)]))
        return (numpy.concatenate([numpy.concatenate(pooled), types, dists], axis=1)
                .astype("float32"), [len(c) for c in cands if len(c)])

    def thinc_pairs(model: Any, tokvecs: Any, cands: Any) -> Any:
        X, _ = features(model, tokvecs, cands)
        return model.get_ref("classifier").predict(X)

    def blis_per_doc(model: Any, tokvecs: Any, cands: Any) -> Any:
        X, lengths = features(model, tokvecs, cands)
        ops = model.ops
        hidden, output = model.get_ref("hidden"), model.get_ref("output")
        out, offset = [], 0
        for n in lengths:
            H = ops.gemm(X[offset:offset + n], hidden.get_param("W"), trans2=True)
            H += hidden.get_param("b")
            numpy.maximum(H, 0, out=H)
            out.append(ops.gemm(H, output.get_param("W"), trans2=True) + output.get_param("b"))
            offset += n
        return numpy.concatenate(out)

    def column_prefix_sums(xp: Any, X: Any) -> Any:
        return xp.concatenate([xp.zeros((1, X.shape[1]), dtype=X.dtype),
                               numpy.cumsum(X, axis=0)], axis=0)

    def span_means_each(ops: Any, X: Any, starts: Any, ends: Any, cs: Any = None) -> Any:
        return current[2](ops, X, starts, ends)  # its own prefix sum every call

    def before() -> None:
        relation_model._predict_pairs = thinc_pairs
        relation_model._prefix_sums = column_prefix_sums
        relation_model._span_means = span_means_each

    def now() -> None:
        (relation_model._predict_pairs, relation_model._prefix_sums,
         relation_model._span_means) = current

    def full_product() -> None:
        now()
        relation_model._predict_pairs = blis_per_doc

    variants = {"before (thinc layers, cumsum per span set)": before,
                "BLIS gemm a doc over all 2,016 features": full_product,
                "now (products per entity, window and pair)": now}
    def run(switch: Any) -> Any:
        switch()
        scores = component.predict(docs)
        copies = [d.copy() for d in docs]
        component.set_annotations(copies, scores)
        return [[(r["head"], r["tail"], r["label"]) for r in d._.kgx_relations] for d in copies]

    try:
        median, found = alternate({name: (lambda s=switch: run(s))
                                   for name, switch in variants.items()}, args.rounds)
    finally:
        now()
    old, *others = median.values()
    same = len({repr(v) for v in found.values()}) == 1
    print("relation component, x faster than before: "
          + ", ".join(f"{old / t:.2f}" for t in others) + f"; the same relations: {same} "
          f"({sum(len(d) for d in next(iter(found.values())))} relations)")


if __name__ == "__main__":
    main()
