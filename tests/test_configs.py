"""configs/kgx_trf_fast.cfg: configs/kgx_trf.cfg with cheaper training settings and nothing else.

The two files are kept by hand; these tests catch an edit made to one and not the other.
"""

from __future__ import annotations

import pytest
from spacy.util import dict_to_dot, load_config, load_model_from_config

# (full config's value, fast config's value) of every setting in which the two differ
FAST_DIFFERS_IN = {
    "components.transformer.model.mixed_precision": (False, True),
    "components.transformer.model.frozen_embeddings": (False, True),
    "training.max_steps": (1000, 700),
    "training.eval_frequency": (200, 350),
}


def test_the_fast_config_differs_from_the_full_one_in_its_training_settings_only(repo_root):
    full = dict_to_dot(load_config(repo_root / "configs" / "kgx_trf.cfg", interpolate=False))
    fast = dict_to_dot(load_config(repo_root / "configs" / "kgx_trf_fast.cfg",
                                   interpolate=False))
    differ = {key: (full.get(key), fast.get(key)) for key in full.keys() | fast.keys()
              if full.get(key) != fast.get(key)}
    assert differ == FAST_DIFFERS_IN


def test_the_fast_config_builds_an_encoder_that_trains_cheaper(repo_root, minilm_path):
    """The settings reach the encoder: embeddings frozen, training forward in bfloat16 on a
    CPU (the pipeline itself is the full config's: tests/test_documents.py)."""
    config = load_config(repo_root / "configs" / "kgx_trf_fast.cfg", interpolate=True)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    settings = nlp.get_pipe("transformer").model._kgx_cfg
    assert settings["frozen_embeddings"] is True and settings["train_bf16"] is True
    assert settings["frozen_layers"] == 0 and settings["quantize"] is None
    assert nlp.config["training"]["max_steps"] == 700


@pytest.mark.slow  # a fresh interpreter imports spaCy
def test_the_workflows_train_the_fast_config_when_told_to(repo_root, tmp_path):
    """The README's `spacy project run conll04 --vars.trf_config configs/kgx_trf_fast.cfg`:
    the training step then trains that file (a dry run prints the commands it would run)."""
    import shutil
    import subprocess
    import sys

    shutil.copy(repo_root / "project.yml", tmp_path / "project.yml")
    out = subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", "conll04-train", str(tmp_path),
         "--vars.trf_config", "configs/kgx_trf_fast.cfg", "--dry", "--force"],
        capture_output=True, text=True, check=True)
    assert "-m spacy train configs/kgx_trf_fast.cfg --output training/conll04 " in out.stdout
