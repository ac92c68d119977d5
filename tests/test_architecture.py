"""The layout of kgx (docs/architecture.md): imports go down the layers only, no import circles,
and the bottom of the house (records, run directories) stays free of spaCy and torch.

Every import of a kgx module counts, at module level or inside a function, type-checking ones
included: an import deferred into a function is still a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

KGX = Path(__file__).resolve().parents[1] / "kgx"

# bottom up (docs/architecture.md); a module belongs to the layer of its longest listed prefix
LAYERS: list[tuple[str, ...]] = [
    ("kgx", "kgx.registry", "kgx.relations", "kgx.records", "kgx.rundir", "kgx.terminal",
     "kgx.text"),
    ("kgx.pipeline", "kgx.corpus", "kgx.encoders"),
    ("kgx.batch",),
    ("kgx.graph",),
    ("kgx.rdf",),
    ("kgx.store",),
    ("kgx.serve", "kgx.viz", "kgx.browser", "kgx.show"),
    ("kgx.cli", "kgx.clihelp", "kgx.__main__"),
]
# modules at the bottom that must import neither spaCy nor torch (nor anything that does)
LIGHT = ("kgx.records", "kgx.rundir", "kgx.registry", "kgx.terminal", "kgx.text")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(KGX.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(KGX.rglob("*.py"))}


def layer(module: str) -> int:
    best, found = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), i
    if found is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")
    return found


def kgx_imports(module: str) -> set[str]:
    """The kgx modules ``module`` imports (``from kgx.x import name`` → ``kgx.x.name`` when
    that is a module, else ``kgx.x``)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                     for a in node.names]
        else:
            continue
        for name in names:
            if name == "kgx" or name.startswith("kgx."):
                while name not in MODULES:  # ``import kgx.graph.io`` style: the module itself
                    name = name.rpartition(".")[0]
                if name != module:
                    found.add(name)
    return found


GRAPH = {m: kgx_imports(m) for m in MODULES}


def test_every_module_has_a_layer():
    for module in MODULES:
        layer(module)


def test_imports_go_down_the_layers_only():
    upward = [f"{m} (layer {layer(m)}) imports {d} (layer {layer(d)})"
              for m, deps in sorted(GRAPH.items()) for d in sorted(deps) if layer(d) > layer(m)]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_circles():
    visiting: list[str] = []
    done: set[str] = set()
    circles: list[str] = []

    def visit(module: str) -> None:
        if module in done:
            return
        if module in visiting:
            circles.append(" -> ".join([*visiting[visiting.index(module):], module]))
            return
        visiting.append(module)
        for dep in sorted(GRAPH[module]):
            visit(dep)
        visiting.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_graph_reads_run_directories_through_rundir_not_batch():
    assert "kgx.rundir" in GRAPH["kgx.graph.build"]
    assert not any(d.startswith("kgx.batch") for m in MODULES if m.startswith("kgx.graph")
                   for d in GRAPH[m])


def test_the_checker_sees_a_violation(tmp_path):
    """The checker itself: an upward import and a circle are found in made-up modules."""
    GRAPH_backup = dict(GRAPH)
    try:
        GRAPH["kgx.records"] = {*GRAPH["kgx.records"], "kgx.graph.builder"}
        with pytest.raises(AssertionError, match="kgx.records .* imports kgx.graph.builder"):
            test_imports_go_down_the_layers_only()
        with pytest.raises(AssertionError, match="circles"):
            test_no_import_circles()
    finally:
        GRAPH.clear()
        GRAPH.update(GRAPH_backup)


@pytest.mark.parametrize("module", LIGHT)
def test_bottom_modules_import_neither_spacy_nor_torch(module):
    code = (f"import sys, {module}\n"
            "heavy = sorted(m for m in ('spacy', 'torch', 'thinc', 'transformers') "
            "if m in sys.modules)\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "", f"importing {module} imported {out.stdout.strip()}"


def test_cli_and_format_registries_import_light():
    """`kgx --help` lists the RDF formats and store flavors without loading the graph, RDF or
    store code (or spaCy)."""
    code = ("import sys, kgx.cli\n"
            "heavy = sorted(m for m in ('spacy', 'torch', 'networkx', 'rdflib', 'pyoxigraph', "
            "'kgx.graph', 'kgx.rdf.writers', 'kgx.store.embedded') if m in sys.modules)\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_modules_stay_small():
    """A module over ~450 lines is a sign it holds two jobs (docs/architecture.md says why for
    the ones allowed more)."""
    allowed = {
        "kgx.cli": 720,  # fourteen commands' option declarations; bodies are one call each
    }
    big = {m: n for m, p in MODULES.items()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > allowed.get(m, 470)}
    assert not big, big


@pytest.mark.slow
def test_mypy_is_clean():
    """Issue 13, item 19: mypy is configured in pyproject.toml and required by the design;
    `make typecheck` (run by .ci/run) keeps it clean, and so does this test."""
    pytest.importorskip("mypy")
    out = subprocess.run([sys.executable, "-m", "mypy", str(KGX)], capture_output=True,
                         text=True, cwd=KGX.parent)
    assert out.returncode == 0, out.stdout[-3000:]
