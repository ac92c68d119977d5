"""Name → class tables (kgx.registry): input formats, RDF formats and store flavors are one entry
each, and other packages add theirs through entry points, as rdflib's plugins do."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from kgx.batch.html import HtmlInput
from kgx.batch.inputs import (
    INPUT_FORMATS,
    MarkdownInput,
    TextInput,
    suffixes,
)
from kgx.batch.jsondocs import JsonlInput
from kgx.rdf.formats import FORMATS, format_for, get_format
from kgx.registry import Registry
from kgx.store.flavors import FLAVORS, Endpoints

PLUGIN = textwrap.dedent('''
    """A package adding a kind of each through kgx's entry-point groups."""
    from pathlib import Path

    from kgx.batch.inputs import Entry, InputFormat, sha256
    from kgx.rdf.writers import NTriples
    from kgx.store.flavors import Flavor


    class LinesInput(InputFormat):
        """One document a line; ids are <file>#<line>."""

        name, suffixes = "lines", (".lines",)

        @classmethod
        def read(cls, path, root, *, id_field="id", text_field="text"):
            for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
                yield Entry(f"{path.name}#{i}", str(path), i, sha256(line), text=line)


    class NTriplesAgain(NTriples):
        name, suffixes = "ntx", (".ntx",)


    class Blazegraph(Flavor):
        name, store, update, query = ("blazegraph", "/bigdata/namespace/{dataset}/sparql",
                                      "/bigdata/namespace/{dataset}/sparql",
                                      "/bigdata/namespace/{dataset}/sparql")


    class NotReally(NTriples):
        name, suffixes = "nt", (".not",)
''')

ENTRY_POINTS = textwrap.dedent('''
    [kgx_input_formats]
    lines = kgx_test_plugin:LinesInput

    [kgx_rdf_formats]
    ntx = kgx_test_plugin:NTriplesAgain
    nt = kgx_test_plugin:NotReally

    [kgx_store_flavors]
    blazegraph = kgx_test_plugin:Blazegraph
''')

SCRIPT = textwrap.dedent('''
    import json, logging, sys
    from pathlib import Path

    from typer.testing import CliRunner

    from kgx.batch.reading import read_inputs
    from kgx.cli import app
    from kgx.graph import GraphBuilder
    from kgx.rdf import FORMATS, export
    from kgx.store.embedded import load_file, open_store
    from kgx.store.flavors import FLAVORS, Endpoints

    logging.basicConfig(level=logging.WARNING)
    tmp = Path(sys.argv[1])
    rec = {"doc_id": "d1", "relation": "Work_For", "score": 0.9,
           "head": {"text": "Ada", "label": "PER", "start_char": 0, "end_char": 3},
           "tail": {"text": "Acme", "label": "ORG", "start_char": 14, "end_char": 18}}
    b = GraphBuilder()
    b.add_records([rec])
    out = {"formats": list(FORMATS), "nt": FORMATS["nt"].__module__,
           "flavors": list(FLAVORS)}
    result = export(b.graph, tmp / "kg.ntx")  # the format from the plugin's suffix
    out["exported"] = [result.format, result.statements]
    out["loaded"] = load_file(open_store(tmp / "store"), tmp / "kg.ntx").quads
    out["endpoints"] = Endpoints.build("http://h:9999", "blazegraph", "kb").query_url
    (tmp / "in").mkdir()
    (tmp / "in" / "a.lines").write_text("one\\ntwo\\n", encoding="utf-8")
    out["ids"] = [e.id for e in read_inputs([tmp / "in"])]
    help_text = CliRunner().invoke(app, ["export", "--help"], terminal_width=200).output
    out["help"] = "ntx" in help_text
    print(json.dumps(out))
''')


@pytest.fixture(scope="module")
def plugin_run(tmp_path_factory):
    """Install a fake distribution on the path of a fresh interpreter and use its kinds."""
    site = tmp_path_factory.mktemp("site")
    (site / "kgx_test_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = site / "kgx_test_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kgx-test-plugin\n"
                                   "Version: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    work = tmp_path_factory.mktemp("work")
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(work)], capture_output=True,
                         text=True, env={**__import__("os").environ, "PYTHONPATH": str(site)})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def test_an_entry_point_adds_an_rdf_format(plugin_run):
    out, _ = plugin_run
    assert out["formats"] == ["nt", "nq", "ttl", "trig", "jsonld", "xml", "ntx"]
    assert out["exported"][0] == "ntx" and out["exported"][1] > 0
    assert out["loaded"] == out["exported"][1]  # the store reads it through its media type
    assert out["help"]  # and `kgx export --help` lists it


def test_a_built_in_name_is_not_replaced(plugin_run):
    out, stderr = plugin_run
    assert out["nt"] == "kgx.rdf.writers"
    assert "'nt' from the entry point kgx_test_plugin:NotReally is ignored" in stderr


def test_an_entry_point_adds_a_store_flavor(plugin_run):
    out, _ = plugin_run
    assert out["flavors"] == ["oxigraph", "fuseki", "blazegraph"]
    assert out["endpoints"] == "http://h:9999/bigdata/namespace/kb/sparql"


def test_an_entry_point_adds_an_input_format(plugin_run):
    out, _ = plugin_run
    assert out["ids"] == ["a.lines#1", "a.lines#2"]


def test_built_in_tables():
    assert list(FORMATS) == ["nt", "nq", "ttl", "trig", "jsonld", "xml"]
    for name in FORMATS:
        fmt = get_format(name)
        assert fmt.name == name and fmt.suffixes[0].startswith(".") and "/" in fmt.media_type
        assert format_for(f"x{fmt.suffixes[0]}") == name
    assert list(FLAVORS) == ["oxigraph", "fuseki"]
    assert Endpoints.build("http://h/", "fuseki", "ds").store_url == "http://h/ds/data"
    assert INPUT_FORMATS["text"] is TextInput and INPUT_FORMATS["jsonl"] is JsonlInput
    assert INPUT_FORMATS["markdown"] is MarkdownInput and INPUT_FORMATS["html"] is HtmlInput
    assert suffixes() == (
        ".txt", ".md", ".markdown", ".html", ".htm", ".xhtml", ".mht", ".mhtml", ".vtt",
        ".srt", ".jsonl", ".ndjson", ".json", ".xml", ".rss", ".atom", ".eml", ".emlx",
        ".mbox", ".msg", ".docx", ".docm", ".dotx", ".dotm", ".odt", ".ott", ".fodt",
        ".doc", ".rtf", ".pdf", ".pptx", ".pptm", ".ppsx", ".ppsm", ".potx", ".potm",
        ".ppt", ".pps", ".odp", ".otp", ".fodp", ".epub", ".csv", ".tsv", ".xlsx", ".xlsm",
        ".xltx", ".xltm", ".xls", ".xlt", ".ods", ".ots", ".fods", ".zip", ".tar", ".tgz",
        ".txt.gz", ".md.gz", ".markdown.gz", ".html.gz", ".htm.gz", ".xhtml.gz", ".mht.gz",
        ".mhtml.gz", ".vtt.gz", ".srt.gz", ".jsonl.gz", ".ndjson.gz", ".json.gz", ".xml.gz",
        ".rss.gz", ".atom.gz", ".eml.gz", ".emlx.gz", ".mbox.gz", ".msg.gz", ".docx.gz",
        ".docm.gz", ".dotx.gz", ".dotm.gz", ".odt.gz", ".ott.gz", ".fodt.gz", ".doc.gz",
        ".rtf.gz", ".pdf.gz", ".pptx.gz", ".pptm.gz", ".ppsx.gz", ".ppsm.gz", ".potx.gz",
        ".potm.gz", ".ppt.gz", ".pps.gz", ".odp.gz", ".otp.gz", ".fodp.gz", ".epub.gz",
        ".csv.gz", ".tsv.gz", ".xlsx.gz", ".xlsm.gz", ".xltx.gz", ".xltm.gz", ".xls.gz",
        ".xlt.gz", ".ods.gz", ".ots.gz", ".fods.gz", ".zip.gz", ".tar.gz", ".tgz.gz")


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match=r"unknown RDF format 'n3' \(use one of nt, nq, ttl"):
        get_format("n3")
    with pytest.raises(ValueError, match="unknown store flavor 'virtuoso'"):
        Endpoints.build("http://h", "virtuoso")
    table: Registry[int] = Registry("thing", "kgx_test_no_such_group", {"a": 1, "b": "json:loads"})
    assert table.help() == "a or b" and table["b"] is json.loads and "c" not in table
    with pytest.raises(KeyError):
        table["c"]


@pytest.mark.parametrize(("source", "renamed"), [
    ("notes.docx", "notes.docm"), ("notes.docx", "notes.dotx"), ("notes.odt", "notes.ott"),
    ("speaker.pptx", "speaker.ppsx"), ("speaker.pptx", "speaker.potm"),
    ("speaker.odp", "speaker.otp"), ("tickets.xlsx", "tickets.xlsm"),
    ("tickets.xls", "tickets.xlt"), ("tickets.ods", "tickets.ots")])
def test_macro_enabled_files_templates_and_shows_read_as_their_format(tmp_path, source, renamed):
    """Word's .docm and .dotx, PowerPoint's .ppsx and .potm, Excel's .xlsm and .xlt and the
    OpenDocument templates hold the same parts as the format they come from."""
    import shutil
    from pathlib import Path

    from kgx.batch.reading import read_inputs

    data = Path(__file__).parent / "data"
    shutil.copy(data / source, tmp_path / renamed)
    shutil.copy(data / source, tmp_path / source)
    got = [(e.text, e.meta, e.status) for e in read_inputs([tmp_path / renamed])]
    want = [(e.text, e.meta, e.status) for e in read_inputs([tmp_path / source])]
    assert got == want and got[0][2] == "ok"
