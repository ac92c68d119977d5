"""kgx.AdamLayerDecay.v1: layer-wise learning-rate decay for the fine-tuned encoder."""

from __future__ import annotations

import numpy
import pytest
import torch
from thinc.api import Adam, PyTorchWrapper, registry

from kgx.pipeline.optimizers import LayerDecayOptimizer


def make(decay: float = 0.5, layers: int = 3, **kwargs) -> LayerDecayOptimizer:
    return registry.optimizers.get("kgx.AdamLayerDecay.v1")(
        0.01, layer_decay=decay, num_layers=layers, **kwargs
    )


@pytest.mark.slow  # a fresh interpreter imports spaCy
def test_found_through_its_entry_point():
    # a fresh interpreter: nothing of kgx imported before thinc looks the name up
    import subprocess
    import sys

    code = (
        "import sys; from thinc.api import registry; "
        "f = registry.optimizers.get('kgx.AdamLayerDecay.v1'); print(f.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "kgx.pipeline.optimizers"


@pytest.mark.parametrize(
    "name, scale",
    [
        ("embeddings.word_embeddings.weight", 0.5**4),
        ("encoder.layer.0.attention.self.query.weight", 0.5**3),
        ("encoder.layer.2.output.dense.bias", 0.5),
        ("transformer.layer.1.ffn.lin1.weight", 0.5**2),  # DistilBERT's names
        ("pooler.dense.weight", 1.0),
        ("W", 1.0),  # thinc's own layers: the heads keep the full rate
        ("b", 1.0),
    ],
)
def test_scale_by_depth(name, scale):
    assert make().layer_scale(name) == pytest.approx(scale)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="layer_decay"):
        make(decay=0.0)
    with pytest.raises(ValueError, match="num_layers"):
        make(layers=0)


def first_step(optimizer, name: str, lr_scale: float = 1.0) -> float:
    weights = numpy.zeros((4,), dtype="f")
    gradient = numpy.full((4,), 0.3, dtype="f")
    new, _ = optimizer((1, name), weights, gradient, lr_scale=lr_scale)
    return float(numpy.abs(new).mean())


def test_steps_shrink_with_depth_and_compose_with_lr_scale():
    opt = make(decay=0.5, layers=3)
    top = first_step(opt, "encoder.layer.2.w")
    assert top > 0
    assert first_step(opt, "encoder.layer.0.w") == pytest.approx(top * 0.25, rel=1e-4)
    assert first_step(opt, "embeddings.w") == pytest.approx(top * 0.125, rel=1e-4)
    # a component's learn_rate_scale multiplies on top (the heads' 10x)
    assert first_step(opt, "W", lr_scale=10.0) == pytest.approx(top * 20.0, rel=1e-4)


def test_decay_one_is_plain_adam():
    ours = make(decay=1.0, layers=6, L2=0.0)
    plain = Adam(0.01, L2=0.0, use_averages=False)
    for name in ("embeddings.w", "encoder.layer.3.w", "W"):
        assert first_step(ours, name) == pytest.approx(first_step(plain, name))


class Tiny(torch.nn.Module):
    """Parameter names as a BERT-like encoder has them."""

    def __init__(self) -> None:
        super().__init__()
        self.embeddings = torch.nn.Linear(4, 4)
        self.encoder = torch.nn.Module()
        self.encoder.layer = torch.nn.ModuleList([torch.nn.Linear(4, 4) for _ in range(2)])

    def forward(self, x):
        x = self.embeddings(x)
        for layer in self.encoder.layer:
            x = layer(x)
        return x


def test_reaches_the_weights_of_a_wrapped_torch_model():
    """The PyTorch shim passes torch's parameter names: the decay must see them."""
    torch.manual_seed(0)
    module = Tiny()
    before = {n: p.detach().clone() for n, p in module.named_parameters()}
    model = PyTorchWrapper(module)
    X = model.ops.asarray2f(numpy.random.default_rng(0).normal(size=(8, 4)).astype("f"))
    Y, backprop = model.begin_update(X)
    backprop(model.ops.asarray2f(numpy.ones_like(Y)))
    model.finish_update(make(decay=0.1, layers=2, L2=0.0))
    moved = {
        n: float((p.detach() - before[n]).abs().mean()) for n, p in module.named_parameters()
    }
    # Adam's first step is about the rate itself for every weight with a gradient
    assert moved["encoder.layer.1.weight"] == pytest.approx(0.01 * 0.1, rel=0.05)
    assert moved["encoder.layer.0.weight"] == pytest.approx(0.01 * 0.01, rel=0.05)
    assert moved["embeddings.weight"] == pytest.approx(0.01 * 0.001, rel=0.05)


def test_the_readme_override_of_the_shipped_config_builds_it(repo_root):
    """`--training.optimizer.@optimizers kgx.AdamLayerDecay.v1` plus its two settings."""
    from spacy.util import load_config

    config = load_config(
        repo_root / "configs" / "kgx_trf.cfg",
        overrides={
            "training.optimizer.@optimizers": "kgx.AdamLayerDecay.v1",
            "training.optimizer.layer_decay": 0.9,
            "training.optimizer.num_layers": 12,
        },
        interpolate=True,
    )
    optimizer = registry.resolve({"o": config["training"]["optimizer"]})["o"]
    assert isinstance(optimizer, LayerDecayOptimizer)
    assert optimizer.layer_scale("encoder.layer.11.output.dense.weight") == pytest.approx(0.9)
    assert optimizer.L2 == pytest.approx(0.01) and optimizer.grad_clip == pytest.approx(1.0)
