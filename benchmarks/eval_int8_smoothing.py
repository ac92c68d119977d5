"""int8 with SmoothQuant-style smoothing, tried against kgx's int8 (issue 16).

SmoothQuant (Xiao et al. 2023, arXiv:2211.10438) divides each input channel of a linear layer
by s_j = max|x_j|^a / max|W_:,j|^(1-a) and multiplies the weights' column j by it, so that a
few outlier channels no longer set the activations' per-tensor int8 scale. BERT's layers are
post-LayerNorm (the normalised output also feeds the residual), so the division cannot be
folded into the LayerNorm: here it is a multiplication before Q/K/V (one for all three), before
the feed-forward input and on the GELU output; the attention output's is folded into V.
max|x_j| comes from the pipeline's encoder run over calibration texts (a folder of .txt files).

For each model: the encoder's output against float32 (mean relative error a word piece, CoNLL04
or ADE dev sentences), then NER and relation F1 on raw documents of K, for kgx's int8 and the
smoothed int8, both with torch's dynamic int8 kernels as ``kgx quantize`` uses them.

    python benchmarks/eval_int8_smoothing.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5 --calibration corpora/raw --alpha 0.8
"""

from __future__ import annotations

import argparse
import copy
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def input_maxima(module: Any, tokenizer: Any, sentences: list[str]) -> dict[str, Any]:
    """Each Linear's per-input-channel max |x| over the sentences."""
    import torch

    amax: dict[str, Any] = {}

    def hook(name: str) -> Any:
        def record(mod: Any, inputs: Any, output: Any) -> None:
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0)
            amax[name] = torch.maximum(amax[name], x) if name in amax else x
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in module.named_modules()
               if isinstance(m, torch.nn.Linear)]
    module.eval()
    with torch.no_grad():
        for s in sentences:
            enc = tokenizer(s, return_tensors="pt", truncation=True, max_length=128)
            module(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    for h in handles:
        h.remove()
    return amax


def smoothed_copy(module: Any, amax: dict[str, Any], alpha: float) -> Any:
    """A float32 copy of a BERT-style encoder with the smoothing applied (see the docstring)."""
    from kgx.pipeline.encoder import encoder_layers

    m = copy.deepcopy(module)

    def scale(a: Any, *layers: Any) -> Any:
        import torch

        w = torch.stack([x.weight.detach().abs().amax(0) for x in layers]).amax(0)
        return (a.clamp(min=1e-5) ** alpha / w.clamp(min=1e-5) ** (1 - alpha)).clamp(min=1e-5)

    def divide_first_arg(inv: Any) -> Any:
        def pre(mod: Any, args: tuple, kwargs: dict) -> tuple:
            if args:
                return (args[0] * inv,) + args[1:], kwargs
            return args, {**kwargs, "hidden_states": kwargs["hidden_states"] * inv}
        return pre

    for i, layer in enumerate(encoder_layers(m)):
        name = f"encoder.layer.{i}."
        att = layer.attention.self
        s = scale(amax[name + "attention.self.query"], att.query, att.key, att.value)
        for lin in (att.query, att.key, att.value):
            lin.weight.data *= s
        att.register_forward_pre_hook(divide_first_arg(1 / s), with_kwargs=True)
        out = layer.attention.output.dense
        s = scale(amax[name + "attention.output.dense"], out)
        out.weight.data *= s
        att.value.weight.data /= s[:, None]
        att.value.bias.data /= s
        ffn_in = layer.intermediate.dense
        s = scale(amax[name + "intermediate.dense"], ffn_in)
        ffn_in.weight.data *= s
        layer.intermediate.register_forward_pre_hook(
            lambda mod, args, inv=1 / s: (args[0] * inv,))
        ffn_out = layer.output.dense
        s = scale(amax[name + "output.dense"], ffn_out)
        ffn_out.weight.data *= s
        layer.intermediate.register_forward_hook(
            lambda mod, args, output, inv=1 / s: output.mul_(inv))
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", type=Path, required=True, help="the dev DocBin")
    ap.add_argument("--documents", type=int, default=5)
    ap.add_argument("--calibration", type=Path, default=Path("corpora/raw"))
    ap.add_argument("--alpha", type=float, default=0.8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import spacy
    import torch
    from spacy.util import registry

    from kgx.pipeline import encoder as E
    from kgx.pipeline.evaluate import evaluate

    torch.set_num_threads(args.threads)
    texts = [p.read_text(encoding="utf-8") for p in sorted(args.calibration.glob("*.txt"))]
    int8 = {"components.transformer.model.@architectures": "kgx.TransformerModel.v2",
            "components.transformer.model.quantize": "int8"}
    reference: list[Any] = []
    for variant in ("float32", "int8", "int8 smoothed"):
        nlp = spacy.load(args.model, config=int8 if variant != "float32" else {})
        trf = nlp.get_pipe("transformer").model
        hf = trf.layers[0].shims[0]._hfmodel.transformer
        examples = list(registry.readers.get("kgx.Corpus.v1")(path=args.data,
                                                               documents=args.documents)(nlp))
        if variant == "int8 smoothed":
            skip = ["transformer", "ner", "kgx_relation_extractor"]
            sentences = [s.text for d in nlp.pipe(texts, disable=skip) for s in d.sents]
            smoothed = smoothed_copy(hf, input_maxima(hf, trf.tokenizer, sentences), args.alpha)
            mapping = {torch.nn.Linear: E.full_range_linear()} if E.full_range_int8() else None
            q = torch.ao.quantization.quantize_dynamic(
                smoothed, {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig},
                dtype=torch.qint8, mapping=mapping, inplace=True)
            hf.train()
            trf._kgx_state["int8"] = (hf, q)  # the copy the encoder's inference pass reads
        scores = evaluate(nlp, examples)  # builds kgx's own int8 copy for "int8"
        module = hf.eval() if variant == "float32" else trf._kgx_state["int8"][1]
        outputs = []
        with torch.no_grad():
            for eg in examples:
                for sent in eg.reference.sents:
                    outputs.append(module(**trf.tokenizer(sent.text, return_tensors="pt"))[0][0])
        if variant == "float32":
            reference, error = outputs, "-"
        else:
            rel = [float(((a - b).norm(dim=1) / a.norm(dim=1)).mean())
                   for a, b in zip(reference, outputs, strict=True)]
            error = f"{sum(rel) / len(rel):.4f}"
        print(f"{variant:14s} encoder relative error {error}  NER F1 "
              f"{100 * scores['ents_f']:.2f}  relations F1 "
              f"{100 * scores['rel_strict_micro_f']:.2f}", flush=True)


if __name__ == "__main__":
    main()
