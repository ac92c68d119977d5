"""Inference speed and memory, step by step (issue 16): words/s and peak RSS of one trained
pipeline as it ran before (``kgx.TransformerModel.v1``: one padded batch; spaCy's span
extraction), with the encoder in length-sorted buckets (``v2``), with the recogniser computed
in place (``kgx.SpanCategorizer.v1``'s ``span_maxout``), with its edge filter and then its
inner filter too (fewer candidate spans; the variants after them run with both, as the shipped
configs do), with dynamic int8 (``quantize = "int8"``) in the encoder and then in the
recogniser's products too (what ``kgx quantize`` writes), with bfloat16 the same two steps
where the CPU multiplies it, and on ONNX Runtime in float32 and int8 (``kgx quantize --runtime
onnxruntime [--float32]``); and the encoder alone (the transformer component), on torch and on
ONNX Runtime. Same weights throughout; the variants alternate round by round in one process, so
the ratios are the figures that matter. Peak RSS is measured per variant in a fresh child
process (load, then one pass over the texts).

A model trained before the filters' words were learned lacks them: ``--train`` (its training
data, a .spacy or SpERT JSON file) learns them first, as ``initialize`` does in training now.

    python benchmarks/bench_speed.py --model training/conll04/model-last \
        --texts ../shared/data/conll04/dev.json --documents 5 --rounds 3 --threads 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _variants import filter_words, load_variant  # noqa: E402
from bench_inference import encoder_pipes, load_texts  # noqa: E402  (shared helpers)

V1 = {"@architectures": "kgx.TransformerModel.v1"}
V2 = {"@architectures": "kgx.TransformerModel.v2", "quantize": None, "runtime": "torch"}
INT8 = {**V2, "quantize": "int8"}
ORT = {**V2, "runtime": "onnxruntime"}
ORT_INT8 = {**ORT, "quantize": "int8"}
BF16 = {**V2, "quantize": "bf16"}
# name: (encoder settings, recogniser computed in place, its products' precision, its edge
# filter, its inner filter: both on in the shipped configs)
VARIANTS = {
    "before (v1, span copies)": (V1, False, None, False, False),
    "+ encoder buckets (v2)": (V2, False, None, False, False),
    "+ in-place recogniser": (V2, True, None, False, False),
    "+ edge filter": (V2, True, None, True, False),
    "+ inner filter": (V2, True, None, True, True),
    "+ int8 encoder": (INT8, True, None, True, True),
    "+ int8 recogniser": (INT8, True, "int8", True, True),
    # the same, its weights packed for torch's default engine, not kgx's choice (oneDNN where
    # the CPU has AMX): what int8 ran on before
    "int8, torch's default engine": (INT8, True, "int8", True, True),
    "ONNX Runtime float32": (ORT, True, None, True, True),
    "ONNX Runtime int8": (ORT_INT8, True, "int8", True, True),
}
# where the CPU multiplies bfloat16 in hardware (bf16 is slower than float32 elsewhere)
BF16_VARIANTS = {
    "bf16 encoder": (BF16, True, None, True, True),
    "+ bf16 recogniser": (BF16, True, "bf16", True, True),
}
ALL = {**VARIANTS, **BF16_VARIANTS}


def variants() -> dict[str, tuple]:
    """The variants this CPU runs: the bfloat16 ones only where it multiplies bf16."""
    from kgx.pipeline.precision import bf16_native

    return {**VARIANTS, **(BF16_VARIANTS if bf16_native() else {})}
# the encoder alone (tokenizer, segmenter, transformer: bench_inference.encoder_pipes) of these
# pipelines
ENCODERS = {"encoder alone": "+ inner filter",
            "ONNX Runtime encoder alone": "ONNX Runtime float32"}


@contextlib.contextmanager
def default_int8_engine(active: bool) -> Iterator[None]:
    """While ``active``, int8 weights are packed for torch's default engine: kgx's own
    ``KGX_INT8_ENGINE`` setting, put back as it was afterwards."""
    before = os.environ.get("KGX_INT8_ENGINE")
    if active:
        import torch

        os.environ["KGX_INT8_ENGINE"] = str(torch.backends.quantized.engine)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("KGX_INT8_ENGINE", None)
        else:
            os.environ["KGX_INT8_ENGINE"] = before


def child(args: argparse.Namespace) -> None:
    """One variant in a fresh process: its peak RSS after loading and one pass."""
    import torch

    torch.set_num_threads(args.threads)
    texts = load_texts(args.texts, limit=args.limit, documents=args.documents)
    nlp = load_variant(args.model, *ALL[args.child])
    nlp.get_pipe("ner").cfg.update(json.loads(args.edge_words))
    with default_int8_engine(args.child == "int8, torch's default engine"):
        list(nlp.pipe(texts, batch_size=args.batch_size))
    print(json.dumps({"maxrss_mb": peak_rss_mb()}))


def memory_mb() -> dict[str, float]:
    """This process's resident memory now (``VmRSS``) and at its peak (``VmHWM``) in MB, from
    /proc/self/status; empty where there is none."""
    status = Path("/proc/self/status")
    found = {}
    for line in (status.read_text().splitlines() if status.exists() else []):
        if line.startswith(("VmRSS:", "VmHWM:")):
            found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return found


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage: Linux carries ru_maxrss
    over exec, so a child would report its parent's peak."""
    peak = memory_mb().get("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5, help="sentences a document (SpERT)")
    ap.add_argument("--limit", type=int, default=0, help="the first N documents only")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train", type=Path,
                    help="learn the recogniser's filter words from this data first")
    ap.add_argument("--child", choices=list(ALL), help=argparse.SUPPRESS)
    ap.add_argument("--edge-words", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return

    import torch

    torch.set_num_threads(args.threads)
    texts = load_texts(args.texts, limit=args.limit, documents=args.documents)
    words = sum(len(t.split()) for t in texts)
    pipelines = {name: load_variant(args.model, *v) for name, v in variants().items()}
    words_learned = filter_words(next(iter(pipelines.values())), args.train)
    for nlp in pipelines.values():
        nlp.get_pipe("ner").cfg.update(words_learned)
    for name, nlp in pipelines.items():
        # warm-up: int8 packs its weights here (and keeps them), ONNX Runtime exports
        with default_int8_engine(name == "int8, torch's default engine"):
            list(nlp.pipe(texts[:8]))
    times: dict[str, list[float]] = {name: [] for name in [*pipelines, *ENCODERS]}
    found: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, nlp in pipelines.items():
            start = time.perf_counter()
            docs = list(nlp.pipe(texts, batch_size=args.batch_size))
            times[name].append(time.perf_counter() - start)
            found[name] = sum(len(d._.kgx_relations or []) for d in docs)
        for name, pipeline in ENCODERS.items():
            nlp = pipelines[pipeline]
            start = time.perf_counter()
            with nlp.select_pipes(enable=encoder_pipes(nlp)):
                list(nlp.pipe(texts, batch_size=args.batch_size))
            times[name].append(time.perf_counter() - start)
    rss = {}
    for name in pipelines:
        out = subprocess.run([sys.executable, __file__, "--model", args.model, "--texts",
                              str(args.texts), "--documents", str(args.documents),
                              "--limit", str(args.limit), "--threads", str(args.threads),
                              "--child", name, "--edge-words", json.dumps(words_learned)],
                             capture_output=True, text=True, check=True)
        rss[name] = json.loads(out.stdout.strip().splitlines()[-1])["maxrss_mb"]
    print(f"model: {args.model}  texts: {args.texts} ({len(texts)} documents, {words} words)  "
          f"threads: {args.threads}  rounds: {args.rounds}")
    median = {name: statistics.median(t) for name, t in times.items()}
    base = median["before (v1, span copies)"]
    for name, t in median.items():
        memory = f"peak RSS {rss[name]:6.0f} MB" if name in rss else " " * 19
        print(f"{name:<26} {words / t:8.0f} words/s  x{base / t:4.2f}  {memory}  "
              f"(runs {', '.join(f'{x:.2f}' for x in times[name])} s)"
              + (f"  relations: {found[name]}" if name in found else ""))
    fp32, int8 = median["+ inner filter"], median["+ int8 recogniser"]
    cfg = pipelines["+ inner filter"].get_pipe("ner").cfg
    if "edge_first" not in cfg or "edge_inner" not in cfg:
        print("note: the model lacks learned filter words (trained before them; --train learns "
              "them): without edge words every span with a function word at an edge is "
              "dropped, without inner words the inner filter is off")
    int8_default = median["int8, torch's default engine"]
    ort, ort8 = median["ONNX Runtime float32"], median["ONNX Runtime int8"]
    print(f"float32 pipeline / encoder alone (words/s): {median['encoder alone'] / fp32:.2f} "
          f"(edge filter only {median['encoder alone'] / median['+ edge filter']:.2f}, no "
          f"filter {median['encoder alone'] / median['+ in-place recogniser']:.2f}); "
          f"int8 (encoder and recogniser, as kgx quantize writes) / float32 speed: "
          f"{fp32 / int8:.2f}x (the int8 encoder alone in the pipeline: "
          f"{fp32 / median['+ int8 encoder']:.2f}x; on torch's default engine: "
          f"{fp32 / int8_default:.2f}x); peak RSS int8 / float32: "
          f"{rss['+ int8 recogniser'] / rss['+ inner filter']:.2f}")
    if "+ bf16 recogniser" in median:
        print(f"bf16 (encoder and recogniser) / float32 speed: "
              f"{fp32 / median['+ bf16 recogniser']:.2f}x (the bf16 encoder alone in the "
              f"pipeline: {fp32 / median['bf16 encoder']:.2f}x)")
    print(f"ONNX Runtime, against the torch float32 pipeline: float32 {fp32 / ort:.2f}x, "
          f"int8 {fp32 / ort8:.2f}x (int8 / its float32 {ort / ort8:.2f}x); its pipeline / "
          f"encoder alone {median['ONNX Runtime encoder alone'] / ort:.2f}; peak RSS "
          f"{rss['ONNX Runtime float32']:.0f} / {rss['ONNX Runtime int8']:.0f} MB")

if __name__ == "__main__":
    main()
