"""The ``kgx`` command as a user meets it first: ``--version`` and the rendered ``--help``."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import srsly
from typer.testing import CliRunner

import kgx
from kgx.cli import app

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


def _help(*command: str) -> str:
    res = CliRunner().invoke(app, [*command, "--help"], terminal_width=200,
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    return res.output


COMMANDS = ["convert", "tune-thresholds", "evaluate", "show", "extract", "graph", "related",
            "export", "load", "push", "query", "view"]


def test_every_command_is_listed_and_helped():
    listed = _help()
    for command in COMMANDS:
        assert re.search(rf"│ {re.escape(command)}\s", listed), command


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
def test_help_reads_like_a_well_kept_cli(command):
    text = _help(*command)
    # no Python types (<bool>, <str>, <list[str]>, <path>) and no {argument} in the usage line
    assert not re.search(r"<(bool|str|int|float|path|list\[\w+\])[^>]*>", text), text
    assert not re.search(r"\{\w+\}", text), text
    assert "RUN_DIR" not in text
    # a flag has nothing between its name and its help
    assert re.search(r"--help\s+Show this message and exit", text), text


def test_extract_help_names_its_arguments_and_values():
    text = _help("extract")
    assert re.search(r"Usage: kgx extract \[OPTIONS\] INPUTS\.\.\.", text), text
    assert re.search(r"--output\s+-o\s+DIR\s+The run directory to write", text), text
    assert re.search(r"--batch-size\s+INTEGER \[x>=1\]", text), text
    assert re.search(r"--resume\s+Continue the run in --output", text), text
    assert re.search(r"--progress\s+--no-progress\s+Progress bar", text), text
    assert "Usage: kgx query [OPTIONS] [SPARQL]" in _help("query")
