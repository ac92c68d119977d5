"""What a training step costs, and what its span-gradient scatter costs (issue 16).

Builds the pipeline from a shipped config as ``spacy train`` does (``init_nlp``), takes the
config's batches of the training corpus and runs ``nlp.update`` steps with the config's
optimizer, dropout and annotating components. The variants alternate round by round in one
process, continuing one training, each round on the same batches: kgx's scatter of the
recogniser's per-span gradients onto its tokens (``span_pool._per_token_grads``, torch's
``index_add_``) and the same scatter with numpy's ``add.at``, which the recogniser used
before; with ``--frozen-embeddings`` and ``--bf16`` also steps with the encoder's embeddings
frozen (``frozen_embeddings = true``) and under bfloat16 autocast (``mixed_precision = true``
on a CPU), alone and together. Printed per variant: CPU seconds per step (median of the
steps), the scatter's own CPU seconds per step, and how much faster kgx's step is now.

    OMP_NUM_THREADS=1 python benchmarks/bench_training.py --config configs/kgx_trf.cfg \
        --train corpus/conll04/train.spacy --dev corpus/conll04/dev.spacy \
        --steps 10 --rounds 3 --threads 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from itertools import cycle, islice
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def add_at_grads(dZ: Any, starts: Any, ends: Any, n_tok: int) -> Any:
    """The recogniser's scatter as it was: numpy's ``add.at`` (the reference)."""
    import numpy

    K = dZ.shape[1]
    G = numpy.zeros((n_tok, 3, K), dtype="float32")
    numpy.add.at(G[:, 0], ends - 1, dZ)
    numpy.add.at(G[:, 1], starts, dZ)
    lengths = ends - starts
    d_mean = dZ / lengths[:, None]
    for k in range(int(lengths.max())):
        sel = numpy.flatnonzero(lengths > k)
        numpy.add.at(G[:, 2], starts[sel] + k, d_mean[sel])
    return G.reshape(n_tok, 3 * K)


def timed(fn: Callable, spent: list[float]) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent.append(time.process_time() - t)
    return wrapper


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=Path("configs/kgx_trf.cfg"))
    ap.add_argument("--train", type=Path, required=True)
    ap.add_argument("--dev", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=10, help="steps per variant per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--frozen-embeddings", action="store_true",
                    help="also time steps with the encoder's embeddings frozen")
    ap.add_argument("--bf16", action="store_true",
                    help="also time steps under bfloat16 autocast (mixed_precision = true)")
    args = ap.parse_args()

    import torch
    from spacy.training.initialize import init_nlp
    from spacy.util import load_config, registry, resolve_dot_names
    from thinc.api import fix_random_seed

    from kgx.pipeline import span_pool
    from kgx.pipeline.precision import bf16_native

    torch.set_num_threads(args.threads)
    fix_random_seed(args.seed)
    config = load_config(args.config, overrides={
        "paths.train": str(args.train), "paths.dev": str(args.dev), "system.seed": args.seed},
        interpolate=False)
    nlp = init_nlp(config)
    resolved = nlp.config.interpolate()
    T = registry.resolve(resolved["training"], schema=None)
    (corpus,) = resolve_dot_names(resolved, [T["train_corpus"]])
    optimizer = T["optimizer"]
    batches = cycle(list(T["batcher"](corpus(nlp))))
    words = []

    trf = nlp.get_pipe("transformer").model
    embeddings = [p for p in trf.transformer.embeddings.parameters()]
    kgx_scatter = span_pool._per_token_grads

    def settings(scatter: Callable = kgx_scatter, bf16: bool = False,
                 frozen_embeddings: bool = False) -> Callable[[list[float]], None]:
        """What a variant sets before its steps (each variant sets every setting)."""
        def apply(spent: list[float]) -> None:
            span_pool._per_token_grads = timed(scatter, spent)
            trf._kgx_cfg["train_bf16"] = bf16  # what mixed_precision = true sets on a CPU
            for param in embeddings:  # what frozen_embeddings = true sets
                param.requires_grad_(not frozen_embeddings)
                param.grad = None
        return apply

    variants = {"kgx now": settings(), "numpy add.at (before)": settings(add_at_grads)}
    if args.frozen_embeddings:
        variants["frozen_embeddings"] = settings(frozen_embeddings=True)
    if args.bf16:
        variants["mixed_precision (bf16)"] = settings(bf16=True)
        variants["bf16 + frozen_embeddings"] = settings(bf16=True, frozen_embeddings=True)
    per_step: dict[str, list[float]] = {name: [] for name in variants}
    scatter: dict[str, list[float]] = {name: [] for name in variants}

    def step(batch: Any) -> None:
        nlp.update(batch, sgd=optimizer, drop=T["dropout"], annotates=T["annotating_components"])

    for batch in islice(batches, 2):  # warm-up: first-call allocations in no variant
        step(batch)
    try:
        for _ in range(args.rounds):
            these = list(islice(batches, args.steps))  # every variant on the same batches
            words.extend(sum(len(eg.reference) for eg in batch) for batch in these)
            for name, apply in variants.items():
                spent: list[float] = []
                apply(spent)
                for batch in these:
                    t = time.process_time()
                    step(batch)
                    per_step[name].append(time.process_time() - t)
                scatter[name].append(sum(spent) / args.steps)
    finally:
        settings()([])

    print(f"{args.config}, {args.train.name}: {args.rounds} rounds x {args.steps} steps a "
          f"variant, {args.threads} thread(s), {statistics.mean(words):.0f} words a batch")
    print(f"{'variant':<26} {'CPU s/step':>11} {'scatter s/step':>15} {'vs kgx now':>11}")
    now = statistics.median(per_step["kgx now"])
    for name in variants:
        median = statistics.median(per_step[name])
        print(f"{name:<26} {median:>11.3f} {statistics.median(scatter[name]):>15.3f} "
              f"{now / median:>10.2f}x")
    if args.bf16 and not bf16_native():
        print("(no bfloat16 arithmetic on this CPU: the bf16 variants trained in float32, as "
              "kgx does here)")


if __name__ == "__main__":
    main()
