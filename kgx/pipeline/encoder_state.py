"""Loading a saved encoder without holding its weights several times over.

spacy-transformers' ``HFShim.from_bytes`` unpacks the shim's bytes a second time (thinc has
unpacked them once), builds the encoder with random weights, then copies the saved state into
it. At the peak a process holds the component file, both unpacked copies, the loaded state and
the random weights: about five times the weights, for a moment. With all-MiniLM-L6-v2 (87 MB)
that load was the peak of a whole ``kgx extract`` run (903 MB, of 566 MB once loaded;
BENCHMARKS.md, "Where the memory goes").

Here each copy is dropped as soon as the next one exists, and the encoder is built with its
parameters on torch's meta device (transformers' ``init_empty_weights``, the way its own
``from_pretrained`` loads) and given the loaded tensors as they are (``assign=True``). The
tokenizer and the module's state come out the same as spacy-transformers' path, the config as
it was saved (that path loses floats under 1e-10); whatever this path cannot load exactly
(missing or unexpected keys) goes through that path.
"""

from __future__ import annotations

import json
import logging
import threading
from io import BytesIO
from pathlib import Path
from typing import Any

import srsly

log = logging.getLogger("kgx")

# init_empty_weights swaps torch.nn.Module.register_parameter for the length of a build, for
# every thread: another kgx load at that moment would put its loaded weights on the meta
# device, or restore the swap it saw and leave it in place (transformers' from_pretrained
# does the same swap; code outside kgx that builds torch modules meanwhile is not covered)
_BUILD_LOCK = threading.Lock()


def load_model_bytes(model: Any, bytes_data: bytes) -> Any:
    """``thinc.Model.from_bytes`` for a model whose nodes hold spacy-transformers' HFShim:
    thinc's ``from_dict`` for everything but the shims, :func:`load_shim` for them."""
    from spacy_transformers.layers.hf_shim import HFShim
    from thinc.util import convert_recursive, is_xp_array

    msg = srsly.msgpack_loads(bytes_data)
    msg = convert_recursive(is_xp_array, model.ops.asarray, msg)
    nodes = list(model.walk())
    pending: list[tuple[Any, bytes]] = []
    if len(msg.get("nodes", ())) == len(nodes):  # otherwise from_dict raises thinc's error
        for i, node in enumerate(nodes):
            if node.shims and all(isinstance(s, HFShim) for s in node.shims):
                pending.extend(zip(node.shims, msg["shims"][i], strict=True))
                msg["shims"][i] = []
    model.from_dict(msg)
    del msg
    while pending:
        shim, data = pending.pop()
        unpacked = srsly.msgpack_loads(data)
        del data  # the last reference: a call's argument would keep it until the call returns
        load_shim(shim, unpacked)
    return model


def load_shim(shim: Any, msg: dict) -> None:
    """``HFShim.from_bytes`` of the unpacked ``msg`` without the random encoder and the extra
    copies (module doc); the state's bytes are popped from ``msg`` to be freed once read."""
    import torch
    from spacy.util import SimpleFrozenDict, make_tempdir
    from spacy_transformers.data_classes import HFObjects
    from spacy_transformers.util import get_torch_default_device
    from transformers.integrations.accelerate import init_empty_weights

    if not msg["config"]:  # an encoder never initialised: no weights to save memory on
        shim.from_bytes(srsly.msgpack_dumps(msg))
        return
    tok_dict = dict(msg["tokenizer"])
    with make_tempdir() as temp_dir:
        # Python's json, not srsly's: srsly writes floats to 10 decimals, which turned BERT's
        # layer_norm_eps of 1e-12 into 0.0 in every pipeline spacy-transformers loaded
        (temp_dir / "config.json").write_text(json.dumps(msg["config"]), encoding="utf-8")
        config = shim.config_cls.from_pretrained(temp_dir / "config.json")
        tok_kwargs = tok_dict.pop("kwargs", {})
        for name, content in tok_dict.items():
            Path(temp_dir / name).write_bytes(content)
        tokenizer = shim.tokenizer_cls.from_pretrained(str(temp_dir.absolute()), **tok_kwargs)
        vocab = None
        if hasattr(tokenizer, "vocab_file"):
            vocab_name = tokenizer.vocab_files_names["vocab_file"]
            vocab = (temp_dir / vocab_name).read_bytes()
    device = get_torch_default_device()
    # BytesIO holds the only reference to the state's bytes once popped: freed after the load
    state = torch.load(BytesIO(msg.pop("state")), map_location=device)
    try:
        with _BUILD_LOCK:  # assigning registers parameters too: not while another thread builds
            with init_empty_weights():
                transformer = shim.model_cls.from_config(config)
            transformer.load_state_dict(state, assign=True)
            if hasattr(transformer, "tie_weights"):
                transformer.tie_weights()
    except RuntimeError:
        # keys that do not match (another transformers version): spacy-transformers' own
        # path, which warns and loads what matches into a randomly initialised encoder
        buffer = BytesIO()
        torch.save(state, buffer)
        del state
        msg["state"] = buffer.getvalue()
        shim.from_bytes(srsly.msgpack_dumps(msg))
        return
    del state, msg
    on_meta = [name for name, p in transformer.named_parameters() if p.is_meta]
    if on_meta:
        raise RuntimeError(f"kgx: the saved encoder has no weights for {', '.join(on_meta)}")
    transformer.to(device)
    shim._hfmodel = HFObjects(tokenizer, transformer, vocab, SimpleFrozenDict(),
                              SimpleFrozenDict())
    shim._model = transformer
