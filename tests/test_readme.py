"""Every `kgx` command line in the README parses against the real CLI (options, arguments),
writes only under exports/, and (those that need no trained model, server or data of the
reader's own) runs as written.

The rest are exercised by the feature tests and by `.ci/run` (`make test`, `make demo`); these
tests catch the README drifting from the CLI.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import click
import pytest
import typer

from kgx.cli import app

ROOT = Path(__file__).resolve().parents[1]

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


# --- issue 18: every README command writes under exports/, and the ones that need no trained
# model, server or data of the reader's own run as written -------------------------------------

#: kgx parameters naming a path the command writes (or, for a store, owns)
OUTPUT_PARAMS = {"output", "html", "merge_log", "store", "state"}
#: other programs' output options in the README
OTHER_OUTPUTS = {"--output", "-o", "--location"}


def readme_shell_lines(repo_root) -> list[str]:
    """The README's shell command lines as written (continuation lines joined)."""
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(line.strip())
    return lines


def commands(line: str) -> list[list[str]]:
    """The commands of one shell line (a pipeline split at ``|``; a final ``&`` dropped)."""
    args = [a for a in shlex.split(line, comments=True) if a != "&"]
    out: list[list[str]] = [[]]
    for a in args:
        if a == "|":
            out.append([])
        else:
            out[-1].append(a)
    return [c for c in out if c]


def output_paths(args: list[str]) -> list[str]:
    """The paths one command writes, from its own parser for `kgx`, by option name otherwise."""
    if args[0] == "kgx":
        group = typer.main.get_command(app)
        command = group.get_command(click.Context(group), args[1])
        assert command is not None, args
        params = command.make_context(args[1], list(args[2:]), resilient_parsing=False).params
        return [str(params[name]) for name in sorted(OUTPUT_PARAMS)
                if params.get(name) is not None]
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a in OTHER_OUTPUTS]


def test_every_readme_command_writes_under_exports(repo_root):
    found = []
    for line in readme_shell_lines(repo_root):
        for args in commands(line):
            for path in output_paths(args):
                parts = PurePosixPath(path).parts
                assert parts[0] == "exports" and ".." not in parts, \
                    f"README command writes outside exports/: {line}"
                found.append(path)
    # the parser above sees what it should: the demo's outputs and the reader's own
    assert {"exports/demo/graph.json", "exports/demo/graph.nq", "exports/demo/merge-log.jsonl",
            "exports/demo/show.html", "exports/demo/store", "exports/mine/train.spacy",
            "exports/mine", "exports/oxigraph"} <= set(found)


def why_not_run(args: list[str]) -> str | None:
    """Why the running test below leaves a README command out (None: it runs it)."""
    if args[0] == "make":
        return "a make target: CI runs them itself (`.ci/run`)"
    if args[0] in ("dask", "oxigraph", "curl") or args[:2] == ["kgx", "serve"]:
        return "starts or needs a server"
    if "--endpoint" in args:
        return "needs a running remote triple store"
    if args[:3] == ["python", "-m", "spacy"]:
        return "trains a model (`make demo` trains the demo one)"
    if args[:2] == ["kgx", "quantize"] or "exports/demo/model-int8" in args:
        return ("quantizes a transformer pipeline, which the stand-in is not "
                "(tests/test_encoder.py runs kgx quantize)")
    if any(a == "MODEL" or a.startswith(("my_", "exports/mine", "dump.", "docs.", "/shared/"))
           for a in args):
        return "stands for the reader's own model or data"
    return None


def demo_stand_in(fixture_model: Path, dest: Path) -> None:
    """What `make demo` trains, at its path, for this test: the small fixture pipeline with an
    entity ruler for every hand-annotated name of the raw demo documents (no training)."""
    import spacy

    nlp = spacy.load(fixture_model)
    gold = ROOT / "corpora" / "resolution" / "demo_gold.jsonl"
    names = {(m["text"], m["label"]) for line in gold.read_text(encoding="utf-8").splitlines()
             for m in json.loads(line)["mentions"]}
    nlp.get_pipe("entity_ruler").add_patterns(
        [{"label": label, "pattern": text} for text, label in sorted(names)])
    dest.parent.mkdir(parents=True)
    nlp.to_disk(dest)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_readme_commands_run_as_written_and_write_only_under_exports(
        repo_root, fixture_model, tmp_path):
    """Each README line that needs no trained model, server or data of the reader's own runs,
    as written, with the venv's `kgx`, in a copy of the files it reads (the demo model replaced
    by the fixture pipeline); every one exits 0 and nothing outside exports/ changes."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "kgx").exists():
        pytest.skip(f"no kgx script beside {sys.executable} (kgx not installed in this venv)")
    work = tmp_path / "repo"
    for name in ("corpora", "docs"):
        shutil.copytree(repo_root / name, work / name)
    (work / "exports").mkdir()
    shutil.copy(repo_root / "exports" / "README.md", work / "exports" / "README.md")
    demo_stand_in(fixture_model, work / "training" / "demo" / "model-tuned")
    before = snapshot(work)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "OMP_NUM_THREADS": "1"}
    ran, skipped = [], {}
    for line in readme_shell_lines(repo_root):
        reasons = {why_not_run(args) for args in commands(line)} - {None}
        if reasons:
            skipped[line] = reasons
            continue
        proc = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, f"{line}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        ran.append(commands(line)[-1][:2])
    assert {tuple(c) for c in ran if c[0] == "kgx"} >= {
        ("kgx", n) for n in ("extract", "graph", "related", "export", "load", "query", "show",
                             "view")}
    assert skipped  # and each with its reason above
    after = snapshot(work)
    changed = sorted(p for p, stat in after.items() if before.get(p) != stat)
    outside = [p for p in changed if PurePosixPath(p).parts[0] != "exports"]
    assert changed and not outside, outside
    assert sorted(p for p in before if p not in after) == []
