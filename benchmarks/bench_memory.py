"""Where the memory of a kgx process goes (issue 16): resident memory after the imports, the
peak while the pipeline loads, and the peak of one pass over the texts, for the float32 and
the int8 encoder; then the span recogniser's peak on long documents with its spans pooled
block by block (``kgx.pipeline.span_infer.INFERENCE_BLOCK_ROWS``) and in one piece. Each
variant runs in a fresh child process, so that one peak does not hide the next.

    python benchmarks/bench_memory.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --long-words 10000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_span_blocks import ONE_PIECE  # noqa: E402
from bench_speed import memory_mb  # noqa: E402

VARIANTS = ("float32", "int8", "float32, long documents, blocks",
            "float32, long documents, one piece")


def _reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    figures: dict[str, float] = {}
    import spacy
    from _variants import load_variant
    from bench_inference import load_texts

    import kgx  # noqa: F401  (its factories, as a user's process has them)
    from kgx.pipeline import span_infer

    figures["imports"] = memory_mb()["VmRSS"]
    _reset_peak()
    encoder = {"@architectures": "kgx.TransformerModel.v2",
               "quantize": "int8" if args.child == "int8" else None}
    # int8 as kgx quantize writes it: the encoder and the recogniser's products
    nlp = load_variant(args.model, encoder, pooled_spans=True,
                       recogniser_quantize=encoder["quantize"])
    figures["load peak"] = memory_mb()["VmHWM"]
    figures["loaded"] = memory_mb()["VmRSS"]
    if "long" in args.child:
        sentences = load_texts(args.texts, documents=1)
        text, i = [], 0
        while sum(len(t.split()) for t in text) < args.long_words:
            text.append(sentences[i % len(sentences)])
            i += 1
        texts = [" ".join(text)] * 2
        if "one piece" in args.child:
            span_infer.INFERENCE_BLOCK_ROWS = ONE_PIECE
    else:
        texts = load_texts(args.texts, limit=args.limit, documents=args.documents)
    spacy.util.fix_random_seed(0)
    _reset_peak()
    docs = list(nlp.pipe(texts, batch_size=args.batch_size))
    figures["pass peak"] = memory_mb()["VmHWM"]
    figures["words"] = sum(len(t.split()) for t in texts)
    figures["entities"] = sum(len(d.ents) for d in docs)
    print(json.dumps(figures))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5, help="sentences a document (SpERT)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--long-words", type=int, default=10000,
                    help="words in each of the two long documents")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    print(f"model: {args.model}  texts: {args.texts}  threads: {args.threads}")
    results = {}
    for name in VARIANTS:
        out = subprocess.run([sys.executable, __file__, "--model", args.model, "--texts",
                              str(args.texts), "--documents", str(args.documents), "--limit",
                              str(args.limit), "--long-words", str(args.long_words),
                              "--batch-size", str(args.batch_size), "--threads",
                              str(args.threads), "--child", name],
                             capture_output=True, text=True, check=True)
        r = results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        peak = max(r["load peak"], r["pass peak"])
        print(f"{name:<36} imports {r['imports']:5.0f} MB  load peak {r['load peak']:5.0f}  "
              f"loaded {r['loaded']:5.0f}  pass peak {r['pass peak']:5.0f}  "
              f"process peak {peak:5.0f} MB  ({r['words']:.0f} words, "
              f"{r['entities']:.0f} entities)")
    fp32, int8 = (max(results[n]["load peak"], results[n]["pass peak"])
                  for n in ("float32", "int8"))
    print(f"process peak int8 / float32: {int8 / fp32:.2f}")
    blocks = results["float32, long documents, blocks"]
    whole = results["float32, long documents, one piece"]
    print(f"long documents, pass peak above the loaded pipeline: blocks "
          f"{blocks['pass peak'] - blocks['loaded']:.0f} MB, one piece "
          f"{whole['pass peak'] - whole['loaded']:.0f} MB")


if __name__ == "__main__":
    main()
