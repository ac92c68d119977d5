"""The ``kgx`` command. Thin: each command parses its arguments, calls one function of the layer
below, prints the result and reports errors in one line. Nothing heavy is imported before a
command runs; the format and flavor names in the help come from their registries."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from kgx import __version__
from kgx.clihelp import Group
from kgx.rdf.formats import FORMATS
from kgx.store.flavors import FLAVORS

app = typer.Typer(
    name="kgx", cls=Group, no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False,
    help="Turn documents into a knowledge graph: train, extract, build the graph, export RDF.")
log = logging.getLogger("kgx")
ENCODING_HELP = "Encoding of text files not UTF-8 that declare none (cp1252, shift_jis, ...)."
GoldTokens = Annotated[bool, typer.Option(help="Use the data's own tokenisation (pre-tokenised "
                                          "corpora).")]


def echo(text: str = "", err: bool = False, *, as_json: bool = False) -> None:
    """``typer.echo``, with whatever a terminal would act on (escape sequences in a name, say)
    shown as escapes (:mod:`kgx.terminal`); JSON stays JSON."""
    from kgx.terminal import safe_json, safe_output

    typer.echo(safe_json(text) if as_json else safe_output(text), err=err)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    echo(f"kgx: error: {message}", err=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        echo(f"kgx {__version__}")
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


def _batch(call: str, *args: object):
    """``kgx.batch``'s ``call`` (``load_model``, kgx's one model loader; ``read_document``),
    with a one-line error instead of a traceback."""
    import kgx.batch

    try:
        return getattr(kgx.batch, call)(*args)
    except kgx.batch.BatchError as e:
        raise fail(str(e)) from e


@app.command("convert")
def convert_cmd(
    input_path: Annotated[Path, typer.Argument(help="Annotated corpus file.")],
    output: Annotated[Path, typer.Argument(help="The .spacy DocBin to write.")],
    fmt: Annotated[str, typer.Option("--format", help="auto, spert, prodigy or kgx.")] = "auto",
    lang: Annotated[str, typer.Option(help="Language of the tokenizer (kgx JSONL).")] = "en",
    skip_invalid: Annotated[bool, typer.Option(
        help="Log and skip malformed records instead of stopping.")] = False,
) -> None:
    """Convert SpERT JSON, Prodigy rel.manual JSONL or kgx JSONL to a spaCy DocBin."""
    from kgx.corpus import CorpusError, convert

    try:
        stats = convert(input_path, output, fmt=fmt, lang=lang, strict=not skip_invalid)
    except (CorpusError, ValueError) as e:
        raise fail(str(e)) from e
    echo(f"{input_path} -> {output}: {stats.summary()}")  # each skipped record: logged above


def _read_examples(nlp, data: Path, gold_tokens: bool, documents: int = 1,
                   layout: str = "space") -> list:
    """Examples from a DocBin or any annotated format, through the registered reader."""
    from spacy.util import registry

    if not data.exists():
        raise fail(f"no such data file: {data}")
    try:
        reader = registry.readers.get("kgx.Corpus.v1")(path=data, gold_tokens=gold_tokens,
                                                       documents=documents, layout=layout)
    except ValueError as e:
        raise fail(str(e)) from e
    try:
        return list(reader(nlp))
    except (ValueError, OSError) as e:
        raise fail(f"cannot read {data}: {e}") from e


@app.command("tune-thresholds")
def tune_thresholds_cmd(
    model: Annotated[str, typer.Argument(help="Trained pipeline (path or package).")],
    data: Annotated[Path, typer.Argument(help="Dev data: .spacy or any `kgx convert` input.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the tuned model.")],
    gold_tokens: GoldTokens = False,
    as_documents: Annotated[int, typer.Option(min=1, help="Tune on raw documents of K "
                                                          "records, as `evaluate`.")] = 1,
    folds: Annotated[int, typer.Option(min=0, help="Also estimate by K-fold cross-validation "
                                                   "whether tuning pays on unseen data.")] = 0,
    component: Annotated[str | None, typer.Option(help="Relation component name.")] = None,
) -> None:
    """Tune per-label relation thresholds on dev data and save the pipeline with them."""
    from kgx.pipeline import thresholds as th

    nlp = _batch("load_model", model)
    examples = _read_examples(nlp, data, gold_tokens, as_documents)
    try:
        rel = nlp.get_pipe(th.find_component(nlp, component))
        scored, n_gold = th.candidate_scores(nlp, examples, rel.name)
        cv = th.cross_validate_thresholds(scored, n_gold, rel.thresholds, folds) if folds else None
    except ValueError as e:
        raise fail(str(e)) from e
    echo(th.format_tuning(th.set_tuned_thresholds(rel, scored, n_gold), cv))
    nlp.to_disk(output)
    echo(f"saved {output}", err=True)


@app.command("evaluate")
def evaluate_cmd(
    model: Annotated[str, typer.Argument(help="Trained pipeline (path or package).")],
    data: Annotated[Path, typer.Argument(help="Gold data: .spacy or any `kgx convert` input.")],
    gold_tokens: GoldTokens = False,
    gold_entities: Annotated[
        bool, typer.Option(help="Give the relation component the gold entities (what entity "
                                "errors cost).")
    ] = False,
    as_documents: Annotated[
        int, typer.Option(min=1, help="Join K consecutive records (sentences) into one raw "
                                      "document, as users' documents come; scored by "
                                      "character offsets.")
    ] = 1,
    layout: Annotated[str, typer.Option(
        help="How --as-documents lays records out: space, lines, paragraphs, list or "
             "wrapped (hard-wrapped at 72 columns).")] = "space",
    compare: Annotated[
        bool, typer.Option("--compare", help="Score three ways side by side: sentences with "
                                             "the corpus's tokens, raw sentences, and raw "
                                             "documents of --as-documents K (default 5).")
    ] = False,
    output: Annotated[Path | None, typer.Option(help="Also write the scores as JSON.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """NER and relation scores (strict/boundaries, micro/macro, per label) and the errors.

    By default the pipeline tokenises the raw text, as in use; --gold-tokens gives it the
    corpus's tokens, --as-documents K whole documents of K sentences laid out by --layout.
    """
    import json

    from kgx.corpus import LAYOUTS
    from kgx.pipeline.evaluate import evaluate_data, format_comparison, format_report

    if layout not in LAYOUTS:  # before the pipeline loads
        raise fail(f"--layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    nlp = _batch("load_model", model)
    try:
        results = evaluate_data(
            nlp, lambda tokens, size: _read_examples(nlp, data, tokens, size, layout),
            gold_tokens=gold_tokens, documents=as_documents, layout=layout, compare=compare,
            gold_entities=gold_entities)
    except ValueError as e:
        raise fail(f"{data}: {e}") from e
    for result in results.values():
        result["input"]["data"] = str(data)
    payload = results if compare else results[""]
    text = json.dumps(payload, indent=2, default=str)
    if as_json:
        echo(text, as_json=True)
    else:
        echo(format_comparison(results) if compare else format_report(results[""]))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")


@app.command("quantize")
def quantize_cmd(
    model: Annotated[str, typer.Argument(help="Trained pipeline (path or package).")],
    output: Annotated[Path, typer.Argument(help="Directory for the converted pipeline.")],
    runtime: Annotated[str, typer.Option(
        help="torch, or onnxruntime (needs kgx[onnx]; the faster float32).")] = "torch",
    float32: Annotated[bool, typer.Option(
        "--float32", help="Keep float32 (with --runtime onnxruntime: the same vectors, "
        "faster).")] = False,
    bf16: Annotated[bool, typer.Option("--bf16", help="bfloat16 instead of int8 (torch; CPUs "
                                       "with AMX or AVX-512 BF16).")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUTPUT.")] = False,
) -> None:
    """Copy a pipeline with CPU inference settings for its transformer and span recogniser:
    int8, bfloat16 and/or ONNX Runtime (weights stay float32 on disk). Not for training."""
    from kgx.pipeline.encoder import quantize_pipeline

    if float32 and bf16:
        raise fail("--float32 and --bf16 exclude each other")
    quantize = None if float32 else "bf16" if bf16 else "int8"
    try:
        names = quantize_pipeline(model, output, overwrite=overwrite, runtime=runtime,
                                  quantize=quantize)
    except (ValueError, OSError, RuntimeError) as e:
        raise fail(str(e)) from e
    kind = (quantize or "float32") + " ONNX Runtime" * (runtime == "onnxruntime")
    echo(f"wrote {output}: {kind} inference for {', '.join(names)}", err=True)


@app.command("show")
def show_cmd(
    text_or_file: Annotated[str, typer.Argument(help="Text, or a file read as extract reads.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Pipeline name or path.")],
    html: Annotated[Path | None, typer.Option(help="Also write a relation-arcs page here.")] = None,
    encoding: Annotated[str | None, typer.Option(help=ENCODING_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records.")] = False,
) -> None:
    """Print the entities and relations found in one text."""
    from kgx.show import render_html, render_table, show_records

    path = Path(text_or_file)
    text = _batch("read_document", path, encoding) if path.is_file() else text_or_file
    nlp = _batch("load_model", model)
    doc = nlp(text)
    if as_json:
        import json

        echo(json.dumps(show_records(doc, nlp), ensure_ascii=False, indent=2), as_json=True)
    else:
        echo(render_table(doc))
    if html is not None:
        html.write_text(render_html(doc), encoding="utf-8")
        echo(f"wrote {html}", err=True)

# --- batch: extract --------------------------------------------------------------------------


@app.command("extract")
def extract_cmd(
    inputs: Annotated[list[str], typer.Argument(
        help="Files, folders (searched with --glob) or - for JSONL on stdin.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Pipeline name or path.")],
    output: Annotated[Path, typer.Option(
        "--output", "-o", metavar="DIR", help="The run directory to write (or continue).")],
    glob: Annotated[str, typer.Option(help="Pattern for files inside folders.")] = "**/*",
    id_field: Annotated[str, typer.Option(help="JSONL field holding the id.")] = "id",
    text_field: Annotated[str, typer.Option(help="JSONL field holding the text.")] = "text",
    encoding: Annotated[str | None, typer.Option(help=ENCODING_HELP)] = None,
    input_format: Annotated[str | None, typer.Option("--format", help="Read every file as this "
                            "input format, whatever its name (e.g. text for .log files).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="nlp.pipe batch size.")] = 64,
    n_process: Annotated[int, typer.Option(min=1, help="nlp.pipe worker processes.")] = 1,
    shard_size: Annotated[int, typer.Option(min=1, help="Documents per relation shard.")] = 1000,
    max_length: Annotated[int | None, typer.Option(
        min=2, help="Split longer documents (default: the pipeline's max_length).")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue the run in --output: skip documents done with the same "
        "content.")] = False,
    retry_errors: Annotated[bool, typer.Option(
        "--retry-errors", help="With --resume, process documents that failed again.")] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the run in --output (a kgx run directory only).")] = False,
    dask: Annotated[str | None, typer.Option(
        "--dask", help="Scheduler address (tcp://host:8786) or local:N worker processes.")] = None,
    partition_size: Annotated[int, typer.Option(min=1, help="Documents per Dask task.")] = 64,
    read_processes: Annotated[int, typer.Option(
        min=0, help="Processes taking the text out of PDF, office, HTML and e-mail files (0: "
        "the run's own; a Dask run reads on its workers).")] = 0,
    then_graph: Annotated[bool, typer.Option(
        "--then-graph", help="Then build DIR/graph.json, as `kgx graph DIR` does.")] = False,
    then_export: Annotated[str | None, typer.Option(
        "--then-export", help=f"Then also export RDF as DIR/graph.<ext> ({FORMATS.help()}); "
                              "implies --then-graph.")] = None,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", help="Progress bar, with a total and an ETA when the "
        "inputs are files (default: on a terminal).")] = None,
) -> None:
    """Extract relations from a corpus into a run directory (shards, manifest, errors).

    Ctrl-C or SIGTERM stops it between documents (run.json: interrupted); --resume continues.
    """
    import shlex

    from kgx.batch import BatchError, RunInterrupted, run_extraction

    if then_export is not None:
        _rdf_format(then_export)
    try:
        totals = run_extraction(
            inputs, model, output, dask=dask, partition_size=partition_size, glob=glob,
            id_field=id_field, text_field=text_field, encoding=encoding, input_format=input_format,
            batch_size=batch_size, n_process=n_process, read_processes=read_processes,
            shard_size=shard_size, resume=resume, retry_errors=retry_errors, overwrite=overwrite,
            max_length=max_length, progress=progress,
            args={"dask": dask, "partition_size": partition_size})
    except RunInterrupted as e:
        again = shlex.join(["kgx", "extract", *inputs, "--model", model, "--output", str(output),
                            "--resume"])
        raise fail(f"{output}: {e}; run.json says interrupted. Continue with: {again} (and the "
                   "same options)", 128 + e.signum) from e
    except BatchError as e:
        raise fail(str(e)) from e
    except OSError as e:
        raise fail(f"{output}: {e}") from e
    echo(f"{output}: {totals.summary()}")
    if then_graph or then_export:
        G = _build_graph([output], output / "graph.json").graph
        if then_export:
            from kgx.rdf.exporter import export, export_path

            try:
                result = export(G, export_path(output, then_export), then_export)
            except (ValueError, OSError) as e:
                raise fail(str(e)) from e
            echo(f"{result.path}: {result.statements} statements")


def _rdf_format(name: str) -> None:
    try:
        FORMATS.get_or_raise(name)
    except ValueError as e:
        raise fail(str(e)) from e


# --- graph, RDF, stores: graph, export, load, push, query, related ---------------------------


def _build_graph(inputs: list[Path], output: Path, **options):
    """:func:`kgx.graph.build_graph`, its malformed lines and its summary printed."""
    from kgx.graph import build_graph

    try:
        built = build_graph(inputs, output, **options)
    except (ValueError, OSError) as e:
        raise fail(str(e)) from e
    for err in built.errors[:20]:
        echo(f"kgx: skipped {err}", err=True)
    if len(built.errors) > 20:
        echo(f"kgx: ... and {len(built.errors) - 20} more malformed lines", err=True)
    G = built.graph
    echo(f"wrote {output}: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges, "
               f"{len(built.errors)} malformed lines skipped", err=True)
    return built


@app.command("graph")
def graph_cmd(
    inputs: Annotated[list[Path] | None, typer.Argument(
        help="Run directories (relations/*.jsonl) or .jsonl[.gz] files (none: --explain only).")
    ] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="graph.json or graph.graphml (required).")] = None,
    update: Annotated[
        bool, typer.Option("--update", help="Add to the existing output graph (docs replaced).")
    ] = False,
    min_score: Annotated[
        float, typer.Option("--min-score", min=0.0, max=1.0, help="Ignore evidence below this.")
    ] = 0.0,
    alias_table: Annotated[
        Path | None, typer.Option("--alias-table", help="Alias table (JSON or TSV).")
    ] = None,
    kb: Annotated[Path | None, typer.Option(
        "--kb", help="Knowledge base: CSV/JSONL of id, name, aliases, type (owl:sameAs).")] = None,
    no_resolution: Annotated[bool, typer.Option(
        "--no-resolution", help="Merge equal normalised names only (no short forms, "
        "designators, titles, acronyms, diacritics).")] = False,
    explain: Annotated[str | None, typer.Option(
        "--explain", help="Show why the node(s) of this name hold what they hold.")] = None,
    merge_across_types: Annotated[
        bool, typer.Option("--merge-across-types", help="Merge equal names of different types.")
    ] = False,
    merge_log: Annotated[
        Path | None, typer.Option("--merge-log", help="Write the merge log here (JSONL).")
    ] = None,
    base: Annotated[str | None, typer.Option("--base", help="Base IRI of entity IRIs.")] = None,
    stats: Annotated[bool, typer.Option("--stats", help="Print graph statistics.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Statistics as JSON.")] = False,
) -> None:
    """Build (or update) the knowledge graph from relation records."""
    import json

    from kgx.graph import explain_entity, format_stats, load_graph, match_entities

    if output is None:
        raise fail("kgx graph: --output is required")
    if inputs:
        built = _build_graph(inputs, output, update=update, min_score=min_score,
                             alias_table=alias_table, merge_across_types=merge_across_types,
                             base=base, merge_log=merge_log, kb=kb,
                             resolution=False if no_resolution else None)
        G = built.graph
    elif explain is not None:
        G = load_graph(output)
    else:
        raise fail("kgx graph: give inputs to build from, or --explain NAME")
    if stats and inputs:
        result = built.builder.stats()
        result["malformed_lines"] = len(built.errors)
        echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json
             else format_stats(result), as_json=as_json)
    if explain is not None:
        found = explain_entity(G, match_entities(G, explain))
        if not found:
            raise fail(f"no entity named {explain!r} in {output}")
        echo(json.dumps(found, indent=2, ensure_ascii=False), as_json=True)


@app.command("related")
def related_cmd(
    entity: Annotated[str, typer.Argument(help="Entity IRI, name or alias.")],
    graph: Annotated[Path, typer.Option("--graph", "-g", help="graph.json or graph.graphml.")],
    top: Annotated[int, typer.Option("--top", min=1, help="How many to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Entities related to ENTITY, ranked by personalised PageRank (for recommendation)."""
    import json

    from kgx.graph import load_graph, related

    try:
        ranking = related(load_graph(graph), entity, top=top)
    except ValueError as e:
        raise fail(str(e)) from e
    except KeyError as e:
        raise fail(f"{e.args[0]} in {graph}") from e
    if as_json:
        echo(json.dumps(ranking, indent=2, ensure_ascii=False), as_json=True)
        return
    from kgx.terminal import printable

    for i, r in enumerate(ranking, 1):
        echo(f"{i:>3}  {r['score']:.4f}  {printable(r['label']):<8} {printable(r['name'])}  "
             f"<{printable(r['node'])}>")


def _vocabulary(vocab: Path | None):
    from kgx.rdf.vocabulary import Vocabulary

    try:
        return Vocabulary.from_file(vocab) if vocab is not None else Vocabulary.default()
    except ValueError as e:
        raise fail(str(e)) from e


@app.command("export")
def export_cmd(
    graph: Annotated[Path, typer.Argument(help="graph.json or graph.graphml (`kgx graph`).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The RDF file to write.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help=f"{FORMATS.help()} (default: from the "
                                 "suffix).")
    ] = None,
    vocab: Annotated[
        Path | None, typer.Option("--vocab", help="Vocabulary mapping (.toml/.json); default "
                                  "the one shipped in kgx/data/vocab.toml.")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language tag of labels.")] = "en",
    validate: Annotated[
        bool, typer.Option("--validate", help="Check domain/range with SHACL (pyshacl).")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="With --validate: exit 1 on any violation.")
    ] = False,
) -> None:
    """Export the graph as RDF: merged facts, one named graph per document, reified evidence.

    nq, trig and jsonld keep the document graphs; nt, ttl and xml flatten them (the evidence
    nodes stay, with prov:wasDerivedFrom their document). nt/nq are streamed.
    """
    from kgx.graph import load_graph
    from kgx.rdf.exporter import export
    from kgx.rdf.shacl import validate as shacl_validate

    mapping = _vocabulary(vocab)
    try:
        G = load_graph(graph)
        result = export(G, output, fmt, vocab=mapping, lang=lang)
        report = shacl_validate(G, mapping) if validate else None
    except (ValueError, OSError) as e:
        raise fail(str(e)) from e
    echo(f"wrote {result.path}: {result.statements} statements ({result.format}), "
               f"{result.documents} documents", err=True)
    if report is not None:
        echo(report.summary())
        if strict and not report.conforms:
            raise typer.Exit(1)


@app.command("load")
def load_cmd(
    files: Annotated[list[Path], typer.Argument(help=f"RDF files: {', '.join(FORMATS)}.")],
    store: Annotated[Path, typer.Option("--store", help="Embedded store directory.")],
    fmt: Annotated[str | None, typer.Option("--format", help="RDF format of all FILES.")] = None,
    replace_default: Annotated[
        bool, typer.Option("--replace-default/--merge-default", help="Replace the merged view "
                           "and drop documents no longer in FILES (default: the store then "
                           "equals one loaded from scratch), or merge FILES into the store.")
    ] = True,
) -> None:
    """Bulk-load RDF into the embedded store: it then holds exactly FILES' knowledge graph."""
    from kgx.store.embedded import StoreError, load_files, open_store

    try:
        for r in load_files(open_store(store), files, fmt, replace_default=replace_default):
            echo(f"loaded {r.path}: {r.quads} quads, {r.graphs_replaced} named graphs "
                       f"replaced, {r.graphs_dropped} dropped; the store holds {r.store_quads} "
                       "quads", err=True)
    except (StoreError, ValueError) as e:
        raise fail(str(e)) from e


def _endpoints(endpoint, flavor, dataset, store_url, update_url, query_url):
    from kgx.store.flavors import Endpoints

    try:
        return Endpoints.build(endpoint, flavor, dataset, store_url, update_url, query_url)
    except ValueError as e:
        raise fail(str(e)) from e


_ENDPOINT = typer.Option("--endpoint", help="Server root URL (paths from --flavor).")
_FLAVOR = typer.Option("--flavor", help=f"{FLAVORS.help()}: the server's endpoint paths "
                       "under --endpoint (default oxigraph).")
_TIMEOUT = typer.Option("--timeout", min=0.001, help="Seconds to wait for each answer.")


@app.command("push")
def push_cmd(
    file: Annotated[Path, typer.Argument(help="RDF file to push (nq/trig keep document graphs).")],
    endpoint: Annotated[str | None, _ENDPOINT] = None,
    flavor: Annotated[str | None, _FLAVOR] = None,
    dataset: Annotated[str, typer.Option("--dataset", help="Fuseki dataset name.")] = "ds",
    store_url: Annotated[str | None, typer.Option("--store-url", help="Graph Store URL.")] = None,
    update_url: Annotated[str | None, typer.Option("--update-url", help="Update URL.")] = None,
    query_url: Annotated[str | None, typer.Option("--query-url", help="Query URL.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="RDF format of FILE.")] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="gsp (Graph Store PUT per graph) or update (SPARQL "
                          "Update).")
    ] = "gsp",
    replace_default: Annotated[
        bool, typer.Option("--replace-default/--merge-default", help="Replace the merged view "
                           "and drop documents no longer in FILE (default), or merge.")
    ] = True,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Retries per request.")] = 5,
    timeout: Annotated[float, _TIMEOUT] = 60.0,
    verify: Annotated[bool, typer.Option(
        "--verify/--no-verify", help="Compare the store's counts with the file's after.")] = True,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Quads per update.")]
    = 5000,
) -> None:
    """Push RDF to a remote store: it then answers as one loaded from scratch with FILE.

    Credentials: KGX_STORE_TOKEN (bearer) or KGX_STORE_USER/KGX_STORE_PASSWORD (basic).
    """
    from kgx.store.remote import RemoteStore, StoreError, push_file

    remote = RemoteStore(_endpoints(endpoint, flavor, dataset, store_url, update_url, query_url),
                         retries=retries, timeout=timeout)
    try:
        r = push_file(remote, file, fmt, mode=mode, replace_default=replace_default,
                      batch_size=batch_size, verify=verify)
    except (StoreError, ValueError) as e:
        raise fail(str(e)) from e
    echo(f"pushed {file}: {r.quads} quads, {r.graphs} named graphs, {r.dropped} dropped, "
               f"{r.requests} requests", err=True)


@app.command("query")
def query_cmd(
    sparql: Annotated[str | None, typer.Argument(help="SPARQL query text (or use --file).")] = None,
    store: Annotated[Path | None, typer.Option("--store", help="Embedded store directory.")]
    = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the query here.")]
    = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="name=value (string) or "
                                       "name=<iri>, bound as an RDF term (on a remote store "
                                       "too); repeatable. A parameter the query declares "
                                       "(# Parameter: name) is required.")
    ] = None,
    out_format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    endpoint: Annotated[str | None, _ENDPOINT] = None,
    flavor: Annotated[str | None, _FLAVOR] = None,
    dataset: Annotated[str, typer.Option("--dataset", help="Fuseki dataset name.")] = "ds",
    query_url: Annotated[str | None, typer.Option("--query-url", help="Query URL.")] = None,
    vocab: Annotated[
        Path | None, typer.Option("--vocab", help="Mapping whose prefixes shorten IRIs.")
    ] = None,
    timeout: Annotated[float, _TIMEOUT] = 60.0,
) -> None:
    """Run a SPARQL query on the embedded store (or a remote endpoint) and print the results."""
    from kgx.store.embedded import StoreError, parse_param
    from kgx.store.queries import format_results, run_query

    if (sparql is None) == (file is None):
        raise fail("give the query either as an argument or with --file, not both")
    if file is not None:
        try:
            sparql = file.read_text(encoding="utf-8")
        except OSError as e:
            raise fail(f"cannot read the query file {file}: {e}") from e
    assert sparql is not None
    if out_format not in ("table", "json", "csv"):
        raise fail(f"unknown --format {out_format!r} (use table, json or csv)")
    try:
        params = dict(parse_param(p) for p in param or [])
        endpoints = (_endpoints(endpoint, flavor, dataset, None, None, query_url)
                     if endpoint or query_url else None)
        results = run_query(sparql, store=store, endpoints=endpoints, params=params,
                            timeout=timeout)
    except (StoreError, ValueError) as e:
        raise fail(str(e)) from e
    echo(format_results(results, out_format, _vocabulary(vocab).all_prefixes()),
         as_json=out_format == "json")

# --- views: view -----------------------------------------------------------------------------


@app.command("view")
def view_cmd(
    graph: Annotated[Path, typer.Argument(help="graph.json or graph.graphml (from kgx graph).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="HTML file (default: GRAPH with .html).")
    ] = None,
    min_score: Annotated[
        float, typer.Option("--min-score", min=0.0, max=1.0, help="Leave out weaker relations.")
    ] = 0.0,
    title: Annotated[str | None, typer.Option("--title", help="Page title.")] = None,
    max_nodes: Annotated[
        int, typer.Option("--max-nodes", min=1, help="Keep the most connected entities.")
    ] = 2000,
    max_edges: Annotated[
        int, typer.Option("--max-edges", min=1, help="Keep the strongest relations among them.")
    ] = 10_000,
    screenshot: Annotated[Path | None, typer.Option(
        help="Also write a PNG of the page once drawn (headless Chromium).")] = None,
) -> None:
    """Write one self-contained HTML page (opens offline) to explore the graph."""
    from kgx.graph import load_graph
    from kgx.viz import write_html

    out = output or graph.with_suffix(".html")
    try:
        stats = write_html(load_graph(graph), out, title=title or f"kgx: {graph.name}",
                           min_score=min_score, max_nodes=max_nodes, max_edges=max_edges,
                           screenshot=screenshot)
    except (ValueError, OSError) as e:
        raise fail(str(e)) from e
    note = (f" (of {stats['nodes_total']} entities and {stats['edges_total']} relations: "
            "see --max-nodes, --max-edges)" if stats["truncated"] else "")
    echo(f"wrote {out}: {stats['nodes_shown']} entities, {stats['edges_shown']} relations"
               f"{note}" + (f"; screenshot: {screenshot}" if screenshot else ""), err=True)


# --- service: serve --------------------------------------------------------------------------


@app.command("serve")
def serve_cmd(
    model: Annotated[str, typer.Argument(help="Pipeline name or path.")],
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8080,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes.")] = 1,
    max_batch_words: Annotated[int, typer.Option("--max-batch-words", min=1)] = 4000,
    max_wait_ms: Annotated[float, typer.Option("--max-wait-ms", min=0.0)] = 5.0,
    max_queue: Annotated[int, typer.Option("--max-queue", min=1, help="Queued documents.")] = 1024,
    batching: Annotated[bool, typer.Option("--batching/--no-batching")] = True,
    max_text_chars: Annotated[int, typer.Option("--max-text-chars", min=1)] = 100_000,
    max_body_bytes: Annotated[int, typer.Option("--max-body-bytes", min=1)] = 10_000_000,
    max_unpacked_bytes: Annotated[int, typer.Option("--max-unpacked-bytes", min=1)] = 67_108_864,
    max_read_seconds: Annotated[float, typer.Option("--max-read-seconds", min=0.001)] = 30.0,
    store: Annotated[Path | None, typer.Option("--store", help="Embedded store.")] = None,
    endpoint: Annotated[str | None, _ENDPOINT] = None,
    flavor: Annotated[str | None, _FLAVOR] = None,
    dataset: Annotated[str, typer.Option("--dataset", help="Fuseki dataset name.")] = "ds",
    state: Annotated[Path | None, typer.Option("--state", help="Graph file.")] = None,
    code: Annotated[Path | None, typer.Option("--code", help="Python file to import.")] = None,
) -> None:
    """Serve extraction and live graph upkeep over HTTP (README "Serving")."""
    from kgx.serve.inputs import Limits
    from kgx.serve.server import serve

    endpoints = _endpoints(endpoint, flavor, dataset, None, None, None) if endpoint else None
    try:
        serve(model, host=host, port=port, workers=workers, store=store, endpoints=endpoints,
              state=state, code=code, max_batch_words=max_batch_words,
              max_wait_ms=max_wait_ms, max_queue=max_queue, batching=batching,
              limits=Limits(max_body_bytes, max_text_chars, max_unpacked_bytes=max_unpacked_bytes,
                            max_read_seconds=max_read_seconds))
    except ValueError as e:
        raise fail(str(e)) from e


def main() -> None:
    app()


if __name__ == "__main__":
    main()

