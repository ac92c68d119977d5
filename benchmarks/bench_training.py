"""What a training step costs, and what its span-gradient scatter costs (issue 16).

Builds the pipeline from a shipped config as ``spacy train`` does (``init_nlp``), takes the
config's batches of the training corpus and runs ``nlp.update`` steps with the config's
optimizer, dropout and annotating components. Two variants alternate round by round in one
process, continuing one training, each round on the same batches: kgx's scatter of the
recogniser's per-span gradients onto its tokens (``span_pool._per_token_grads``, torch's
``index_add_``) and the same scatter with numpy's ``add.at``, which the recogniser used
before. Printed per variant: CPU seconds per step (median of the steps), the scatter's own CPU
seconds per step, and the ratio.

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
    args = ap.parse_args()

    import torch
    from spacy.training.initialize import init_nlp
    from spacy.util import load_config, registry, resolve_dot_names
    from thinc.api import fix_random_seed

    from kgx.pipeline import span_pool

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

    kgx_scatter = span_pool._per_token_grads
    variants = {"kgx (torch index_add_)": kgx_scatter, "numpy add.at (before)": add_at_grads}
    per_step: dict[str, list[float]] = {name: [] for name in variants}
    scatter: dict[str, list[float]] = {name: [] for name in variants}
    def step(batch: Any) -> None:
        nlp.update(batch, sgd=optimizer, drop=T["dropout"], annotates=T["annotating_components"])

    for batch in islice(batches, 2):  # warm-up: first-call allocations in neither variant
        step(batch)
    try:
        for _ in range(args.rounds):
            these = list(islice(batches, args.steps))  # both variants step on the same batches
            words.extend(sum(len(eg.reference) for eg in batch) for batch in these)
            for name, fn in variants.items():
                spent: list[float] = []
                span_pool._per_token_grads = timed(fn, spent)
                for batch in these:
                    t = time.process_time()
                    step(batch)
                    per_step[name].append(time.process_time() - t)
                scatter[name].append(sum(spent) / args.steps)
    finally:
        span_pool._per_token_grads = kgx_scatter

    print(f"{args.config}, {args.train.name}: {args.rounds} rounds x {args.steps} steps a "
          f"variant, {args.threads} thread(s), {statistics.mean(words):.0f} words a batch")
    print(f"{'variant':<26} {'CPU s/step':>11} {'scatter s/step':>15}")
    for name in variants:
        print(f"{name:<26} {statistics.median(per_step[name]):>11.3f} "
              f"{statistics.median(scatter[name]):>15.3f}")
    first, second = (statistics.median(per_step[n]) for n in variants)
    print(f"step time, numpy add.at / kgx: {second / first:.2f}x")


if __name__ == "__main__":
    main()
