"""Issue 13, item 3: an installed kgx (a wheel, as packaged pipelines and Dask workers get it)
behaves as the checkout does: the default vocabulary is package data, not a file of the
repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_default_vocabulary_is_package_data():
    from importlib.resources import files

    from kgx.rdf.vocabulary import Vocabulary

    data = files("kgx") / "data" / "vocab.toml"
    assert data.is_file()
    vocab = Vocabulary.default()
    assert vocab.types["PER"] == "https://schema.org/Person"
    assert vocab.source.endswith("vocab.toml")


@pytest.mark.slow
def test_an_installed_wheel_exports_with_the_vocabulary(tmp_path):
    """Build the wheel, install it in a fresh venv (dependencies borrowed from this one, kgx
    itself only from the wheel) and export from outside the checkout: PER is schema:Person."""
    src = tmp_path / "src"  # a clean copy: no build/ left from elsewhere ends up in the wheel
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "kgx", src / "kgx",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(dist), str(src)], check=True, capture_output=True)
    wheel = next(dist.glob("kgx-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True)
    # this venv's packages for the dependencies; a path line in a .pth file does not run the
    # .pth files of that folder, so the checkout's editable kgx is not among them
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True)
    Path(site.stdout.strip(), "zz-kgx-test-deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    records = work / "r.jsonl"
    records.write_text(json.dumps({
        "doc_id": "d1", "relation": "Work_For", "score": 0.9,
        "head": {"text": "Maria Lopez", "label": "PER", "start_char": 0, "end_char": 11},
        "tail": {"text": "Acme", "label": "ORG", "start_char": 22, "end_char": 26}}) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("import kgx, sys; from pathlib import Path\n"
            "from kgx.cli import main\n"
            "assert Path(kgx.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()), "
            "kgx.__file__\n"
            "print(kgx.__file__)\n")
    where = subprocess.run([str(python), "-c", code], cwd=work, env=env, capture_output=True,
                           text=True)
    assert where.returncode == 0, where.stderr
    assert str(ROOT) not in where.stdout
    kgx = venv / "bin" / "kgx"
    for args in (["graph", "r.jsonl", "-o", "g.json"], ["export", "g.json", "-o", "g.nt"]):
        res = subprocess.run([str(kgx), *args], cwd=work, env=env, capture_output=True,
                             text=True)
        assert res.returncode == 0, res.stderr
    nt = (work / "g.nt").read_text(encoding="utf-8")
    assert "<https://schema.org/Person>" in nt and "<https://schema.org/worksFor>" in nt
    assert "type/PER" not in nt
