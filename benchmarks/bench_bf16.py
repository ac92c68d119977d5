"""bfloat16 against float32 inference of the encoder (issue 16): ``quantize = "bf16"`` in
``kgx.TransformerModel.v2`` (``kgx quantize --bf16``) runs the transformer's forward pass under
``torch.autocast("cpu", dtype=torch.bfloat16)``; everything after it stays float32. On CPUs with
AMX or AVX-512 BF16, torch multiplies bf16 in hardware; elsewhere it emulates it (slower).

Prints the encoder's and the whole pipeline's seconds, the saved pipeline loaded as it is and
with ``quantize = "bf16"``, alternating round by round in one process, and, with ``--data``,
NER and relation F1 both ways on the gold documents (``kgx evaluate --as-documents N``'s
reading).

    python benchmarks/bench_bf16.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --rounds 5 --threads 2 \
        --data corpus/conll04/dev.spacy
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_inference import encoder_pipes, load_texts  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", type=Path, default=None, help="gold DocBin to score both ways")
    args = ap.parse_args()

    import spacy
    import torch

    torch.set_num_threads(args.threads)
    pipelines = {"float32": spacy.load(args.model),
                 "bfloat16": spacy.load(args.model, config={
                     "components.transformer.model.quantize": "bf16"})}
    texts = load_texts(args.texts, documents=args.documents)
    times: dict[str, list[float]] = {}
    found: dict[str, list[Any]] = {}
    for _ in range(args.rounds + 1):  # the first round warms up
        for precision, nlp in pipelines.items():
            encoder = encoder_pipes(nlp)
            for part, ctx in (("encoder", nlp.select_pipes(enable=encoder)),
                              ("pipeline", nullcontext())):
                with ctx:
                    start = time.perf_counter()
                    docs = list(nlp.pipe(texts, batch_size=32))
                    times.setdefault(f"{part} {precision}", []).append(
                        time.perf_counter() - start)
            found[precision] = [[(e.start_char, e.end_char, e.label_) for e in d.ents]
                                for d in docs]
    words = sum(len(t.split()) for t in texts)
    print(f"model: {args.model}  texts: {args.texts} ({len(texts)} documents, {words} words)"
          f"  threads: {args.threads}  rounds: {args.rounds}")
    median = {name: statistics.median(t[1:]) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:20s} {median[name]:.3f} s  {words / median[name]:8.0f} words/s  "
              f"(runs {', '.join(f'{x:.3f}' for x in t[1:])})")
    for part in ("encoder", "pipeline"):
        print(f"{part}: bf16 {median[f'{part} float32'] / median[f'{part} bfloat16']:.2f}x "
              "float32")
    same = sum(a == b for a, b in zip(found["float32"], found["bfloat16"], strict=True))
    print(f"documents with the same entities both ways: {same} of {len(texts)}")
    if args.data is not None:
        from spacy.util import registry

        from kgx.pipeline.evaluate import evaluate

        for precision, nlp in pipelines.items():
            examples = list(registry.readers.get("kgx.Corpus.v1")(
                path=args.data, documents=args.documents)(nlp))
            result = evaluate(nlp, examples)
            print(f"{args.data} ({len(examples)} documents) {precision}: NER F1 "
                  f"{100 * result['ents_f']:.2f}, relations strict micro F1 "
                  f"{100 * result['rel_strict_micro_f']:.2f}")


if __name__ == "__main__":
    main()
