"""kgx's spaCy/thinc registrations: every entry point loads, every name the shipped configs use
resolves, and the experimental names that no config uses still do what their notes say."""

from __future__ import annotations

import re
from importlib.metadata import distribution

import pytest
import spacy_transformers  # noqa: F401  (creates spaCy's span_getters registry)
from spacy.language import Language
from spacy.util import registry

import kgx.pipeline  # noqa: F401  (registrations made at import)

ENTRY_POINTS = [ep for ep in distribution("kgx").entry_points
                if ep.group.startswith(("spacy_", "thinc_"))]


@pytest.mark.parametrize("ep", ENTRY_POINTS, ids=lambda ep: f"{ep.group}:{ep.name}")
def test_every_entry_point_loads(ep):
    assert callable(ep.load())


def test_every_registered_name_in_the_configs_resolves(repo_root):
    names = set()
    for cfg in sorted((repo_root / "configs").glob("*.cfg")):
        text = cfg.read_text(encoding="utf-8")
        names |= {(reg, name) for reg, name in re.findall(r'^@(\w+) = "(kgx[^"]+)"', text, re.M)}
        for factory in re.findall(r'^factory = "(kgx_\w+)"', text, re.M):
            assert Language.has_factory(factory), f"{cfg.name}: factory {factory}"
    assert names, "the configs name kgx functions"
    for reg, name in sorted(names):
        assert callable(registry.get(reg, name)), f"@{reg} {name}"


def test_encoder_path_resolves_the_offline_encoder(minilm_path):
    """kgx.encoder_path.v1 (docs/design-notes.md): the packaged MiniLM for its names, any other
    name or path unchanged."""
    make = registry.get("misc", "kgx.encoder_path.v1")
    assert make() == make(name="all-MiniLM-L6-v2") == str(minilm_path)
    assert make(name="roberta-base") == "roberta-base"
