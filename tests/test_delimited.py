"""kgx.batch.delimited: a CSV or TSV file is one document a row, read row by row; bad rows are
error entries naming the file and line, and a run over a table gives the records of the same
documents as JSONL."""

from __future__ import annotations

import csv
import gzip
import json

from test_batch import make_corpus, run_records

from kgx.batch import ExtractionRun, limits
from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.reading import count_documents, read_inputs

ROWS = [("d1", "News", "Wei Chen works for Globex in Osaka."),
        ("d2", "Memo", 'Ana Diaz, of "Acme", lives in Lima.\nJohn Smith met her there.'),
        ("", "Note", "Maria Lopez works for Initech."),
        ("d4", "Empty", "   ")]


def test_csv_and_tsv_rows_are_documents(tmp_path, monkeypatch):
    with (tmp_path / "a.csv").open("w", encoding="utf-8-sig", newline="") as fh:  # Excel's BOM
        writer = csv.writer(fh)
        writer.writerow(["id", "title", "text"])
        writer.writerows(ROWS[:2])
        fh.write("d9,only two fields\r\n")
        writer.writerows(ROWS[2:])
    (tmp_path / "b.tsv").write_text(
        "text\tid\tsource\n"
        'He said "Globex" twice.\tt1\tweb\n'
        "\n"  # a blank line is no row
        "Acme is in Paris.\tt2\tprint\n", encoding="utf-8")
    with gzip.open(tmp_path / "c.csv.gz", "wt", encoding="utf-8", newline="") as gz:
        csv.writer(gz).writerows([["text", "id"], ["Osaka is in Japan.", "g1"]])
    (tmp_path / "d.csv").write_text("id,body\nx,Wei Chen\n", encoding="utf-8")
    (tmp_path / "e.csv").write_bytes(b"id,text\ne1,fine\ne2,caf\xe9\ne3,lost\n")
    (tmp_path / "f.csv").write_text("id,text\nf1," + "x" * 300 + "\nf2,after the long row\n",
                                    encoding="utf-8")
    (tmp_path / "g.csv").write_text('id,text\nq1,"an unclosed quote\n', encoding="utf-8")
    assert INPUT_FORMATS["csv"].name == "csv" and INPUT_FORMATS["tsv"].name == "tsv"
    previous = csv.field_size_limit()
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 200)
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert csv.field_size_limit() == previous  # the caller's, between rows and after
    where = {name: str(tmp_path / name) for name in ("a.csv", "d.csv", "e.csv", "f.csv")}
    assert entries["d1"].text == ROWS[0][2] and entries["d1"].meta == {"title": "News"}
    assert entries["d2"].text == ROWS[1][2] and entries["d2"].line == 3  # quotes, a comma
    assert entries["a.csv:5"].error == (  # d2 took lines 3 and 4
        f"{where['a.csv']}:5: 2 fields where the header has 3")
    assert entries["a.csv:6"].text == ROWS[2][2]  # no id: the line its record starts on
    assert entries["d4"].status == "skipped"
    assert entries["t1"].text == 'He said "Globex" twice.'  # TSV: quotes are text
    assert entries["t2"].meta == {"source": "print"} and entries["t2"].line == 4
    assert entries["g1"].text == "Osaka is in Japan."
    assert entries["d.csv:1"].error == (
        f"{where['d.csv']}:1: the header has no text column 'text' (its columns: 'id', 'body')")
    assert entries["e1"].text == "fine" and "e3" not in entries
    assert entries["e.csv:3"].error == (
        f"{where['e.csv']}:3: not valid UTF-8 (byte 0xe9); convert it to UTF-8, or name its "
        "encoding (--encoding cp1252, ...); the rows before were kept")
    assert entries["f.csv:2"].error.startswith(f"{where['f.csv']}:2: the line holds over 200 ")
    assert "f2" not in entries and limits.is_over_limit(entries["f.csv:2"].error)
    assert entries["g.csv:2"].error == f"{tmp_path / 'g.csv'}:2: unexpected end of data"
    assert "q1" not in entries  # an open quote does not swallow the rest of the file
    assert count_documents([tmp_path / "a.csv"]) == 5


def test_a_run_over_a_csv_file_gives_the_records_of_the_same_jsonl(fixture_model, tmp_path):
    corpus = make_corpus(tmp_path / "c.jsonl", 30)
    rows = [json.loads(line) for line in corpus.read_text().splitlines()]
    columns = list(rows[0])
    with (tmp_path / "c.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)
    for name in ("c.jsonl", "c.csv"):
        ExtractionRun([tmp_path / name], fixture_model, tmp_path / f"run-{name}",
                      progress=False).run()
    assert run_records(tmp_path / "run-c.csv") == run_records(tmp_path / "run-c.jsonl")
    assert run_records(tmp_path / "run-c.csv")


def test_a_csv_files_separator_is_the_one_its_header_says(tmp_path):
    """Excel's "CSV" where the decimal comma is taken (Germany, France, ...) puts semicolons
    between fields, in the Windows code page: read with the separator that makes the text
    field a column of the header (commas first), a decimal comma staying in its field; a
    header that no separator gives the text column is the error it was."""
    (tmp_path / "de.csv").write_bytes(
        "id;text;amount\r\nd1;\"Müller works for Acme; in Köln, Germany.\";1,5\r\n"
        "d2;Ana Diaz lives in Oslo.;2,25\r\n".encode("cp1252"))
    (tmp_path / "pipes.csv").write_text("id|text\np1|Wei Chen, of Globex.\n", encoding="utf-8")
    (tmp_path / "commas.csv").write_text("id,text,note\nc1,\"a; b\",x;y\n", encoding="utf-8")
    (tmp_path / "none.csv").write_text("id;body\nn1;x\n", encoding="utf-8")
    found = {e.id: e for e in read_inputs([tmp_path], encoding="cp1252")}
    assert found["d1"].text == "Müller works for Acme; in Köln, Germany."
    assert found["d1"].meta == {"amount": "1,5"} and found["d2"].meta == {"amount": "2,25"}
    assert found["p1"].text == "Wei Chen, of Globex."
    assert found["c1"].text == "a; b" and found["c1"].meta == {"note": "x;y"}
    assert found["none.csv:1"].error.endswith(
        "none.csv:1: the header has no text column 'text' (its columns: 'id;body')")
    tsv = tmp_path / "t" / "x.tsv"
    tsv.parent.mkdir()
    tsv.write_text("id;text\tother\nr1;x\ty\n", encoding="utf-8")  # a TSV's tabs are its own
    assert [e.status for e in read_inputs([tsv])] == ["error"]
