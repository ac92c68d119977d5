"""How the shared transformer runs: ``kgx.TransformerModel.v2``.

spacy-transformers pads every span of a batch to the longest one. Reading one sentence at a
time (``kgx.sentence_spans.v1``) makes those spans vary from three word pieces to a hundred, so
at inference most of the encoder's work went into padding (BENCHMARKS.md, issue 19). v2 sorts
the spans by length and runs the encoder on buckets of similar length, then puts the outputs
back in their places: the same vectors, less padding. Training keeps spacy-transformers'
training pass, one padded batch (its backprop needs one). Both read their word pieces from
``wordpieces.py`` (ligatures and fullwidth forms folded).

Five CPU options ride on the same forward pass (issue 16):

- ``frozen_layers``: the embeddings and the lowest N layers keep their pretrained weights
  (partial fine-tuning); backprop stops above them, so training costs less.
  ``frozen_embeddings`` keeps the embeddings alone (half of MiniLM's weights: their gradient
  and optimizer step are a seventh of a training step).
- ``mixed_precision`` on a CPU: the training forward pass under torch's bfloat16 autocast
  (spacy-transformers' own mixed precision is float16 on CUDA only), its outputs float32;
  float32 with a warning on a CPU without bfloat16 arithmetic.
- ``quantize = "int8"``: post-training dynamic int8 of the encoder's linear layers at
  inference (``torch.ao.quantization.quantize_dynamic``).
- ``runtime = "onnxruntime"``: the encoder runs on ONNX Runtime at inference, in float32 or
  int8 (``onnx_encoder.py``).
- ``quantize = "bf16"``: the encoder's forward pass under torch's bfloat16 autocast at
  inference, its outputs back in float32. Fast where the CPU multiplies bf16 in hardware (AMX,
  AVX-512 BF16); elsewhere torch emulates it, slower than float32.

The weights on disk stay float32 for all of them, so a quantized pipeline is the same pipeline
with config values changed (``kgx quantize``), which ``spacy.load``, ``spacy package`` and
every kgx command load unchanged.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy
from spacy.util import registry

from ..encoders import resolve_encoder
from .encoder_state import load_model_bytes
from .onnx_encoder import RUNTIMES, OnnxEncoder, require_onnxruntime
from .precision import (
    QUANTIZE_CHOICES,
    bf16_native,
    full_range_int8,
    full_range_linear,
    int8_supported,
    packing_int8,
)
from .wordpieces import tokenize_spans

log = logging.getLogger("kgx")

def length_buckets(lengths: Sequence[int], max_items: int) -> list[list[int]]:
    """Span indices grouped by length, shortest first, each group's padded size (count times
    its longest) at most ``max_items`` (a span longer than that gets a group of its own)."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    buckets: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # sorted ascending: this span is the group's longest
        if current and (len(current) + 1) * max(lengths[i], 1) > max_items:
            buckets.append(current)
            current = []
        current.append(i)
    if current:
        buckets.append(current)
    return buckets


def encoder_layers(module: Any) -> Any:
    """The stack of transformer layers of a Hugging Face encoder (BERT, RoBERTa, DistilBERT,
    XLM-R, ...): the ``ModuleList`` as long as the config's ``num_hidden_layers``."""
    import torch

    want = getattr(getattr(module, "config", None), "num_hidden_layers", None)
    for _, child in module.named_modules():
        if isinstance(child, torch.nn.ModuleList) and len(child) == want:
            return child
    raise ValueError(f"kgx.TransformerModel.v2: cannot find the layer stack of "
                     f"{type(module).__name__} (frozen_layers needs one)")


def freeze(module: Any, n_layers: int) -> int:
    """Freeze the embeddings and the lowest ``n_layers`` layers (all of them and the pooler
    when ``n_layers`` reaches the depth; none, the embeddings alone, at 0); returns how many
    layers are frozen."""
    layers = encoder_layers(module)
    embeddings = getattr(module, "embeddings", None)
    if embeddings is None:
        raise ValueError(f"kgx.TransformerModel.v2: {type(module).__name__} has no "
                         f"'embeddings' module to freeze")
    n = min(n_layers, len(layers))
    frozen = [embeddings, *list(layers)[:n]]
    if n == len(layers) and getattr(module, "pooler", None) is not None:
        frozen.append(module.pooler)
    for part in frozen:
        for param in part.parameters():
            param.requires_grad_(False)
    return n


def _float32_outputs(module: Any, args: Any, output: Any) -> Any:
    """A forward hook: the encoder's bfloat16 outputs (training under CPU autocast) as float32,
    which thinc converts to numpy (no bfloat16 there) and the heads read."""
    import torch

    def wide(value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.dtype == torch.bfloat16:
            return value.float()
        if isinstance(value, tuple):
            return tuple(wide(v) for v in value)
        return value

    for key in list(output.keys()):
        output[key] = wide(output[key])
    return output


class TransformerModelV2:
    """Builds the spacy-transformers ``TransformerModel`` subclass lazily, so that importing
    kgx does not import spacy-transformers (and torch) before a pipeline needs them."""

    _cls: Any = None

    @classmethod
    def cls(cls) -> Any:
        if cls._cls is None:
            cls._cls = _define_class()
        return cls._cls


def _define_class() -> Any:
    import torch
    from spacy_transformers.data_classes import FullTransformerBatch
    from spacy_transformers.layers.transformer_model import TransformerModel
    from spacy_transformers.layers.transformer_model import forward as trf_forward
    from thinc.api import xp2torch

    class KgxTransformerModel(TransformerModel):  # type: ignore[misc,valid-type]
        """spacy-transformers' model with kgx's forward pass (see the module docstring)."""

        def __init__(self, name: str, get_spans: Callable, tokenizer_config: dict,
                     transformer_config: dict, mixed_precision: bool,
                     grad_scaler_config: dict, frozen_layers: int, quantize: str | None,
                     max_batch_items: int, runtime: str = "torch",
                     frozen_embeddings: bool = False) -> None:
            from thinc.api import get_current_ops

            # on a CPU, mixed precision is kgx's bfloat16 autocast, not thinc's CUDA float16
            train_bf16 = mixed_precision and get_current_ops().device_type == "cpu"
            super().__init__(name, get_spans, tokenizer_config, transformer_config,
                             mixed_precision and not train_bf16, grad_scaler_config)
            self._func = forward
            self._kgx_args = (name, get_spans, tokenizer_config, transformer_config,
                              mixed_precision, grad_scaler_config, frozen_layers, quantize,
                              max_batch_items, runtime, frozen_embeddings)
            # settings from the config, not in ``attrs``: thinc restores attrs from the saved
            # weights, which would undo a config edit such as ``kgx quantize``'s
            self._kgx_cfg = {"frozen_layers": frozen_layers, "quantize": quantize,
                             "frozen_embeddings": frozen_embeddings, "train_bf16": train_bf16,
                             "max_batch_items": max_batch_items, "runtime": runtime}
            # the Hugging Face module each derived state was made for (it is replaced when a
            # pipeline is loaded): the int8 copy, and whether its layers are frozen
            self._kgx_state: dict[str, Any] = {}

        def from_bytes(self, bytes_data: bytes) -> Any:
            # the saved encoder without its weights held several times over at the load
            return load_model_bytes(self, bytes_data)

        def copy(self) -> Any:
            copied = super().copy()
            new = KgxTransformerModel(*self._kgx_args)
            new.layers[0] = copied.layers[0]
            new.attrs.update(self.attrs)
            return new

    def hf_module(model: Any) -> Any:
        return model.layers[0].shims[0]._hfmodel.transformer

    def prepare_training(model: Any) -> None:
        if model._kgx_cfg["quantize"] or model._kgx_cfg["runtime"] != "torch":
            raise ValueError("kgx.TransformerModel.v2: an int8, bf16 or ONNX Runtime encoder is "
                             "for inference only; train the float32 torch pipeline "
                             "(quantize = null, runtime = \"torch\")")
        n = model._kgx_cfg["frozen_layers"]
        module = hf_module(model)
        if ((n or model._kgx_cfg["frozen_embeddings"])
                and model._kgx_state.get("frozen") is not module):
            done = freeze(module, n)
            depth = len(encoder_layers(module))
            model._kgx_state["frozen"] = module
            model._kgx_state["all_frozen"] = done >= depth
            log.info("encoder: embeddings and %d of %d layers frozen", done, depth)
        if model._kgx_cfg["train_bf16"] and model._kgx_state.get("bf16_hooked") is not module:
            model._kgx_state["bf16_hooked"] = module
            model._kgx_state["bf16"] = bf16_native()
            if model._kgx_state["bf16"]:
                module.register_forward_hook(_float32_outputs)
            else:
                log.warning("encoder: mixed_precision = true but this CPU has no bfloat16 "
                            "arithmetic (AMX, AVX-512 BF16), where torch would emulate it, "
                            "slower than float32: training in float32")

    def inference_module(model: Any) -> Any:
        module = hf_module(model)
        if model._kgx_cfg["runtime"] == "onnxruntime":
            cached = model._kgx_state.get("onnx")
            if cached is None or cached.module is not module:
                cached = OnnxEncoder(module, int8=model._kgx_cfg["quantize"] == "int8")
                model._kgx_state["onnx"] = cached
            return cached
        if model._kgx_cfg["quantize"] != "int8":
            if model._kgx_cfg["quantize"] == "bf16" and not model._kgx_state.get("bf16_told"):
                model._kgx_state["bf16_told"] = True
                if not bf16_native():
                    log.warning("encoder: quantize = 'bf16' but this CPU has no bfloat16 "
                                "arithmetic (AMX, AVX-512 BF16): torch emulates it, slower "
                                "than the float32 pipeline")
            return module  # bf16: run_buckets runs it under autocast
        cached = model._kgx_state.get("int8")
        if cached is None or cached[0] is not module:
            if not int8_supported():
                raise RuntimeError("kgx.TransformerModel.v2: quantize = 'int8' but torch has no "
                                   "quantized engine on this CPU; use the float32 pipeline")
            module.eval()
            with packing_int8():
                # per output channel: one scale per row of each weight matrix
                spec = {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}
                mapping = ({torch.nn.Linear: full_range_linear()} if full_range_int8()
                           else None)
                # the copy shares every float32 tensor with the module (the word-piece
                # embeddings are half the weights); only its Linear layers become int8
                shared = {id(t): t for t in (*module.parameters(), *module.buffers())}
                q = torch.ao.quantization.quantize_dynamic(
                    copy.deepcopy(module, shared), spec, dtype=torch.qint8, mapping=mapping,
                    inplace=True)
            module.train()
            model._kgx_state["int8"] = (module, q)
            return q
        return cached[1]

    def run_buckets(module: Any, wordpieces: Any, max_items: int, bf16: bool = False) -> Any:
        n, width = wordpieces.input_ids.shape
        torch_module = module.module if isinstance(module, OnnxEncoder) else module
        device = next(torch_module.parameters()).device
        precision = (torch.autocast(device.type, dtype=torch.bfloat16) if bf16
                     else contextlib.nullcontext())
        lengths = [int(x) for x in wordpieces.lengths]
        was_training = torch_module.training
        torch_module.eval()
        outputs: list[tuple[list[int], int, Any]] = []
        try:
            with torch.no_grad(), precision:
                for idx in length_buckets(lengths, max_items):
                    longest = max(max(lengths[i] for i in idx), 1)
                    take = numpy.asarray(idx)
                    kwargs = {
                        "input_ids": xp2torch(wordpieces.input_ids[take, :longest],
                                              device=device),
                        "attention_mask": xp2torch(wordpieces.attention_mask[take, :longest],
                                                   device=device),
                    }
                    if wordpieces.token_type_ids is not None:
                        kwargs["token_type_ids"] = xp2torch(
                            wordpieces.token_type_ids[take, :longest], device=device)
                    outputs.append((idx, longest, module(**kwargs)))
        finally:
            if was_training:
                torch_module.train()
        first = outputs[0][2]
        merged: dict[str, Any] = {}
        for key, value in first.items():
            if not isinstance(value, torch.Tensor) or value.dim() not in (2, 3):
                return None  # hidden states of every layer etc.: not bucketed
            shape = (n, width, value.shape[-1]) if value.dim() == 3 else (n, value.shape[-1])
            # bf16 outputs go back as float32: numpy, which reads them next, has no bfloat16
            full = value.new_zeros(shape, dtype=torch.float32 if value.dtype == torch.bfloat16
                                   else value.dtype)
            for idx, longest, out in outputs:
                rows = torch.as_tensor(idx, device=full.device)
                if value.dim() == 3:
                    full[rows, :longest] = out[key].to(full.dtype)
                else:
                    full[rows] = out[key].to(full.dtype)
            merged[key] = full
        return type(first)(**merged)

    def forward(model: Any, docs: list, is_train: bool) -> tuple[Any, Callable]:
        if is_train:
            prepare_training(model)
        nested = model.attrs["get_spans"](docs)
        flat = [span for doc_spans in nested for span in doc_spans]
        if not flat:
            return trf_forward(model, docs, is_train)
        if is_train and not model._kgx_state.get("all_frozen"):
            # spacy-transformers' training pass, on kgx's word pieces (wordpieces.py)
            wordpieces, align = tokenize_spans(model.tokenizer, flat)
            bf16 = bool(model._kgx_cfg["train_bf16"] and model._kgx_state.get("bf16"))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                output, backprop_tensors = model.layers[0](wordpieces, is_train)

            def backprop(d_output: Any) -> list:
                backprop_tensors(d_output.model_output)
                return docs

            return FullTransformerBatch(spans=nested, wordpieces=wordpieces,
                                        model_output=output, align=align), backprop
        # a fully frozen encoder in training is a feature extractor, run as at inference (no
        # dropout, no autograd graph) and its backward pass is empty
        module = hf_module(model) if is_train else inference_module(model)
        wordpieces, align = tokenize_spans(model.tokenizer, flat)
        output = run_buckets(module, wordpieces, model._kgx_cfg["max_batch_items"],
                             bf16=model._kgx_cfg["quantize"] == "bf16")
        if output is None:
            if model._kgx_cfg["quantize"]:
                raise RuntimeError(f"kgx.TransformerModel.v2: {model._kgx_cfg['quantize']} "
                                   "needs the plain encoder outputs (no per-layer hidden "
                                   "states)")
            return trf_forward(model, docs, is_train)
        batch = FullTransformerBatch(spans=nested, wordpieces=wordpieces,
                                     model_output=output, align=align)
        return batch, lambda d_output: docs

    return KgxTransformerModel


@registry.architectures("kgx.TransformerModel.v2")
def build_transformer_model_v2(
    name: str,
    get_spans: Any,
    tokenizer_config: dict = {},  # noqa: B006  (confection passes plain dicts)
    transformer_config: dict = {},  # noqa: B006
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},  # noqa: B006
    frozen_layers: int = 0,
    quantize: str | None = None,
    max_batch_items: int = 2048,
    runtime: str = "torch",
    frozen_embeddings: bool = False,
) -> Any:
    """v1 (the encoder name resolved offline first) with inference in length-sorted buckets,
    partial fine-tuning and optional int8 inference.

    name (str): a Hugging Face name or a local directory (all-MiniLM-L6-v2: the offline copy).
    get_spans (Callable): the spans the encoder reads (``kgx.sentence_spans.v1``).
    frozen_layers (int): freeze the embeddings and this many of the lowest layers in training
        (0: fine-tune everything; the encoder's depth or more: train the heads only).
    frozen_embeddings (bool): freeze the embeddings in training even when ``frozen_layers``
        is 0 (the layers all fine-tuned; the cheapest part to keep).
    quantize (str | None): "int8" for dynamic int8 inference of the linear layers, "bf16"
        for bfloat16 autocast inference (fast on CPUs with AMX or AVX-512 BF16), or null.
    max_batch_items (int): the most word pieces (count times longest, padding included) the
        encoder reads at once at inference.
    runtime (str): what runs the encoder at inference: "torch", or "onnxruntime" (the module
        converted to ONNX, fused or int8, at the first inference; needs ``kgx[onnx]``).
    mixed_precision (bool): on a GPU, spacy-transformers' float16 autocast; on a CPU, the
        training forward pass under bfloat16 autocast where the CPU has AMX or AVX-512 BF16
        (float32, with a warning, where it has neither).
    tokenizer_config, transformer_config, grad_scaler_config: as for
        ``spacy-transformers.TransformerModel.v3``.
    """
    if quantize not in QUANTIZE_CHOICES:
        raise ValueError(f"kgx.TransformerModel.v2: quantize must be null, 'int8' or 'bf16', "
                         f"got {quantize!r}")
    if frozen_layers < 0:
        raise ValueError(f"kgx.TransformerModel.v2: frozen_layers must be >= 0, "
                         f"got {frozen_layers}")
    if runtime not in RUNTIMES:
        raise ValueError(f"kgx.TransformerModel.v2: runtime must be one of "
                         f"{', '.join(RUNTIMES)}, got {runtime!r}")
    if runtime == "onnxruntime":
        if quantize == "bf16":
            raise ValueError("kgx.TransformerModel.v2: quantize = 'bf16' is for the torch "
                             "runtime; ONNX Runtime takes null or 'int8'")
        require_onnxruntime("kgx.TransformerModel.v2")
    if max_batch_items < 1:
        raise ValueError(f"kgx.TransformerModel.v2: max_batch_items must be >= 1, "
                         f"got {max_batch_items}")
    return TransformerModelV2.cls()(
        resolve_encoder(name), get_spans, dict(tokenizer_config), dict(transformer_config),
        mixed_precision, dict(grad_scaler_config), frozen_layers, quantize, max_batch_items,
        runtime, frozen_embeddings)


# --- kgx quantize ------------------------------------------------------------------------

# encoder architectures whose arguments v2 takes as they are
_UPGRADABLE = ("kgx.TransformerModel.v1", "kgx.TransformerModel.v2",
               "spacy-transformers.TransformerModel.v3")


def quantize_pipeline(model: str | Path, output: Path, *, overwrite: bool = False,
                      runtime: str = "torch", quantize: str | None = "int8") -> list[str]:
    """Write ``model`` to ``output`` with CPU inference settings for each transformer
    component (``kgx.TransformerModel.v2``): int8 on torch (the default), bf16 autocast on
    torch (``quantize = "bf16"``), or ``runtime = "onnxruntime"`` with int8 or float32
    (``quantize = None``); returns their names. Span recognisers (``kgx.SpanCategorizer.v1``)
    get the same ``quantize`` for their pooled products.

    The weights stay float32 on disk and are converted when the pipeline is loaded, so the
    result is an ordinary spaCy pipeline. Refuses where the runtime cannot do it here, where a
    transformer's architecture is not one v2 can stand in for, and an existing ``output``
    unless ``overwrite``.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if quantize not in QUANTIZE_CHOICES:
        raise ValueError(f"quantize must be None, 'int8' or 'bf16', got {quantize!r}")
    if runtime == "torch" and quantize is None:
        raise ValueError("float32 on torch is the pipeline as trained: nothing to change "
                         "(choose int8, bf16, or the onnxruntime runtime)")
    if runtime == "onnxruntime":
        if quantize == "bf16":
            raise ValueError("bf16 is for the torch runtime; ONNX Runtime takes int8 or "
                             "float32")
        require_onnxruntime("kgx quantize")
    elif quantize == "bf16":
        if not bf16_native():
            raise RuntimeError("this CPU has no bfloat16 arithmetic (AMX, AVX-512 BF16): "
                               "bf16 would be slower than the float32 pipeline here")
    elif not int8_supported():
        raise RuntimeError("this CPU has no int8 support in torch (no quantized engine): "
                           "keep the float32 pipeline, or use the onnxruntime runtime")
    import spacy
    from confection import Config

    output = Path(output)
    if output.exists() and any(output.iterdir()) and not overwrite:
        raise FileExistsError(f"{output} exists and is not empty (--overwrite replaces it)")
    nlp = spacy.load(model)
    names = [name for name in nlp.component_names
             if nlp.get_pipe_meta(name).factory == "transformer"]
    if not names:
        raise ValueError(f"{model}: the pipeline has no transformer component to quantize "
                         f"(components: {', '.join(nlp.component_names)})")
    for name in names:
        arch = nlp.config["components"][name]["model"].get("@architectures")
        if arch not in _UPGRADABLE:
            raise ValueError(f"{model}: component {name!r} uses {arch}; kgx quantize knows "
                             f"{', '.join(_UPGRADABLE)}")
    nlp.to_disk(output)
    config = Config().from_disk(output / "config.cfg", interpolate=False)
    for name in names:
        section = config["components"][name]["model"]
        section["@architectures"] = "kgx.TransformerModel.v2"
        section["quantize"] = quantize
        section["runtime"] = runtime
    # the span recogniser's pooled products run in the same precision (ONNX Runtime's float32
    # keeps them float32): they are most of the time left outside the encoder (issue 16)
    heads = [name for name, comp in config["components"].items()
             if comp.get("model", {}).get("@architectures") == "kgx.SpanCategorizer.v1"]
    for name in heads:
        config["components"][name]["model"]["quantize"] = quantize
    config.to_disk(output / "config.cfg", interpolate=False)
    check = spacy.load(output)
    check("Quantized pipelines still read sentences.")  # and build the runtime's graph
    log.info("%s: %s inference on %s for %s", output, quantize or "float32", runtime,
             ", ".join(names + [f"{name}'s products" for name in heads]))
    if quantize == "int8" and runtime == "torch" and bf16_native():
        # measured on an AMX CPU: bf16 2.0x float32 at F1 within 0.33, int8 1.85x within 1.3
        log.info("this CPU multiplies bfloat16 in hardware: --bf16 is faster here, with F1 "
                 "closer to float32's (BENCHMARKS.md, issue 16)")
    return names
