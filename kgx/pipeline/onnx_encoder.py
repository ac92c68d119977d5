"""The encoder on ONNX Runtime: ``runtime = "onnxruntime"`` of ``kgx.TransformerModel.v2``.

The Hugging Face module a pipeline loads is exported to ONNX once per process, at its first
inference, by a child process that reads the module's weights (``convert_in_child``). In
float32, ONNX Runtime's transformer optimizer then fuses the attention, layer norms and GELU
into single kernels: the same vectors, faster. With ``quantize = "int8"`` the
plain graph's linear layers are quantized dynamically instead (int8 weights per output
channel, 8-bit activations per tensor, as torch's dynamic int8 does). The weights on disk stay
the float32 ones that training and ``to_disk`` use, so the runtime is a config value, set by
``kgx quantize --runtime onnxruntime``. On this project's 2-core CPU: 1.10-1.32x the torch
float32 pipeline's words/s in float32, and in int8 a tie with torch's int8 (BENCHMARKS.md,
issue 16). Needs the ``onnx`` extra (``pip install "kgx[onnx]"``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger("kgx")

RUNTIMES = ("torch", "onnxruntime")
# Hugging Face model types whose graphs ONNX Runtime's BERT fusions understand; others run
# on ONNX Runtime unfused
_FUSIBLE = {"bert", "roberta", "xlm-roberta", "camembert", "electra", "distilbert", "mpnet"}
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_OUTPUTS = ("last_hidden_state", "pooler_output")


def onnxruntime_available() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def require_onnxruntime(what: str) -> None:
    if not onnxruntime_available():
        raise RuntimeError(f"{what}: runtime = 'onnxruntime' needs the packages onnxruntime "
                           "and onnx (pip install \"kgx[onnx]\")")


class OnnxEncoder:
    """Calls like the Hugging Face module it was exported from (keyword inputs, an output
    with ``last_hidden_state`` and ``pooler_output`` as torch tensors), at inference only.

    One ONNX Runtime session per set of inputs (with or without ``token_type_ids``), built on
    first use with as many threads as torch uses then.
    """

    def __init__(self, module: Any, *, int8: bool) -> None:
        self.module = module
        self.int8 = int8
        self._sessions: dict[tuple[str, ...], tuple[Any, list[str]]] = {}

    def __call__(self, **inputs: Any) -> Any:
        import numpy
        import torch

        names = tuple(name for name in _INPUTS if inputs.get(name) is not None)
        if names not in self._sessions:
            self._sessions[names] = self._session(names, inputs)
        session, outputs = self._sessions[names]
        # the dtypes the graph was exported with: those of the first call's inputs
        feed = {name: numpy.ascontiguousarray(inputs[name].cpu().numpy()) for name in names}
        values = session.run(outputs, feed)
        return _output_class()(**{name: torch.from_numpy(value)
                                  for name, value in zip(outputs, values, strict=True)})

    def _session(self, names: tuple[str, ...], inputs: dict[str, Any]) -> tuple[Any, list[str]]:
        import onnxruntime
        import torch

        start = time.perf_counter()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initializers are noise here
        # no busy-waiting after a call: the recogniser's torch threads run in between
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        with tempfile.TemporaryDirectory(prefix="kgx-onnx-") as tmp:
            final = Path(tmp, "encoder.onnx")
            dtypes = {name: str(inputs[name].dtype).removeprefix("torch.") for name in names}
            outputs = convert_in_child(self.module, dtypes, final, int8=self.int8)
            session = onnxruntime.InferenceSession(str(final), options,
                                                   providers=["CPUExecutionProvider"])
        log.info("encoder on ONNX Runtime (%s, %d threads): ready in %.1f s",
                 "int8" if self.int8 else "float32", options.intra_op_num_threads,
                 time.perf_counter() - start)
        return session, outputs


def convert_in_child(module: Any, dtypes: dict[str, str], target: Path, *, int8: bool
                     ) -> list[str]:
    """Write the module's ONNX graph, fused (float32) or quantized (int8), to ``target``;
    returns its output names. The work runs in a child process from the module's saved
    weights: the exporter and the optimizer leave hundreds of MB behind in the process that
    runs them (about 450 MB of RSS measured for this encoder), and ONNX Runtime's tools
    append to ``sys.path`` and log to the root logger."""
    import torch

    source = target.with_name("hf")
    module.save_pretrained(source)
    spec = {"source": str(source), "target": str(target), "inputs": dtypes, "int8": int8,
            "attention": getattr(module.config, "_attn_implementation", None),
            "threads": torch.get_num_threads()}
    # the kgx the caller imported, wherever it came from
    home = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (home, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "kgx.pipeline.onnx_encoder", json.dumps(spec)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"exporting the encoder to ONNX failed (exit {done.returncode}):\n"
                           f"{tail}")
    return list(json.loads(done.stdout.strip().splitlines()[-1])["outputs"])


def _convert(spec: dict[str, Any]) -> list[str]:
    """The child's side of ``convert_in_child``."""
    import torch
    from transformers import AutoModel

    torch.set_num_threads(int(spec["threads"]))
    kwargs = {"attn_implementation": spec["attention"]} if spec["attention"] else {}
    module = AutoModel.from_pretrained(spec["source"], **kwargs)
    names = tuple(name for name in _INPUTS if name in spec["inputs"])
    example = {name: (torch.zeros if name == "token_type_ids" else torch.ones)(
        (2, 8), dtype=getattr(torch, spec["inputs"][name])) for name in names}
    target = Path(spec["target"])
    plain = target.with_name("plain.onnx")
    outputs = export(module, names, example, plain)
    # int8 quantizes the plain graph: in the fused one the attention's query/key/value
    # projection is inside one op, which int8 would leave in float32 (slower) or quantize
    # per tensor (-1.8 relation F1 on a CoNLL04 model; BENCHMARKS.md)
    if spec["int8"]:
        quantize_int8(plain, target)
    elif not fuse(plain, target, module.config):
        os.replace(plain, target)
    return outputs


def export(module: Any, names: tuple[str, ...], example: dict[str, Any], path: Path
           ) -> list[str]:
    """Write the module's ONNX graph (batch and sequence axes dynamic) to ``path``; returns
    the names of its outputs: those of ``_OUTPUTS`` that the module returns."""
    import torch

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            probe = module(**example)
            outputs = [name for name in _OUTPUTS if getattr(probe, name, None) is not None]
            axes = {name: {0: "batch", 1: "sequence"} for name in names}
            for name in outputs:  # (batch, sequence, width) or (batch, width)
                axes[name] = {0: "batch", 1: "sequence"} if getattr(probe, name).dim() == 3 \
                    else {0: "batch"}
            del probe
            # tracing warns about Python control flow on shapes in the Hugging Face code,
            # which is constant for this export
            warnings.simplefilter("ignore")
            # in eval mode itself: the exporter restores the wrapper's mode afterwards, and
            # a wrapper in training mode would leave the module in training mode (dropout on)
            wrapper = _keyword_module_class()(module, names, outputs).eval()
            torch.onnx.export(
                wrapper, tuple(example[name] for name in names), str(path),
                input_names=list(names), output_names=outputs, dynamic_axes=axes,
                opset_version=17, dynamo=False)
    finally:
        module.train(was_training)
    return outputs


def fuse(source: Path, target: Path, config: Any) -> bool:
    """ONNX Runtime's transformer fusions of ``source``, written to ``target``, where the
    model type is one they know; False (nothing written) where it is not."""
    if getattr(config, "model_type", None) not in _FUSIBLE:
        return False
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(
        str(source), model_type="bert", num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size))
    fused.save_model_to_file(str(target))
    return True


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 of ``source``'s linear layers, written to ``target``: int8 weights per
    output channel, 8-bit activations per tensor."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # the products with a weight matrix (every linear layer), not attention's products of two
    # activations: what torch's dynamic int8 does, and F1 stayed as close to float32
    # (BENCHMARKS.md)
    quantize_dynamic(source, target, per_channel=True, weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul"], extra_options={"MatMulConstBOnly": True})


def _output_class() -> Any:
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    return BaseModelOutputWithPooling


def _keyword_module_class() -> Any:
    import torch

    class KeywordModule(torch.nn.Module):
        """Positional inputs for the exporter, passed on by name; plain tensors out."""

        def __init__(self, module: Any, names: tuple[str, ...], outputs: list[str]) -> None:
            super().__init__()
            self.module = module
            self.names = names
            self.outputs = outputs

        def forward(self, *args: Any) -> tuple[Any, ...]:
            out = self.module(**dict(zip(self.names, args, strict=True)))
            return tuple(getattr(out, name) for name in self.outputs)

    return KeywordModule


if __name__ == "__main__":  # the child of ``convert_in_child``
    print(json.dumps({"outputs": _convert(json.loads(sys.argv[1]))}))
