"""kgx.batch.archives: a .zip or .tar(.gz) named as an input is read member by member, each
as a file of its format would be (one document a file, or the rows of a JSONL/CSV member),
ids under the archive's name; unsupported members are passed over, a bomb or a damaged member
is an error entry naming archive and member, and a damaged archive keeps the members before
the damage; an archive inside a folder is not opened, and a warning says so."""

from __future__ import annotations

import io
import logging
import tarfile
import zipfile

from helpers import load_benchmark
from kgx.batch import ExtractionRun, limits
from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.reading import read_inputs

MEMBERS = {
    "a.txt": b"Maria Lopez works for Acme in Paris.",
    "sub/c.jsonl": b'{"id": "x1", "text": "Wei Chen works for Globex."}\n{"text": "Ana Diaz."}\n',
    "d.csv": b"id,text,tag\nr1,John Smith lives in Berlin.,news\n",
    "e.png": b"\x89PNG\r\n\x1a\n",  # no input format: passed over
    "inner.zip": b"PK\x05\x06" + b"\0" * 18,  # an archive in the archive: not opened
}


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sub/", b"")  # a folder entry
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def tar_bytes(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link.txt")
        link.type, link.linkname = tarfile.SYMTYPE, "a.txt"
        archive.addfile(link)
    return out.getvalue()


def test_archives_are_read_member_by_member(tmp_path):
    docx = load_benchmark("eval_docx")
    members = {**MEMBERS, "sub/b.docx": docx.docx_bytes([docx.run("Ivan Petrov left Oslo.")],
                                                        "Memo")}
    (tmp_path / "corpus.zip").write_bytes(zip_bytes(members))
    (tmp_path / "corpus.tar.gz").write_bytes(tar_bytes(members))
    (tmp_path / "corpus.tgz").write_bytes(tar_bytes(members))
    assert INPUT_FORMATS["zip"].name == "zip" and INPUT_FORMATS["tar"].name == "tar"
    for name in ("corpus.zip", "corpus.tar.gz", "corpus.tgz"):
        entries = {e.id: e for e in read_inputs([tmp_path / name])}
        assert set(entries) == {f"{name}/a.txt", "x1", f"{name}/sub/c.jsonl:2", "r1",
                                f"{name}/sub/b.docx"}, name
        assert entries[f"{name}/a.txt"].text == "Maria Lopez works for Acme in Paris."
        assert entries[f"{name}/a.txt"].path == f"{tmp_path / name}/a.txt"
        assert entries["x1"].text == "Wei Chen works for Globex."
        assert entries[f"{name}/sub/c.jsonl:2"].path == f"{tmp_path / name}/sub/c.jsonl"
        assert entries["r1"].meta == {"tag": "news"}
        assert entries[f"{name}/sub/b.docx"].text == "Ivan Petrov left Oslo."
        assert entries[f"{name}/sub/b.docx"].meta == {"title": "Memo", "author": "Maria Lopez"}


def test_bombs_damage_and_folders(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 1000)
    bomb = {"a.txt": b"Maria Lopez works for Acme.", "big.txt": b" " * 5000,
            "z.txt": b"After the bomb."}
    (tmp_path / "bomb.zip").write_bytes(zip_bytes(bomb))
    entries = {e.id: e for e in read_inputs([tmp_path / "bomb.zip"])}
    assert entries["bomb.zip/big.txt"].error == (
        f"{tmp_path / 'bomb.zip'}/big.txt: it holds over 1,000 bytes unpacked, the limit for one "
        "document (a compressed bomb, or a dump to split into documents first)")
    assert entries["bomb.zip/z.txt"].text == "After the bomb."
    cut = tar_bytes({"a.txt": b"Maria Lopez works for Acme.", "b.txt": b"x" * 900}, "w")
    (tmp_path / "cut.tar").write_bytes(cut[:1800])  # inside the second member's data
    entries = {e.id: e for e in read_inputs([tmp_path / "cut.tar"])}
    assert entries["cut.tar/a.txt"].text == "Maria Lopez works for Acme."
    assert "damaged archive" in entries["cut.tar:end"].error
    assert entries["cut.tar:end"].error.endswith("the members before were kept")
    (tmp_path / "nozip.zip").write_bytes(b"not a zip")
    assert "damaged archive" in next(iter(read_inputs([tmp_path / "nozip.zip"]))).error
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("Maria Lopez works for Acme.", encoding="utf-8")
    (folder / "copy.zip").write_bytes(zip_bytes({"a.txt": b"Maria Lopez works for Acme."}))
    with caplog.at_level(logging.WARNING, logger="kgx"):
        ids = [e.id for e in read_inputs([folder])]
    assert ids == ["a.txt"]
    assert "1 archive(s) not opened (copy.zip): name an archive to read it" in caplog.text


def test_a_run_over_an_archive_resumes_member_by_member(fixture_model, tmp_path):
    (tmp_path / "c.zip").write_bytes(zip_bytes({"a.txt": MEMBERS["a.txt"],
                                                "b.txt": b"Wei Chen works for Globex."}))
    first = ExtractionRun([tmp_path / "c.zip"], fixture_model, tmp_path / "run",
                          progress=False).run()
    assert first.ok == 2
    again = ExtractionRun([tmp_path / "c.zip"], fixture_model, tmp_path / "run", resume=True,
                          progress=False).run()
    assert again.unchanged == 2 and again.ok == 0
