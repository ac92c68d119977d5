"""CPU precisions for inference (kgx/pipeline/precision.py): int8 packed for the engine that
runs it fastest here, torch's setting left as the caller had it, and the span recogniser's
pooled products in int8 or bfloat16 close to float32 (issue 16)."""

from __future__ import annotations

import numpy
import pytest

from kgx.pipeline import precision
from kgx.pipeline.precision import int8_engine, linear_product, packing_int8

torch = pytest.importorskip("torch")


def test_packing_int8_sets_its_engine_and_puts_the_callers_back(monkeypatch):
    before = torch.backends.quantized.engine
    with packing_int8():
        assert torch.backends.quantized.engine == int8_engine()
    assert torch.backends.quantized.engine == before
    with pytest.raises(RuntimeError, match="inside"), packing_int8():
        raise RuntimeError("inside")
    assert torch.backends.quantized.engine == before
    with packing_int8(), packing_int8():  # nested in one thread: no deadlock
        assert torch.backends.quantized.engine == int8_engine()
    assert torch.backends.quantized.engine == before


@pytest.mark.parametrize("amx", [True, False])
def test_int8_engine_is_onednn_where_the_cpu_has_amx(monkeypatch, amx):
    if "onednn" not in torch.backends.quantized.supported_engines:
        pytest.skip("this torch has no oneDNN quantized engine")
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    assert int8_engine() == ("onednn" if amx else torch.backends.quantized.engine)


@pytest.mark.parametrize("kind", ["int8", "bf16"])
def test_linear_product_is_close_to_float32_and_not_the_same(kind):
    if kind == "bf16" and not precision.bf16_native():
        pytest.skip("this CPU has no bfloat16 arithmetic (torch would emulate it)")
    if kind == "int8" and not precision.int8_supported():
        pytest.skip("torch has no quantized engine on this CPU")
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(96, 448, generator=gen) * 0.05
    x = torch.randn(300, 448, generator=gen)
    exact = x @ W.T
    numpy.testing.assert_array_equal(linear_product(W, None)(x).numpy(), exact.numpy())
    got = linear_product(W, kind)(x)
    assert got.dtype == torch.float32 and got.shape == exact.shape
    rel = float((got - exact).norm() / exact.norm())
    assert 0 < rel < 0.03, rel


def test_linear_product_refuses_an_unknown_precision():
    with pytest.raises(ValueError, match="'int8' or 'bf16'"):
        linear_product(torch.zeros(2, 2), "fp8")


def test_the_recogniser_runs_its_products_in_the_configured_precision():
    """``quantize`` of ``kgx.SpanCategorizer.v1`` (what ``kgx quantize`` sets): int8 products
    give probabilities close to float32's, not the same ones; training stays float32."""
    from test_span_pool import _recogniser

    if not precision.int8_supported():
        pytest.skip("torch has no quantized engine on this CPU")
    pipe, docs = _recogniser({"@layers": "Softmax.v2"})
    model = pipe.model
    spans = pipe.suggester(docs, ops=model.ops)
    fp32 = model.predict((docs, spans))
    from kgx.pipeline.span_pool import build_span_categorizer

    int8 = build_span_categorizer(model.get_ref("tok2vec"), model.get_ref("scorer"),
                                  hidden_size=16, quantize="int8")
    int8.layers[1:] = model.layers[1:]  # the trained reducer and scorer
    got = int8.predict((docs, spans))
    assert got.shape == fp32.shape
    assert not numpy.array_equal(got, fp32)
    numpy.testing.assert_allclose(got, fp32, atol=0.05)
    # the training pass ignores it: float32, as the weights were trained
    numpy.testing.assert_allclose(int8((docs, spans), is_train=True)[0],
                                  model((docs, spans), is_train=True)[0], atol=1e-5)
    with pytest.raises(ValueError, match="quantize must be null"):
        build_span_categorizer(model.get_ref("tok2vec"), model.get_ref("scorer"),
                               quantize="int4")


def test_packing_in_threads_leaves_the_callers_engine():
    """Each packing saves and restores the process-wide engine: in threads, one at a time."""
    import threading

    before = torch.backends.quantized.engine
    gen = torch.Generator().manual_seed(1)
    W = torch.randn(64, 128, generator=gen)
    barrier = threading.Barrier(4)

    def pack():
        barrier.wait()
        for _ in range(20):
            linear_product(W, "int8")

    threads = [threading.Thread(target=pack) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert torch.backends.quantized.engine == before


def test_a_quantized_recogniser_keeps_its_packed_weights_and_still_pickles():
    """The packed products are made once, kept while the weights are the same numbers, made
    again when they change (training, a load), and left out of pickles and copies."""
    import copy
    import pickle

    from test_span_pool import _recogniser

    from kgx.pipeline import span_infer
    from kgx.pipeline.span_pool import build_span_categorizer

    if not precision.int8_supported():
        pytest.skip("torch has no quantized engine on this CPU")
    pipe, docs = _recogniser({"@layers": "Softmax.v2"})
    model = pipe.model
    spans = pipe.suggester(docs, ops=model.ops)
    int8 = build_span_categorizer(model.get_ref("tok2vec"), model.get_ref("scorer"),
                                  hidden_size=16, quantize="int8")
    int8.layers[1:] = model.layers[1:]
    made = []
    real = span_infer.linear_product

    def counting(W, kind):
        made.append(kind)
        return real(W, kind)

    span_infer.linear_product = counting
    try:
        first = int8.predict((docs, spans))
        int8.predict((docs, spans))
        # the per-token products (last, first, mean) and the max part's, once
        assert made == ["int8"] * 4
        maxout = int8.layers[1].layers[0]
        W = maxout.get_param("W")
        W *= 1.5  # in place, as an optimizer may
        changed = int8.predict((docs, spans))
        assert len(made) == 8 and not numpy.allclose(changed, first)
    finally:
        span_infer.linear_product = real
    for clone in (pickle.loads(pickle.dumps(int8)), copy.deepcopy(int8)):
        numpy.testing.assert_array_equal(clone.predict((docs, spans)), changed)


def test_kgx_int8_engine_chooses_the_engine_and_an_unknown_one_is_named(monkeypatch):
    engines = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    if not engines:
        pytest.skip("torch has no quantized engine on this CPU")
    monkeypatch.setenv("KGX_INT8_ENGINE", engines[-1])
    assert int8_engine() == engines[-1]
    monkeypatch.setenv("KGX_INT8_ENGINE", "tpu")
    with pytest.raises(ValueError, match="KGX_INT8_ENGINE='tpu'"):
        int8_engine()
