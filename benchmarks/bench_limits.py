"""Inputs that unpack to far more than they weigh: what reading them costs kgx, with the limit on
one document (``kgx.batch.limits.MAX_DOCUMENT_BYTES``) and without it; and what the limit
costs on real PDF files.

A gzipped text file, a gzipped JSONL file with no line break, and PDFs whose page content is a
Flate stream, an LZW stream, and a Flate stream inside ASCII85, each unpacking to
``--unpacked-mib`` MiB, are read in a fresh child process each:
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
import base64
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

KINDS = ("text.gz", "one-line.jsonl.gz", "flate.pdf", "lzw.pdf", "ascii85-flate.pdf")
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
    (folder / "ascii85-flate.pdf").write_bytes(pdf_with_stream(
        base64.a85encode(bytes(packed), adobe=True)[2:], ["ASCII85Decode", "FlateDecode"]))
    text = b"BT /F1 12 Tf 72 720 Td (Wei Chen works for Globex.) Tj ET"
    (folder / "lzw.pdf").write_bytes(pdf_with_stream(lzw_spaces(mib * 2**20, text),
                                                     ["LZWDecode"]))


def lzw_encode(data: bytes) -> bytes:
    """``data`` as a PDF LZW stream (a clear code first and whenever the table is full, codes
    of 9 to 12 bits with the early change that pdfminer.six decodes)."""
    out, held, nbits = bytearray(), 0, 0

    def put(code: int, width: int) -> None:
        nonlocal held, nbits
        held, nbits = (held << width) | code, nbits + width
        while nbits >= 8:
            nbits -= 8
            out.append((held >> nbits) & 0xFF)
            held &= (1 << nbits) - 1

    width = _lzw_width

    table: dict[bytes, int] = {}
    emitted, word = 0, b""
    for byte in [*data, None]:
        if not table:
            put(256, width(emitted) if emitted else 9)
            table, emitted = {bytes([i]): i for i in range(256)}, 0
        if byte is not None and word + bytes([byte]) in table:
            word += bytes([byte])
            continue
        if word:
            put(table[word], width(emitted))
            emitted += 1
            if byte is not None:
                table[word + bytes([byte])] = 257 + emitted
                if 257 + emitted >= 4094:
                    table = {}
        word = b"" if byte is None else bytes([byte])
    put(257, width(emitted))
    put(0, (8 - nbits) % 8)
    return bytes(out)


def _lzw_width(emitted: int) -> int:
    """The width of the code a PDF LZW decoder reads after ``emitted`` codes since a clear
    (its table then holds 257 + emitted entries; early change)."""
    size = 257 + emitted if emitted else 258
    return 9 if size < 511 else 10 if size < 1023 else 11 if size < 2047 else 12


def lzw_spaces(n: int, tail: bytes) -> bytes:
    """An LZW stream of at least ``n`` spaces, then ``tail``, built cycle by cycle: after a
    clear, code 32 and then each next code the decoder is about to add (one space longer
    each time) until its table is full, then a clear. What ``lzw_encode`` writes for spaces,
    made for a gigabyte in a moment."""
    cycle, out, j = [format(32, "09b")], 1, 1
    while 257 + j < 4094:
        cycle.append(format(257 + j, f"0{_lzw_width(j)}b"))
        out, j = out + j + 1, j + 1
    cycle.append(format(256, f"0{_lzw_width(j)}b"))
    rest = format(int.from_bytes(lzw_encode(tail), "big"), f"0{8 * len(lzw_encode(tail))}b")
    bits = format(256, "09b") + "".join(cycle) * -(-n // out) + rest[9:]
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def runlength_encode(data: bytes) -> bytes:
    """``data`` as a PDF RunLength stream: runs of a byte as repeats, the rest literally."""
    out, at = bytearray(), 0
    while at < len(data):
        run = 1
        while at + run < len(data) and run < 128 and data[at + run] == data[at]:
            run += 1
        if run > 1:
            out += bytes([257 - run, data[at]])
        else:
            end = at + 1
            while end < len(data) and end - at < 128 and data[end] != data[end - 1]:
                end += 1
            out += bytes([end - at - 1]) + data[at:end]
            run = end - at
        at += run
    return bytes(out + b"\x80")


def pdf_with_stream(packed: bytes, filters: int | list[str] = 1) -> bytes:
    """A one-page PDF whose content stream is ``packed``, decoded by ``filters`` (names, or a
    number of Flate filters), drawing in Helvetica (font 1)."""
    names = ["FlateDecode"] * filters if isinstance(filters, int) else filters
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d /Filter [%s] >>\nstream\n" % (
                   len(packed), " ".join(f"/{n}" for n in names).encode()) + packed
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
            }.get(kind, folder / kind)
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
