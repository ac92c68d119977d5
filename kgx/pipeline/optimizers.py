"""Adam with layer-wise learning-rate decay for the fine-tuned transformer.

The lower layers of a pretrained encoder hold general features that a small training set should
move least; the top layers and the task heads most (ELECTRA, Clark et al. 2020; Zhang et al.
2021, "Revisiting few-sample BERT fine-tuning"). With ``layer_decay = d`` and ``L`` encoder
layers, encoder layer ``i`` (0-based) learns at ``d ** (L - i)`` of the rate, the embeddings at
``d ** (L + 1)``, and every other weight (thinc layers, pooler) at the full rate.

The parameter names come from the PyTorch shim (``encoder.layer.3.attention.self.query.weight``,
``embeddings.word_embeddings.weight``), so any BERT-like Hugging Face encoder works; names that
match neither pattern keep the full rate.
"""

from __future__ import annotations

import re
from typing import Any

from thinc.api import Optimizer
from thinc.config import registry

_LAYER = re.compile(r"(?:^|\.)(?:layer|layers|block|h)\.(\d+)\.")
_EMBEDDINGS = re.compile(r"(?:^|\.)embeddings?\.")


class LayerDecayOptimizer(Optimizer):
    """thinc's ``Optimizer`` with a fixed rate multiplier per transformer layer."""

    # thinc's Optimizer declares __slots__; the subclass adds its own
    __slots__ = ["layer_decay", "num_layers", "_scales"]

    def __init__(self, learn_rate: Any, *, layer_decay: float, num_layers: int,
                 **kwargs: Any) -> None:
        if not 0.0 < layer_decay <= 1.0:
            raise ValueError(f"layer_decay must be in (0, 1], got {layer_decay}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        super().__init__(learn_rate, **kwargs)
        self.layer_decay = layer_decay
        self.num_layers = num_layers
        self._scales: dict[str, float] = {}

    def layer_scale(self, name: str) -> float:
        """The rate multiplier for a parameter name (cached: names repeat every step)."""
        scale = self._scales.get(name)
        if scale is None:
            scale = 1.0
            match = _LAYER.search(name)
            if match is not None:
                depth = min(int(match.group(1)), self.num_layers - 1)
                scale = self.layer_decay ** (self.num_layers - depth)
            elif _EMBEDDINGS.search(name) is not None:
                scale = self.layer_decay ** (self.num_layers + 1)
            self._scales[name] = scale
        return scale

    def __call__(self, key: tuple[int, str], weights: Any, gradient: Any, *,
                 lr_scale: float = 1.0) -> Any:
        return super().__call__(key, weights, gradient,
                                lr_scale=lr_scale * self.layer_scale(key[1]))


@registry.optimizers("kgx.AdamLayerDecay.v1")
def make_adam_layer_decay(
    learn_rate: Any = 0.001,
    *,
    layer_decay: float = 0.9,
    num_layers: int = 6,
    L2: Any = 0.0,
    beta1: Any = 0.9,
    beta2: Any = 0.999,
    eps: Any = 1e-08,
    grad_clip: Any = 1.0,
    L2_is_weight_decay: bool = True,
    use_averages: bool = False,
) -> Optimizer:
    """thinc's ``Adam.v1`` with layer-wise learning-rate decay for the fine-tuned encoder.

    learn_rate (float or schedule), L2, beta1, beta2, eps, grad_clip, L2_is_weight_decay,
        use_averages: as for thinc's ``Adam.v1``.
    layer_decay (float): encoder layer ``i`` of ``num_layers`` learns at
        ``layer_decay ** (num_layers - i)`` of the rate, the embeddings one step lower, thinc's
        own layers (the task heads) at the full rate.
    num_layers (int): the encoder's number of layers.
    """
    return LayerDecayOptimizer(
        learn_rate, layer_decay=layer_decay, num_layers=num_layers, L2=L2, beta1=beta1,
        beta2=beta2, eps=eps, grad_clip=grad_clip, L2_is_weight_decay=L2_is_weight_decay,
        use_averages=use_averages, use_radam=False,
    )
