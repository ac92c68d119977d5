"""CPU arithmetic for inference: which precisions this CPU runs well (int8, bfloat16) and
products in them, shared by the encoder (``encoder.py``) and the span recogniser's pooled
products (``span_pool.py``; issue 16)."""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

QUANTIZE_CHOICES = (None, "int8", "bf16")


def int8_supported() -> bool:
    """Whether torch has a quantized engine for this CPU (fbgemm/x86 on AVX2, qnnpack on ARM)."""
    import torch

    return any(e != "none" for e in torch.backends.quantized.supported_engines)


def bf16_native() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AMX tiles or AVX-512 BF16), which is
    where ``quantize = "bf16"`` pays; torch's own (private) CPU feature checks."""
    import torch

    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def int8_engine() -> str:
    """The quantized engine that int8 weights are packed for: ``KGX_INT8_ENGINE`` where set;
    else oneDNN where the CPU has AMX tiles, whose int8 matrix units it uses (2.4-4.6x
    fbgemm's speed at the encoder's shapes on a Sapphire Rapids core, the same scheme, about
    140 MB more memory in a run: BENCHMARKS.md, issue 16); torch's own choice elsewhere."""
    import torch

    engines = torch.backends.quantized.supported_engines
    chosen = os.environ.get("KGX_INT8_ENGINE", "").strip()
    if chosen:
        if chosen not in engines or chosen == "none":
            raise ValueError(f"KGX_INT8_ENGINE={chosen!r}: torch's quantized engines here are "
                             f"{', '.join(e for e in engines if e != 'none')}")
        return chosen
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    if "onednn" in engines and amx is not None and bool(amx()):
        return "onednn"
    return str(torch.backends.quantized.engine)


# one packing at a time (reentrant: a packing may nest another): two threads each saving and
# restoring the process-wide engine could otherwise leave one's choice behind
_PACKING = threading.RLock()


@contextlib.contextmanager
def packing_int8() -> Iterator[None]:
    """Pack int8 weights (``quantize_dynamic``, ``linear_prepack``) for ``int8_engine``, and
    put the process's engine back after: the packed weights keep their engine's kernels, and
    the caller's torch setting is theirs. Also quiets torch 2.13's notice that eager quantized
    tensors will go (pytorch#184982): they work in this release, and the warning would reach
    every kgx user."""
    import torch

    with _PACKING:
        before = torch.backends.quantized.engine
        torch.backends.quantized.engine = int8_engine()
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore",
                                        message=r"torch\.quantize_per_(tensor|channel)")
                yield
        finally:
            torch.backends.quantized.engine = before


def full_range_int8() -> bool:
    """Whether int8 activations may use all 8 bits here. torch's dynamic int8 linear layers
    quantize activations to 7 bits (``reduce_range``) because fbgemm's AVX2 kernels add pairs
    of u8 x s8 products in int16, which saturates at full range; VNNI instructions (and AMX,
    where oneDNN packs: ``int8_engine``) add them in int32, so on a VNNI CPU the eighth bit is
    free. It is worth keeping: on the CoNLL04 and ADE pipelines, 7-bit activations cost
    0.95-1.5 relation F1 points, 8 bits 0.1-0.6 (BENCHMARKS.md, issue 16)."""
    import torch

    probe = getattr(torch.cpu, "_is_vnni_supported", None)
    try:
        return (probe is not None and bool(probe())
                and int8_engine() in ("fbgemm", "x86", "onednn"))
    except RuntimeError:
        return False


_FULL_RANGE_LINEAR: list[Any] = []


def full_range_linear() -> Any:
    """torch's dynamic int8 ``Linear`` with 8-bit activations (see ``full_range_int8``)."""
    if not _FULL_RANGE_LINEAR:
        import torch
        from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

        class FullRangeDynamicLinear(DynamicLinear):
            def forward(self, x: Any) -> Any:
                packed = self._packed_params._packed_params
                return torch.ops.quantized.linear_dynamic(x, packed, reduce_range=False
                                                          ).to(x.dtype)

        _FULL_RANGE_LINEAR.append(FullRangeDynamicLinear)
    return _FULL_RANGE_LINEAR[0]


def linear_product(W: Any, precision: str | None) -> Callable[[Any], Any]:
    """``x -> x @ W.T`` (float32 out) for a weight ``W`` (out x in, a float32 torch tensor) in
    ``precision``: None keeps float32; ``"int8"`` is torch's dynamic int8 (weights per output
    channel, symmetric, as ``per_channel_dynamic_qconfig``; activations per call, 8 bits where
    ``full_range_int8``); ``"bf16"`` multiplies in bfloat16 and accumulates in float32."""
    import torch

    if precision is None:
        Wt = W.T
        return lambda x: x @ Wt
    if precision == "bf16":
        Wb = W.T.to(torch.bfloat16)
        return lambda x: (x.to(torch.bfloat16) @ Wb).float()
    if precision != "int8":
        raise ValueError(f"precision must be None, 'int8' or 'bf16', got {precision!r}")
    # torch's symmetric per-channel observer: scale = max |w| / 127.5, zero point 0
    scales = (W.abs().amax(dim=1).double() / 127.5).clamp_(min=torch.finfo(torch.float32).eps)
    zeros = torch.zeros(W.shape[0], dtype=torch.int64)
    with packing_int8():
        q = torch.quantize_per_channel(W.float(), scales, zeros, 0, torch.qint8)
        packed = torch.ops.quantized.linear_prepack(q, None)
    reduce_range = not full_range_int8()
    return lambda x: torch.ops.quantized.linear_dynamic(x, packed, reduce_range=reduce_range)
