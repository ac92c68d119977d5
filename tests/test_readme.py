"""Every `kgx` command line in the README parses against the real CLI (options, arguments).

The commands themselves are exercised by the feature tests and by `.ci/run` (`make test`,
`make demo`); this test catches the README drifting from the CLI.
"""

from __future__ import annotations

import re
import shlex

import click
import pytest
import typer

from kgx.cli import app

FENCE = re.compile(r"```bash\n(.*?)```", re.S)


def readme_kgx_lines(repo_root) -> list[str]:
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in FENCE.findall(text):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip().rstrip("&").strip()
            if "kgx " in line and not line.startswith(("pip", "python", "dask", "oxigraph")):
                lines.append(line[line.index("kgx "):])
    return lines


def test_readme_shows_the_main_commands(repo_root):
    shown = {shlex.split(line)[1] for line in readme_kgx_lines(repo_root)}
    assert {"convert", "tune-thresholds", "evaluate", "extract", "graph", "related", "export",
            "load", "query", "push", "show", "view"} <= shown


def test_every_readme_command_parses(repo_root):
    group = typer.main.get_command(app)
    lines = readme_kgx_lines(repo_root)
    assert lines
    for line in lines:
        args = shlex.split(line)[1:]
        name, rest = args[0], args[1:]
        command = group.get_command(click.Context(group), name)
        assert command is not None, f"README shows an unknown command: {line}"
        try:
            command.make_context(name, list(rest), resilient_parsing=False)
        except click.exceptions.UsageError as e:  # pragma: no cover - the failure message
            pytest.fail(f"README command does not parse: {line}\n{e}")
