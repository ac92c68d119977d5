"""The ``kgx`` command. Thin: parses arguments, calls the modules, reports errors in one line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Optional  # noqa: F401  (Optional is used by typer signatures)

import typer

from kgx import __version__

app = typer.Typer(
    name="kgx",
    help="Turn documents into a knowledge graph: train, extract, build the graph, export RDF.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log = logging.getLogger("kgx")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    typer.echo(f"kgx: error: {message}", err=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kgx {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# --- pipeline: convert, tune-thresholds, evaluate, show -------------------------------------

# --- batch: extract --------------------------------------------------------------------------

# --- graph, RDF, stores: graph, export, load, push, query, related ---------------------------

# --- views: view -----------------------------------------------------------------------------


def main() -> None:
    app()


if __name__ == "__main__":
    main()

_ = Path  # re-exported for command modules' signatures
