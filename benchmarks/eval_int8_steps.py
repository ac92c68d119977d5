"""Where int8 loses F1: each step of dynamic quantization simulated in float32 (issue 16).

The encoder's ``Linear`` layers are replaced by fake-quantized ones, one setting at a time:
weights per output channel only; plus 8-bit or 7-bit (torch's ``reduce_range``) per-tensor
activations, as fbgemm's dynamic kernels quantize them; plus 8-bit per-token activations.
Each setting is a fresh load of the pipeline, scored like ``kgx evaluate --as-documents K``.

    python benchmarks/eval_int8_steps.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# (quantize the weights, how the activations are quantized)
SETTINGS = {
    "float32": (False, None),
    "weights per channel": (True, None),
    "+ activations 8-bit per tensor": (True, "tensor8"),
    "+ activations 7-bit per tensor (reduce_range)": (True, "tensor7"),
    "+ activations 8-bit per token": (True, "token"),
}


def fake_weights(w):
    """Symmetric int8 per output channel, back in float32."""
    scale = w.abs().amax(1, keepdim=True).clamp(min=1e-8) / 127
    return (w / scale).round().clamp(-127, 127) * scale


def fake_activations(x, how: str | None):
    """Asymmetric uint8 (or 7-bit) over the whole tensor as fbgemm's dynamic linear chooses
    it, or symmetric int8 per token; back in float32."""
    if how is None:
        return x
    if how == "token":
        scale = x.abs().amax(-1, keepdim=True).clamp(min=1e-8) / 127
        return (x / scale).round().clamp(-127, 127) * scale
    top = 255 if how == "tensor8" else 127
    lo, hi = min(x.min().item(), 0.0), max(x.max().item(), 0.0)
    scale = max(hi - lo, 1e-8) / top
    zero = round(-lo / scale)
    return ((x / scale).round() + zero).clamp(0, top).sub(zero) * scale


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--documents", type=int, default=5)
    args = ap.parse_args()

    import spacy
    import torch
    from spacy.util import registry

    from kgx.pipeline.evaluate import evaluate

    class FakeQuantLinear(torch.nn.Module):
        def __init__(self, linear: torch.nn.Linear, weights: bool, how: str | None) -> None:
            super().__init__()
            w = linear.weight.data
            self.weight = torch.nn.Parameter(fake_weights(w) if weights else w)
            self.bias, self.how = linear.bias, how

        def forward(self, x):
            return torch.nn.functional.linear(fake_activations(x, self.how), self.weight,
                                              self.bias)

    print(f"model: {args.model}  data: {args.data}  documents of {args.documents}")
    for name, (weights, how) in SETTINGS.items():
        nlp = spacy.load(args.model)
        module = nlp.get_pipe("transformer").model.layers[0].shims[0]._hfmodel.transformer
        if weights:
            for _, parent in list(module.named_modules()):
                for child_name, child in list(parent.named_children()):
                    if isinstance(child, torch.nn.Linear):
                        setattr(parent, child_name, FakeQuantLinear(child, weights, how))
        examples = list(registry.readers.get("kgx.Corpus.v1")(
            path=args.data, documents=args.documents)(nlp))
        r = evaluate(nlp, examples)
        print(f"{name:<48} NER F1 {100 * r['ents_f']:6.2f}   relations strict micro F1 "
              f"{100 * r['rel_strict_micro_f']:6.2f}")


if __name__ == "__main__":
    main()
