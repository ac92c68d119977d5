"""The ``kgx`` command as a user meets it first: ``--version`` and the rendered ``--help``."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import srsly
import typer
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


# every command, those added later too
COMMANDS = list(typer.main.get_command(app).commands)


def test_every_command_is_listed_and_helped():
    assert {"convert", "extract", "graph", "export", "load", "push", "query", "view"} <= \
        set(COMMANDS)
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
    assert re.search(r"--progress\s+--no-progress\s+Progress bar, with a total", text), text
    assert "SIGTERM" in text
    assert "Usage: kgx query [OPTIONS] [SPARQL]" in _help("query")


def _kgx(*args: str) -> list[str]:
    """The lines ``kgx ARGS`` writes, stdout and stderr together (logging as configured by the
    command itself, at its default level)."""
    res = subprocess.run([sys.executable, "-m", "kgx", *args], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    return (res.stdout + res.stderr).splitlines()


def test_each_result_is_said_once(tmp_path):
    # a step's result is printed by the command, not also logged by the layer below
    from test_rdf import build

    from kgx.graph import save_graph

    graph = tmp_path / "g.json"
    save_graph(build(), graph)
    steps = {
        "g.nq": ["export", str(graph), "--output", str(tmp_path / "g.nq")],
        "the store holds": ["load", str(tmp_path / "g.nq"), "--store", str(tmp_path / "store")],
        "v.html": ["view", str(graph), "--output", str(tmp_path / "v.html"), "--max-nodes", "2",
                   "--max-edges", "1"],
    }
    for said, args in steps.items():
        lines = _kgx(*args)
        assert len([line for line in lines if said in line]) == 1, lines
    lines = _kgx("view", str(graph), "--output", str(tmp_path / "v.html"), "--max-nodes", "2")
    assert len([line for line in lines if "entities" in line]) == 1, lines
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Acme.", "entities": [], "relations": []}\n{"text": 1}\n',
                   encoding="utf-8")
    lines = _kgx("convert", str(bad), str(tmp_path / "b.spacy"), "--skip-invalid")
    assert len([line for line in lines if f"{bad}:2" in line]) == 1, lines
    assert any("1 malformed records skipped" in line for line in lines), lines
