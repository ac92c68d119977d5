"""project.yml: every command's inputs exist in a fresh checkout or are written by a command
that runs before it in the same workflow (a renamed output breaks `spacy project run`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import srsly

ROOT = Path(__file__).resolve().parent.parent
PROJECT = srsly.read_yaml(ROOT / "project.yml")
COMMANDS = {c["name"]: c for c in PROJECT["commands"]}


def _fill(text: str) -> str:
    for key, value in PROJECT["vars"].items():
        text = text.replace("${vars." + key + "}", str(value))
    return text


def _written_by(path: str, outputs: set[str]) -> bool:
    return any(path == out or path.startswith(out.rstrip("/") + "/") for out in outputs)


@pytest.mark.parametrize("workflow", sorted(PROJECT["workflows"]))
def test_each_step_reads_what_the_checkout_or_an_earlier_step_has(workflow):
    outputs: set[str] = set()
    for name in PROJECT["workflows"][workflow]:
        command = COMMANDS[name]
        for dep in map(_fill, command.get("deps", [])):
            assert dep.startswith("../") or _written_by(dep, outputs) or (ROOT / dep).exists(), \
                f"{workflow}: {name} reads {dep}, which nothing before it writes"
        outputs |= set(map(_fill, command.get("outputs", [])))


@pytest.mark.parametrize("name", sorted(c for c in COMMANDS if not c.endswith("-cv")))
def test_each_command_names_the_pipelines_its_script_writes(name):
    """A pipeline written by `spacy train --output DIR` (something under DIR) or by `spacy
    assemble CONFIG DIR` is listed, so that later steps can depend on it. (The -cv commands
    list only their metrics: their fold models are their own business.)"""
    command = COMMANDS[name]
    outputs = set(map(_fill, command.get("outputs", [])))
    for line in map(_fill, command["script"]):
        words = line.split()
        if words[1:4] == ["-m", "spacy", "train"]:
            target = words[words.index("--output") + 1]
            assert any(_written_by(out, {target}) for out in outputs), \
                f"{name}: trains into {target} but lists nothing under it in outputs"
        if words[1:4] == ["-m", "spacy", "assemble"]:
            assert words[5] in outputs, f"{name}: assembles {words[5]}, not in its outputs"
