"""Inputs that unpack to far more than they weigh: what reading them costs kgx, with the limit on
one document (``kgx.batch.limits.MAX_DOCUMENT_BYTES``) and without it; and what the limit
costs on real PDF files.

A gzipped text file, a gzipped JSONL file with no line break, and a PDF whose page content is a
Flate stream, each unpacking to ``--unpacked-mib`` MiB, are read in a fresh child process each:
once by kgx's readers (``read_inputs``), once the way a reader without the limit reads them
(``gzip`` read whole, a JSONL file line by line, pdfminer.six's own parser). Each prints its
peak resident memory (VmHWM), its time and what it gave. Then each ``--files`` PDF is read
``--repeats`` times by ``pdf_text`` with the bounded parser and with pdfminer's own, alternating,
and the median time ratio is printed.

    python benchmarks/bench_limits.py --unpacked-mib 1024 \
        --files /usr/share/doc/libtasn1-doc/libtasn1.pdf
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_speed import memory_mb  # noqa: E402

KINDS = ("text.gz", "one-line.jsonl.gz", "flate.pdf")
_LINE = b"Wei Chen works for Globex in Osaka. "


def write_bombs(folder: Path, mib: int) -> None:
    """The three inputs, each unpacking to ``mib`` MiB (written a megabyte at a time)."""
    block = _LINE * (2**20 // len(_LINE))
    with gzip.open(folder / "text.gz.txt.gz", "wb", compresslevel=6) as fh:
        for _ in range(mib):
            fh.write(block)
    with gzip.open(folder / "one-line.jsonl.gz", "wb", compresslevel=6) as fh:
        fh.write(b'{"id": "big", "text": "')
        for _ in range(mib):
            fh.write(block)
        fh.write(b'"}\n')
    packer, packed = zlib.compressobj(9), bytearray()
    for _ in range(mib):
        packed += packer.compress(b" " * 2**20)
    packed += packer.compress(b"BT /F1 12 Tf 72 720 Td (Wei Chen works for Globex.) Tj ET")
    packed += packer.flush()
    (folder / "flate.pdf").write_bytes(pdf_with_stream(bytes(packed)))


def pdf_with_stream(packed: bytes, filters: int = 1) -> bytes:
    """A one-page PDF whose content stream is ``packed``, compressed by ``filters`` Flate
    filters, drawing in Helvetica (font 1)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d /Filter [%s] >>\nstream\n" % (
                   len(packed), b" ".join([b"/FlateDecode"] * filters)) + packed
               + b"\nendstream", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return bytes(out + b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)


def _plain_parser(data: bytes):
    from pdfminer.pdfparser import PDFParser

    return PDFParser(io.BytesIO(data))


def child(kind: str, reader: str, folder: Path) -> None:
    """Read one input one way; print a JSON line of figures."""
    from kgx.batch import pdf
    from kgx.batch.reading import read_inputs

    path = {"text.gz": folder / "text.gz.txt.gz", "one-line.jsonl.gz": folder / "one-line.jsonl.gz",
            "flate.pdf": folder / "flate.pdf"}[kind]
    t0 = time.perf_counter()
    if reader == "kgx":
        entries = list(read_inputs([path]))
        gave = f"{entries[0].status}: {entries[0].error or len(entries[0].text or '')}"
    elif kind == "text.gz":
        with gzip.open(path, "rb") as fh:
            gave = f"{len(fh.read().decode('utf-8')):,} characters"
    elif kind == "one-line.jsonl.gz":
        with gzip.open(path, "rb") as fh:
            gave = f"{sum(len(json.loads(line)['text']) for line in fh):,} characters"
    else:
        pdf.bounded_parser = _plain_parser  # type: ignore[assignment]
        gave = f"{len(pdf.pdf_text(path.read_bytes())[0]):,} characters"
    seconds = time.perf_counter() - t0
    print(json.dumps({"peak_mb": memory_mb()["VmHWM"], "seconds": seconds, "gave": gave[:140]}))


def pdf_cost(files: list[str], repeats: int) -> None:
    from kgx.batch import pdf

    bounded = pdf.bounded_parser
    for name in files:
        data = Path(name).read_bytes()
        times: dict[str, list[float]] = {"bounded": [], "pdfminer": []}
        for _ in range(repeats):
            for label, parser in (("bounded", bounded), ("pdfminer", _plain_parser)):
                pdf.bounded_parser = parser  # type: ignore[assignment]
                t0 = time.perf_counter()
                text, _ = pdf.pdf_text(data)
                times[label].append(time.perf_counter() - t0)
        pdf.bounded_parser = bounded  # type: ignore[assignment]
        ratio = statistics.median(b / p for b, p in zip(times["bounded"], times["pdfminer"],
                                                              strict=True))
        print(f"{Path(name).name}: {len(data):,} bytes, {text.count(chr(12))} pages; median "
              f"{statistics.median(times['bounded']):.2f} s bounded, "
              f"{statistics.median(times['pdfminer']):.2f} s pdfminer's parser; "
              f"ratio {ratio:.3f} (median of {repeats} paired runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unpacked-mib", type=int, default=1024)
    parser.add_argument("--files", nargs="*", default=[])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], Path(args.child[2]))
        return
    from kgx.batch import limits

    print(f"limit for one document: {limits.MAX_DOCUMENT_BYTES:,} bytes; inputs unpack to "
          f"{args.unpacked_mib} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        write_bombs(Path(tmp), args.unpacked_mib)
        for kind in KINDS:
            size = (Path(tmp) / ("text.gz.txt.gz" if kind == "text.gz" else kind)).stat().st_size
            for reader in ("kgx", "without the limit"):
                done = subprocess.run([sys.executable, __file__, "--child", kind, reader, tmp],
                                      capture_output=True, text=True)
                if done.returncode:
                    print(f"{kind} ({size:,} bytes), {reader}: failed (exit {done.returncode}):"
                          f" {done.stderr.strip().splitlines()[-1:]}")
                    continue
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"{kind} ({size:,} bytes), {reader}: peak {figures['peak_mb']:,.0f} MB, "
                      f"{figures['seconds']:.1f} s; {figures['gave']}")
    pdf_cost(args.files, args.repeats)


if __name__ == "__main__":
    main()
