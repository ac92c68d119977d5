"""The ``kgx`` command as a user meets it first: ``--version`` and the rendered ``--help``."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import srsly

import kgx

ROOT = Path(__file__).resolve().parent.parent


def test_version_is_one_string():
    # `kgx --version`, the installed distribution, kgx.__version__ and the version of the
    # pipelines that `spacy project run` packages (project.yml) are one string
    out = subprocess.run([sys.executable, "-m", "kgx", "--version"], capture_output=True,
                         text=True, check=True).stdout.strip()
    project = srsly.read_yaml(ROOT / "project.yml")
    assert out == f"kgx {kgx.__version__}"
    assert version("kgx") == kgx.__version__
    assert project["vars"]["package_version"] == kgx.__version__

