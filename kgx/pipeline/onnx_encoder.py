"""The encoder on ONNX Runtime: ``runtime = "onnxruntime"`` of ``kgx.TransformerModel.v2``.

The Hugging Face module a pipeline loads is exported to ONNX once per process, at its first
inference. In float32, ONNX Runtime's transformer optimizer then fuses the attention, layer
norms and GELU into single kernels: the same vectors, faster. With ``quantize = "int8"`` the
plain graph's linear layers are quantized dynamically instead (int8 weights per output
channel, 8-bit activations per tensor, as torch's dynamic int8 does). The weights on disk stay
the float32 ones that training and ``to_disk`` use, so the runtime is a config value, set by
``kgx quantize --runtime onnxruntime``. On this project's 2-core CPU: 1.10-1.32x the torch
float32 pipeline's words/s in float32, and in int8 a tie with torch's int8 (BENCHMARKS.md,
issue 16). Needs the ``onnx`` extra (``pip install "kgx[onnx]"``).
"""

from __future__ import annotations

import io
import logging
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
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
        graph, outputs = export(self.module, names, {name: inputs[name] for name in names})
        # int8 quantizes the plain graph: in the fused one the attention's query/key/value
        # projection is inside one op, which int8 would leave in float32 (slower) or
        # quantize per tensor (-1.8 relation F1 on a CoNLL04 model; BENCHMARKS.md)
        graph = quantize_int8(graph) if self.int8 else fuse(graph, self.module.config)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initializers are noise here
        # no busy-waiting after a call: the recogniser's torch threads run in between
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(graph.SerializeToString(), options,
                                               providers=["CPUExecutionProvider"])
        log.info("encoder on ONNX Runtime (%s, %d threads): ready in %.1f s",
                 "int8" if self.int8 else "float32", options.intra_op_num_threads,
                 time.perf_counter() - start)
        return session, outputs


def export(module: Any, names: tuple[str, ...], example: dict[str, Any]
           ) -> tuple[Any, list[str]]:
    """The module's ONNX graph (batch and sequence axes dynamic), as an ``onnx.ModelProto``,
    and the names of its outputs: those of ``_OUTPUTS`` that the module returns."""
    import onnx
    import torch

    buffer = io.BytesIO()
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
            # tracing warns about Python control flow on shapes in the Hugging Face code,
            # which is constant for this export
            warnings.simplefilter("ignore")
            # in eval mode itself: the exporter restores the wrapper's mode afterwards, and
            # a wrapper in training mode would leave the module in training mode (dropout on)
            wrapper = _keyword_module_class()(module, names, outputs).eval()
            torch.onnx.export(
                wrapper, tuple(example[name] for name in names),
                buffer,  # type: ignore[arg-type]  # torch takes a file object too
                input_names=list(names), output_names=outputs, dynamic_axes=axes,
                opset_version=17, dynamo=False)
    finally:
        module.train(was_training)
    return onnx.load_from_string(buffer.getvalue()), outputs


def fuse(graph: Any, config: Any) -> Any:
    """ONNX Runtime's transformer fusions, where the model type is one they know."""
    if getattr(config, "model_type", None) not in _FUSIBLE:
        return graph
    with _import_path_kept():
        from onnxruntime.transformers import optimizer

        with _quiet_onnxruntime_logs(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fused = optimizer.optimize_model(
                graph, model_type="bert", num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size))
    return fused.model


def quantize_int8(graph: Any) -> Any:
    """Dynamic int8 of the graph's linear layers: int8 weights per output channel, 8-bit
    activations per tensor."""
    import onnx

    with _import_path_kept(), tempfile.TemporaryDirectory(prefix="kgx-onnx-") as tmp:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        source, target = Path(tmp, "fp32.onnx"), Path(tmp, "int8.onnx")
        onnx.save(graph, str(source))
        # the products with a weight matrix (every linear layer), not attention's products
        # of two activations: what torch's dynamic int8 does, and F1 stayed as close to
        # float32 (BENCHMARKS.md)
        with _quiet_onnxruntime_logs():
            quantize_dynamic(source, target, per_channel=True, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul"],
                             extra_options={"MatMulConstBOnly": True})
        return onnx.load(str(target))


@contextmanager
def _import_path_kept() -> Iterator[None]:
    """ONNX Runtime's tools append their own folders to ``sys.path`` when first imported (they
    import each other by bare names); kgx puts the caller's import path back afterwards."""
    before = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = before


class _FromOnnxRuntime(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "onnxruntime" not in Path(record.pathname).parts


@contextmanager
def _quiet_onnxruntime_logs() -> Iterator[None]:
    """ONNX Runtime's tools log progress and advice to the root logger and to loggers named
    after their modules ("fusion_base"...), which would reach the caller's log at every
    load; kgx drops those records while the tools run and leaves every logger as it was."""
    quiet = _FromOnnxRuntime()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
        if "onnxruntime" in Path(getattr(sys.modules.get(name), "__file__", None) or "").parts]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


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
