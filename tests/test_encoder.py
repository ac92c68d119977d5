"""kgx.TransformerModel.v2 (kgx/pipeline/encoder.py): length-sorted inference buckets give the
vectors v1 gives, frozen layers keep their weights, int8 pipelines load and refuse training, and
a saved encoder loads (encoder_state.py) as spacy-transformers' loader would load it."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import numpy
import pytest
import spacy
import srsly
from spacy.util import fix_random_seed, load_config, load_model_from_config
from thinc.api import Adam
from typer.testing import CliRunner

from helpers import TRAIN, make_example
from kgx.cli import app
from kgx.pipeline.encoder import (
    build_transformer_model_v2,
    full_range_int8,
    full_range_linear,
    length_buckets,
)
from kgx.relations import raw_relations

# the settings kgx.TransformerModel.v2 adds to v1
V2_ONLY = ("frozen_layers", "quantize", "max_batch_items", "runtime", "frozen_embeddings")

# sentences of very different lengths in one document: the case the buckets are for
MIXED = ("Maria Lopez works for Acme in Paris . Why ? " + "John Smith , who had lived in "
         "Berlin for many years before he moved on to other cities across the continent and "
         "then back again , lives in Berlin . Ana Diaz joined Nordwind , a firm based in Oslo .")


@pytest.mark.parametrize("lengths,limit", [
    ([5, 3, 9, 1, 7, 2], 10), ([4] * 10, 8), ([100, 3, 3], 50), ([], 16), ([0, 0, 2], 4),
])
def test_length_buckets_cover_every_span_once_within_the_limit(lengths, limit):
    buckets = length_buckets(lengths, limit)
    assert sorted(i for b in buckets for i in b) == list(range(len(lengths)))
    flat = [lengths[i] for b in buckets for i in b]
    assert flat == sorted(flat)  # shortest first
    for b in buckets:
        longest = max(max(lengths[i] for i in b), 1)
        assert len(b) * longest <= limit or len(b) == 1


def test_v2_rejects_bad_settings(minilm_path):
    from kgx.encoders import make_sentence_spans

    spans = make_sentence_spans()
    with pytest.raises(ValueError, match="quantize must be null, 'int8' or 'bf16'"):
        build_transformer_model_v2("all-MiniLM-L6-v2", spans, quantize="int4")
    with pytest.raises(ValueError, match="'bf16' is for the torch runtime"):
        build_transformer_model_v2("all-MiniLM-L6-v2", spans, quantize="bf16",
                                   runtime="onnxruntime")
    with pytest.raises(ValueError, match="frozen_layers must be >= 0"):
        build_transformer_model_v2("all-MiniLM-L6-v2", spans, frozen_layers=-1)
    with pytest.raises(ValueError, match="max_batch_items must be >= 1"):
        build_transformer_model_v2("all-MiniLM-L6-v2", spans, max_batch_items=0)
    with pytest.raises(ValueError, match="runtime must be one of torch, onnxruntime"):
        build_transformer_model_v2("all-MiniLM-L6-v2", spans, runtime="tensorflow")


def test_onnxruntime_without_its_packages_is_a_clear_error(minilm_path, monkeypatch):
    from kgx.encoders import make_sentence_spans
    from kgx.pipeline import onnx_encoder

    monkeypatch.setattr(onnx_encoder, "onnxruntime_available", lambda: False)
    with pytest.raises(RuntimeError, match=r"onnxruntime and onnx .*kgx\[onnx\]"):
        build_transformer_model_v2("all-MiniLM-L6-v2", make_sentence_spans(),
                                   runtime="onnxruntime")


def _build(repo_root, **model):
    config = load_config(repo_root / "configs" / "kgx_trf.cfg", interpolate=True)
    config["components"]["transformer"]["model"].update(model)
    return load_model_from_config(config, auto_fill=True, validate=True)


@pytest.fixture(scope="module")
def trained(repo_root, minilm_path):
    """The shipped config (v2), briefly fine-tuned on TRAIN."""
    fix_random_seed(0)
    nlp = _build(repo_root)
    assert nlp.config["components"]["transformer"]["model"]["@architectures"] == \
        "kgx.TransformerModel.v2"
    examples = [make_example(nlp, *row) for row in TRAIN]
    nlp.initialize(lambda: examples)
    optimizer = Adam(2e-4, grad_clip=1.0)
    for _ in range(20):
        nlp.update(examples, sgd=optimizer, annotates=["sentencizer"])
    return nlp


def _with_arch(nlp, tmp_path, name, **model):
    """The same weights loaded under another encoder architecture/settings."""
    nlp.to_disk(tmp_path / name)
    config = nlp.config.copy()
    section = config["components"]["transformer"]["model"]
    if model.get("@architectures") == "kgx.TransformerModel.v1":
        for key in V2_ONLY:
            section.pop(key)
    section.update(model)
    return spacy.util.load_model_from_path(tmp_path / name, config=config)


def _real_vectors(doc):
    """Each real (not padding) word piece's output vector."""
    data = doc._.trf_data
    hidden = numpy.asarray(data.model_output.last_hidden_state)
    lengths = data.wordpieces.lengths
    return numpy.concatenate([hidden[i, :n] for i, n in enumerate(lengths)])


@pytest.mark.slow
def test_length_buckets_give_the_vectors_and_annotations_of_one_padded_batch(trained, tmp_path):
    v1 = _with_arch(trained, tmp_path, "v1", **{"@architectures": "kgx.TransformerModel.v1"})
    for key in V2_ONLY:
        assert key not in v1.config["components"]["transformer"]["model"]
    # a tiny budget: every sentence in a bucket of its own
    tiny = _with_arch(trained, tmp_path, "tiny", max_batch_items=8)
    texts = [MIXED, TRAIN[0][0], "", "Nothing here ."]
    for other in (v1, tiny):
        for a, b in zip(trained.pipe(texts), other.pipe(texts), strict=True):
            _assert_same_analysis(a, b)


def _assert_same_analysis(a, b) -> None:
    """The same entities and relations, and the same encoder vectors to 1e-4."""
    assert [(e.start_char, e.end_char, e.label_) for e in a.ents] == \
           [(e.start_char, e.end_char, e.label_) for e in b.ents]
    assert [(r["head"], r["tail"], r["label"]) for r in raw_relations(a)] == \
           [(r["head"], r["tail"], r["label"]) for r in raw_relations(b)]
    if len(a):
        numpy.testing.assert_allclose(_real_vectors(a), _real_vectors(b), atol=1e-4)


def _train_frozen(repo_root, frozen_layers: int, steps: int, frozen_embeddings: bool = False):
    """The shipped config with ``frozen_layers``, a few updates on TRAIN: the encoder's
    weights before and after, the relation head's before and after, and the losses."""
    fix_random_seed(0)
    nlp = _build(repo_root, frozen_layers=frozen_layers, frozen_embeddings=frozen_embeddings)
    examples = [make_example(nlp, *row) for row in TRAIN]
    nlp.initialize(lambda: examples)
    module = nlp.get_pipe("transformer").model.transformer
    before = {k: v.detach().clone() for k, v in module.state_dict().items()}
    head = nlp.get_pipe("kgx_relation_extractor").model

    def head_params():
        return [n.get_param(name).copy() for n in head.walk() for name in n.param_names
                if n.has_param(name)]

    head_before = head_params()
    losses: list[dict] = []
    optimizer = Adam(1e-3)
    for _ in range(steps):
        step: dict[str, float] = {}
        nlp.update(examples, sgd=optimizer, losses=step, annotates=["sentencizer"])
        losses.append(step)
    return before, module.state_dict(), head_before, head_params(), losses


@pytest.mark.slow
def test_frozen_layers_keep_their_weights_and_the_rest_learns(repo_root, minilm_path):
    import torch

    before, after, _, _, _ = _train_frozen(repo_root, 4, steps=2)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert not any(k.startswith("embeddings.") for k in changed)
    for layer in range(4):
        assert not any(k.startswith(f"encoder.layer.{layer}.") for k in changed), layer
    assert any(k.startswith("encoder.layer.5.") for k in changed)


@pytest.mark.slow
def test_frozen_embeddings_keep_their_weights_and_every_layer_learns(repo_root, minilm_path):
    import torch

    before, after, _, _, _ = _train_frozen(repo_root, 0, steps=2, frozen_embeddings=True)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert not any(k.startswith("embeddings.") for k in changed)
    for layer in range(6):
        assert any(k.startswith(f"encoder.layer.{layer}.") for k in changed), layer


@pytest.mark.slow
@pytest.mark.parametrize("native", [True, False])
def test_mixed_precision_on_a_cpu_trains_under_bfloat16_autocast(repo_root, minilm_path,
                                                                 monkeypatch, caplog, native):
    """mixed_precision = true on a CPU: the encoder's training pass runs under bf16 autocast
    (not thinc's CUDA float16, which would do nothing here), hands float32 to the heads, and
    the encoder learns; a CPU without bf16 arithmetic, where emulated bf16 would be slower,
    trains in float32 and is told so."""
    import torch

    from kgx.pipeline import encoder

    monkeypatch.setattr(encoder, "bf16_native", lambda: native)
    fix_random_seed(0)
    nlp = _build(repo_root, mixed_precision=True)
    assert _shim(nlp)._mixed_precision is False
    examples = [make_example(nlp, *row) for row in TRAIN]
    nlp.initialize(lambda: examples)
    module = nlp.get_pipe("transformer").model.transformer
    before = {k: v.detach().clone() for k, v in module.state_dict().items()}
    optimizer = Adam(1e-3)
    seen: list = []
    with caplog.at_level(logging.WARNING, logger="kgx"):
        for step in range(2):
            if step == 1:  # after kgx's own hook, which the first training pass registers
                module.register_forward_hook(lambda m, a, out: seen.append(
                    (torch.is_autocast_enabled("cpu"),
                     {v.dtype for v in out.values() if isinstance(v, torch.Tensor)})))
            losses: dict[str, float] = {}
            nlp.update(examples, sgd=optimizer, losses=losses, annotates=["sentencizer"])
            assert all(numpy.isfinite(v) for v in losses.values()), losses
    assert seen and all(autocast is native for autocast, _ in seen)
    assert all(dtypes == {torch.float32} for _, dtypes in seen), seen
    assert any(not torch.equal(before[k], v) for k, v in module.state_dict().items())
    assert ("training in float32" in caplog.text) is not native
    doc = nlp(TRAIN[0][0])  # inference stays float32 (no autocast)
    assert doc._.trf_data.model_output.last_hidden_state.dtype == numpy.float32


@pytest.mark.slow
def test_a_fully_frozen_encoder_trains_the_heads_only(repo_root, minilm_path):
    """frozen_layers at the encoder's depth: no weight of the encoder moves, the heads learn
    (and there is no backward pass through the encoder to fail for want of gradients)."""
    import torch

    before, after, head_before, head_after, losses = _train_frozen(repo_root, 6, steps=3)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert any(not numpy.array_equal(a, b)
               for a, b in zip(head_before, head_after, strict=True))
    assert losses[-1]["ner"] < losses[0]["ner"]


def _shim(nlp):
    return nlp.get_pipe("transformer").model.layers[0].shims[0]


def _hf(nlp):
    return _shim(nlp)._hfmodel


def _torch_equal(x, y) -> bool:
    import torch

    return bool(torch.equal(x, y))


def _assert_same_encoder(a, b, config: bool = True) -> None:
    """The same weights and buffers bit for bit, tokenizer and vocab file (and config)."""
    sa, sb = a.transformer.state_dict(), b.transformer.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert sa[key].dtype == sb[key].dtype and _torch_equal(sa[key], sb[key]), key
    buffers_a, buffers_b = dict(a.transformer.named_buffers()), dict(b.transformer.named_buffers())
    assert list(buffers_a) == list(buffers_b)
    for key, value in buffers_a.items():
        assert _torch_equal(value, buffers_b[key]), key
    assert not any(p.is_meta for p in a.transformer.parameters())
    assert [p.requires_grad for p in a.transformer.parameters()] == \
           [p.requires_grad for p in b.transformer.parameters()]
    assert a.transformer.training == b.transformer.training
    if config:
        # (_name_or_path: the folder each loader read the config from)
        config_a, config_b = a.transformer.config.to_dict(), b.transformer.config.to_dict()
        config_a.pop("_name_or_path"), config_b.pop("_name_or_path")
        assert config_a == config_b
    assert a.tokenizer.get_vocab() == b.tokenizer.get_vocab()
    assert a.vocab_file_contents == b.vocab_file_contents


@pytest.mark.slow
def test_a_saved_encoder_loads_as_spacy_transformers_loads_it_without_its_loader(
        trained, tmp_path, monkeypatch):
    """kgx.TransformerModel.v2 loads its weights itself (encoder_state.py), with no random
    encoder and fewer copies: the result must be what spacy-transformers' loader gives."""
    from spacy_transformers.layers.hf_shim import HFShim

    v1 = _with_arch(trained, tmp_path, "v1", **{"@architectures": "kgx.TransformerModel.v1"})

    def refuse(self, data):
        raise AssertionError("HFShim.from_bytes was called")

    monkeypatch.setattr(HFShim, "from_bytes", refuse)
    lean = spacy.load(tmp_path / "v1", config=trained.config)
    # the config as trained: spacy-transformers' loader writes it with srsly, whose 10
    # decimals make BERT's layer_norm_eps (1e-12) 0.0
    _assert_same_encoder(_hf(lean), _hf(v1), config=False)
    _assert_same_encoder(_hf(lean), _hf(trained))
    assert _hf(lean).transformer.config.layer_norm_eps == 1e-12
    assert {m.eps for m in _hf(lean).transformer.modules()
            if type(m).__name__ == "LayerNorm"} == {1e-12}
    for a, b in zip(trained.pipe([MIXED, TRAIN[0][0]]), lean.pipe([MIXED, TRAIN[0][0]]),
                    strict=True):
        _assert_same_analysis(a, b)
    # nlp.from_bytes takes the same path, and the bytes round-trip
    again = spacy.util.load_model_from_config(trained.config, auto_fill=False)
    again.from_bytes(lean.to_bytes())
    _assert_same_encoder(_hf(again), _hf(trained))


@pytest.mark.slow
def test_loading_in_threads_leaves_torch_as_it_was(trained):
    """The loader builds on the meta device by swapping torch.nn.Module.register_parameter for
    a moment: loads in several threads at once must each get real weights and leave torch's
    own method in place."""
    from concurrent.futures import ThreadPoolExecutor

    import torch

    before = torch.nn.Module.register_parameter
    data = trained.to_bytes()

    def load(_):
        nlp = spacy.util.load_model_from_config(trained.config, auto_fill=False)
        return nlp.from_bytes(data)

    with ThreadPoolExecutor(4) as pool:
        loaded = list(pool.map(load, range(4)))
    assert torch.nn.Module.register_parameter is before
    assert not torch.nn.Linear(2, 2).weight.is_meta
    for nlp in loaded:
        _assert_same_encoder(_hf(nlp), _hf(trained))


@pytest.mark.slow
def test_a_state_that_does_not_match_the_module_goes_through_spacy_transformers(
        trained, tmp_path):
    import torch

    from kgx.pipeline.encoder_state import load_shim

    trained.to_disk(tmp_path / "p")
    nlp = spacy.load(tmp_path / "p")
    shim = _shim(nlp)
    msg = srsly.msgpack_loads(shim.to_bytes())
    state = torch.load(io.BytesIO(msg["state"]))
    state["an.unexpected.weight"] = torch.zeros(2)  # e.g. saved by another transformers
    buffer = io.BytesIO()
    torch.save(state, buffer)
    msg["state"] = buffer.getvalue()
    with pytest.warns(UserWarning, match="strict=False"):
        load_shim(shim, msg)
    _assert_same_encoder(shim._hfmodel, _hf(trained), config=False)  # srsly's 10 decimals


@pytest.mark.slow
def test_kgx_quantize_writes_an_int8_pipeline_that_loads_and_refuses_training(trained,
                                                                               tmp_path, caplog):
    import torch

    import kgx.pipeline.encoder as encoder

    trained.to_disk(tmp_path / "fp32")
    runner = CliRunner()
    with caplog.at_level(logging.INFO, logger="kgx"):
        result = runner.invoke(app, ["quantize", str(tmp_path / "fp32"),
                                     str(tmp_path / "int8")])
    assert result.exit_code == 0, result.output
    assert "int8 inference for transformer" in result.output
    # where bf16 would serve better, the user is told
    assert ("--bf16 is faster here" in caplog.text) == encoder.bf16_native()
    engine = torch.backends.quantized.engine
    q = spacy.load(tmp_path / "int8")
    assert q.config["components"]["transformer"]["model"]["quantize"] == "int8"
    # the recogniser's pooled products too: most of the time outside the encoder
    assert q.config["components"]["ner"]["model"]["quantize"] == "int8"
    a, b = trained(MIXED), q(MIXED)
    # packed for oneDNN where the CPU has AMX, and torch's engine left as it was
    assert torch.backends.quantized.engine == engine
    x, y = _real_vectors(a), _real_vectors(b)
    cosine = (x * y).sum(1) / (numpy.linalg.norm(x, axis=1) * numpy.linalg.norm(y, axis=1))
    assert cosine.mean() > 0.9  # int8 is close to float32, and not the same
    assert not numpy.allclose(x, y, atol=1e-4)
    # the int8 encoder's linear layers really are quantized
    model = q.get_pipe("transformer").model
    kinds = {type(m).__module__ for m in model._kgx_state["int8"][1].modules()}
    assert any("quantized" in k for k in kinds)
    # beside the float32 module, which stays for to_disk, without a second copy of its
    # float32 tensors (the word-piece embeddings are half the weights)
    fp32, int8 = model._kgx_state["int8"]
    assert fp32.embeddings.word_embeddings.weight is int8.embeddings.word_embeddings.weight
    assert {p.data_ptr() for p in int8.parameters()} <= {p.data_ptr() for p in fp32.parameters()}
    assert len(list(int8.parameters())) < len(list(fp32.parameters()))
    # with 8-bit activations where the CPU adds int8 products in int32 (VNNI)
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    full = {type(m).__name__ == "FullRangeDynamicLinear"
            for m in model._kgx_state["int8"][1].modules() if isinstance(m, DynamicLinear)}
    assert full == {full_range_int8()}
    examples = [make_example(q, *row) for row in TRAIN]
    with pytest.raises(ValueError, match="inference only"):
        q.update(examples, sgd=Adam(1e-4))
    # the output exists now: refused without --overwrite, nothing lost
    again = runner.invoke(app, ["quantize", str(tmp_path / "fp32"), str(tmp_path / "int8")])
    assert again.exit_code == 1 and "exists and is not empty" in again.output
    assert (tmp_path / "int8" / "config.cfg").exists()


@pytest.mark.parametrize("native", [True, False])
def test_bf16_inference_is_close_to_float32_and_refuses_training(trained, tmp_path, caplog,
                                                                 monkeypatch, native):
    # kgx quantize --bf16 where the CPU multiplies bfloat16 in hardware; refused elsewhere,
    # where the config value still runs (torch emulates bf16) and says it is slower. Both
    # cases on any CPU: what the CPU has is what the check reports, made up here
    import kgx.pipeline.encoder as encoder

    monkeypatch.setattr(encoder, "bf16_native", lambda: native)
    trained.to_disk(tmp_path / "fp32")
    result = CliRunner().invoke(app, ["quantize", str(tmp_path / "fp32"),
                                      str(tmp_path / "bf16"), "--bf16"])
    if native:
        assert result.exit_code == 0, result.output
        assert "bf16 inference for transformer" in result.output
        q = spacy.load(tmp_path / "bf16")
        assert q.config["components"]["ner"]["model"]["quantize"] == "bf16"
    else:
        assert result.exit_code == 1 and "no bfloat16 arithmetic" in result.output
        q = spacy.load(tmp_path / "fp32",
                       config={"components.transformer.model.quantize": "bf16"})
    assert q.config["components"]["transformer"]["model"]["quantize"] == "bf16"
    with caplog.at_level(logging.WARNING, logger="kgx"):
        b = q(MIXED)
    assert ("torch emulates it" in caplog.text) is not native
    x, y = _real_vectors(trained(MIXED)), _real_vectors(b)
    assert y.dtype == numpy.float32
    cosine = (x * y).sum(1) / (numpy.linalg.norm(x, axis=1) * numpy.linalg.norm(y, axis=1))
    assert cosine.min() > 0.98  # bf16 keeps float32's range: close, and not the same
    assert not numpy.allclose(x, y, atol=1e-4)
    with pytest.raises(ValueError, match="inference only"):
        q.update([make_example(q, *row) for row in TRAIN], sgd=Adam(1e-4))
    both = CliRunner().invoke(app, ["quantize", str(tmp_path / "fp32"), str(tmp_path / "x"),
                                    "--bf16", "--float32"])
    assert both.exit_code == 1 and "exclude each other" in both.output


@pytest.mark.slow
def test_onnxruntime_float32_gives_the_torch_vectors_and_annotations(trained, tmp_path, caplog):
    ort = _with_arch(trained, tmp_path, "ort", runtime="onnxruntime")
    module = ort.get_pipe("transformer").model.transformer
    mode, path = module.training, list(sys.path)
    texts = [MIXED, TRAIN[0][0], "", "Nothing here ."]
    with caplog.at_level(logging.INFO):
        docs = list(ort.pipe(texts))  # exported, fused and loaded on the first batch
    # ONNX Runtime's tools log to the root logger and to loggers named after their modules,
    # and append to sys.path: they run in a child process, and none of it reaches the caller
    assert not [r for r in caplog.records if "onnxruntime" in r.pathname], caplog.text
    assert "encoder on ONNX Runtime (float32" in caplog.text
    assert sys.path == path
    for a, b in zip(trained.pipe(texts), docs, strict=True):
        _assert_same_analysis(a, b)
        if len(a):
            assert set(a._.trf_data.model_output) == set(b._.trf_data.model_output)
    # the export left the torch module as it found it (an exporter that restores its own
    # wrapper's mode would switch dropout on for the torch path)
    assert module.training == mode
    assert type(ort.get_pipe("transformer").model._kgx_state["onnx"]).__name__ == "OnnxEncoder"


@pytest.mark.slow
def test_kgx_quantize_onnxruntime_int8_loads_and_refuses_training(trained, tmp_path, caplog):
    trained.to_disk(tmp_path / "fp32")
    runner = CliRunner()
    root_filters = list(logging.getLogger().filters)
    with caplog.at_level(logging.INFO):
        result = runner.invoke(app, ["quantize", str(tmp_path / "fp32"), str(tmp_path / "q"),
                                     "--runtime", "onnxruntime"])
    assert result.exit_code == 0, result.output
    # ONNX Runtime's quantizer advice (to the root logger) stays in the converting child
    # process, out of the user's log
    assert not [r for r in caplog.records if "onnxruntime" in r.pathname], caplog.text
    assert logging.getLogger().filters == root_filters
    assert "int8 ONNX Runtime inference for transformer" in result.output
    q = spacy.load(tmp_path / "q")
    section = q.config["components"]["transformer"]["model"]
    assert (section["runtime"], section["quantize"]) == ("onnxruntime", "int8")
    x, y = _real_vectors(trained(MIXED)), _real_vectors(q(MIXED))
    cosine = (x * y).sum(1) / (numpy.linalg.norm(x, axis=1) * numpy.linalg.norm(y, axis=1))
    assert cosine.mean() > 0.9  # int8 is close to float32, and not the same
    assert not numpy.allclose(x, y, atol=1e-4)
    examples = [make_example(q, *row) for row in TRAIN]
    with pytest.raises(ValueError, match="inference only"):
        q.update(examples, sgd=Adam(1e-4))
    # float32 on torch would change nothing: refused, and nothing written
    same = runner.invoke(app, ["quantize", str(tmp_path / "fp32"), str(tmp_path / "f"),
                               "--float32"])
    assert same.exit_code == 1 and "nothing to change" in same.output
    assert not (tmp_path / "f").exists()


def test_kgx_quantize_refuses_a_pipeline_without_a_transformer(tmp_path):
    spacy.blank("en").to_disk(tmp_path / "blank")
    result = CliRunner().invoke(app, ["quantize", str(tmp_path / "blank"), str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "no transformer component to quantize" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.filterwarnings(r"ignore:torch\.quantize_per_tensor")  # torch 2.13's, as kgx does
def test_full_range_int8_activations_are_closer_to_float32_than_seven_bits():
    """What ``full_range_int8`` buys: the same weights, 8-bit activations, a smaller error
    (skipped where the CPU would saturate them: no VNNI)."""
    import torch

    if not full_range_int8():
        pytest.skip("this CPU has no VNNI: int8 activations stay at 7 bits (reduce_range)")
    torch.manual_seed(0)
    layer = torch.nn.Sequential(torch.nn.Linear(384, 384))
    spec = {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}
    seven = torch.ao.quantization.quantize_dynamic(layer, spec, dtype=torch.qint8)
    eight = torch.ao.quantization.quantize_dynamic(
        layer, spec, dtype=torch.qint8, mapping={torch.nn.Linear: full_range_linear()})
    x = torch.randn(64, 384) * torch.linspace(0.1, 4, 384)
    with torch.no_grad():
        exact = layer(x)
        err7 = (seven(x) - exact).abs().mean().item()
        err8 = (eight(x) - exact).abs().mean().item()
    assert type(eight[0]).__name__ == "FullRangeDynamicLinear"
    assert err8 < 0.75 * err7, (err8, err7)


@pytest.mark.parametrize("config", ["kgx_trf.cfg", "kgx_trf_fast.cfg", "kgx_demo.cfg"])
def test_the_benchmarks_load_a_shipped_configs_encoder_as_v1(config):
    """benchmarks/_variants.py loads a trained pipeline under ``kgx.TransformerModel.v1`` (the
    "before" rows of BENCHMARKS.md): every setting only v2 takes is dropped, whichever the
    shipped configs set (it once missed ``frozen_embeddings`` and bench_speed.py failed)."""
    from helpers import load_benchmark

    variants = load_benchmark("_variants")
    assert set(V2_ONLY) <= variants.v2_only()
    path = Path(__file__).resolve().parent.parent / "configs" / config
    section = spacy.util.load_config(path)["components"]["transformer"]["model"]
    v1 = variants.encoder_section(section, {"@architectures": "kgx.TransformerModel.v1"})
    # validates the arguments against v1's signature without building the encoder
    spacy.util.registry.fill({"model": v1}, validate=True)
    with pytest.raises(Exception, match="unexpected argument"):
        spacy.util.registry.fill({"model": {**v1, "frozen_embeddings": False}}, validate=True)
