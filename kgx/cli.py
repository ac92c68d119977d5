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


def _read_examples(nlp, data: Path, gold_tokens: bool) -> list:
    """Examples from a DocBin or any annotated format, through the registered reader."""
    from spacy.util import registry

    if not data.exists():
        raise fail(f"no such data file: {data}")
    reader = registry.readers.get("kgx.Corpus.v1")(path=data, gold_tokens=gold_tokens)
    try:
        return list(reader(nlp))
    except (ValueError, OSError) as e:
        raise fail(f"cannot read {data}: {e}") from e


@app.command("tune-thresholds")
def tune_thresholds_cmd(
    model: Annotated[str, typer.Argument(help="Trained pipeline (path or package).")],
    data: Annotated[Path, typer.Argument(help="Dev data: .spacy or any `kgx convert` input.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the tuned model.")],
    gold_tokens: Annotated[
        bool, typer.Option(help="Use the data's own tokenisation (pre-tokenised corpora).")
    ] = False,
    component: Annotated[str | None, typer.Option(help="Relation component name.")] = None,
) -> None:
    """Tune per-label relation thresholds on dev data and save the pipeline with them."""
    from kgx.pipeline.thresholds import tune_thresholds

    nlp = _load_pipeline(model)
    examples = _read_examples(nlp, data, gold_tokens)
    try:
        report = tune_thresholds(nlp, examples, component)
    except ValueError as e:
        raise fail(str(e)) from e
    for label, r in report.items():
        typer.echo(f"{label:<24} threshold {r['threshold']:.3f}   dev strict F1 {100 * r['f']:6.2f}"
                   f"   ({r['gold']} gold)")
    nlp.to_disk(output)
    typer.echo(f"saved {output}", err=True)


@app.command("evaluate")
def evaluate_cmd(
    model: Annotated[str, typer.Argument(help="Trained pipeline (path or package).")],
    data: Annotated[Path, typer.Argument(help="Gold data: .spacy or any `kgx convert` input.")],
    gold_tokens: Annotated[
        bool, typer.Option(help="Use the data's own tokenisation (pre-tokenised corpora).")
    ] = False,
    output: Annotated[Path | None, typer.Option(help="Also write the scores as JSON.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """NER and relation scores (strict/boundaries, micro/macro, per label) and the errors."""
    import json

    from kgx.pipeline.evaluate import evaluate, format_report

    nlp = _load_pipeline(model)
    result = evaluate(nlp, _read_examples(nlp, data, gold_tokens))
    text = json.dumps(result, indent=2, default=str)
    typer.echo(text if as_json else format_report(result))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")


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

