"""Time of the span recogniser's model at inference (issue 16): thinc's chain of its layers
(the span Maxout in torch, then thinc's numpy LayerNorm and Softmax) against the one torch pass
that ``kgx.SpanCategorizer.v1`` now runs at inference (Maxout, LayerNorm and Softmax per block of
token rows). The same docs and candidate spans (the pipeline run up to the recogniser once),
the same process; the two paths alternate round by round. Prints seconds per pass, the ratio,
the largest difference of their scores and whether every span gets the same best label.

    python benchmarks/bench_recogniser.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --rounds 7 --threads 2
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_inference import alternate, paired_args, paired_setup  # noqa: E402


def main() -> None:
    args = paired_args(__doc__)

    import numpy
    from thinc.layers.chain import forward as chain_forward

    nlp, texts = paired_setup(args)
    ner = nlp.get_pipe("ner")
    model = ner.model
    docs = list(nlp.pipe(texts, disable=["ner", "kgx_relation_extractor"]))
    batches = []
    for i in range(0, len(docs), args.batch_size):
        batch = docs[i:i + args.batch_size]
        batches.append((batch, ner.suggester(batch, ops=model.ops)))

    print(f"candidate spans: {sum(len(s.dataXd) for _, s in batches)}")
    old_name, new_name = "thinc's chain (numpy LayerNorm, Softmax)", "one torch pass (now)"
    median, scores = alternate({
        old_name: lambda: [chain_forward(model, b, False)[0] for b in batches],
        new_name: lambda: [model.predict(b) for b in batches],
    }, args.rounds)
    old, new = (numpy.concatenate(scores[name]) for name in (old_name, new_name))
    print(f"x faster: {median[old_name] / median[new_name]:.2f}; largest score difference "
          f"{numpy.abs(old - new).max():.1e}; the same best label for every span: "
          f"{bool((old.argmax(1) == new.argmax(1)).all())}")


if __name__ == "__main__":
    main()
