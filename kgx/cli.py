"""The ``kgx`` command. Thin: parses arguments, calls the modules, reports errors in one line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

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


def _load_pipeline(model: str):
    """spacy.load with a one-line error instead of a traceback."""
    import spacy

    try:
        return spacy.load(model)
    except (OSError, ValueError, ImportError) as e:
        raise fail(f"cannot load the pipeline {model!r}: {e}") from e


@app.command("show")
def show_cmd(
    text_or_file: Annotated[str, typer.Argument(help="Text, or the path of a text file.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Pipeline name or path.")],
    html: Annotated[Path | None, typer.Option(help="Also write a displaCy view here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records.")] = False,
) -> None:
    """Print the entities and relations found in one text."""
    from kgx.show import render_html, render_table, show_records

    path = Path(text_or_file)
    text = path.read_text(encoding="utf-8") if path.is_file() else text_or_file
    nlp = _load_pipeline(model)
    doc = nlp(text)
    if as_json:
        import json

        typer.echo(json.dumps(show_records(doc, nlp), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_table(doc))
    if html is not None:
        html.write_text(render_html(doc), encoding="utf-8")
        typer.echo(f"wrote {html}", err=True)

# --- batch: extract --------------------------------------------------------------------------

# --- graph, RDF, stores: graph, export, load, push, query, related ---------------------------

# --- views: view -----------------------------------------------------------------------------


def main() -> None:
    app()


if __name__ == "__main__":
    main()

