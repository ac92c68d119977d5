"""Outlook messages: what kgx reads from real ``.msg`` files (issue 19: documents as users
have them).

For each file: its metadata, the time reading it took, and the start of the text each of its
bodies gives (the plain one kgx reads first, the HTML one, the compressed RTF one), so that the
three renditions can be compared by eye; then the documents a run reads from it, the message and
its attached files (each file's id, status, length and metadata, or its error). No corpus of
``.msg`` files ships with kgx; the test files of the msg-parser package (``pip download
--no-deps --no-binary :all: msg-parser==1.2.0``, ``tests/files/*.msg``) are messages written by
Outlook and Exchange.

    python benchmarks/eval_msg.py FILE.msg ...
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    from kgx.batch.cfb import CompoundFile
    from kgx.batch.html import html_text
    from kgx.batch.outlook import (
        MsgInput,
        _html_charset,
        decompressed_rtf,
        msg_attachments,
        msg_text,
    )
    from kgx.batch.rtf import rtf_text

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args()
    for path in args.files:
        data = path.read_bytes()
        began = time.perf_counter()
        text, meta = msg_text(data)
        seconds = time.perf_counter() - began
        print(f"{path.name}: {len(data):,} bytes read in {seconds * 1000:.1f} ms, "
              f"{len(text):,} characters\n  meta: {meta}")
        cf = CompoundFile(data)
        bodies = {}
        plain = cf.stream("__substg1.0_1000001F")
        if plain:
            bodies["plain"] = plain.decode("utf-16-le", "replace")
        html = cf.stream("__substg1.0_10130102")
        if html:
            html = html.rstrip(b"\0")
            bodies["html"] = html_text(html.decode(_html_charset(html) or "cp1252", "replace"))
        rtf = cf.stream("__substg1.0_10090102")
        if rtf:
            bodies["rtf"] = rtf_text(decompressed_rtf(rtf))[0]
        for kind, body in bodies.items():
            print(f"  {kind:<5} {' '.join(body.split())[:110]!r}")
        began = time.perf_counter()
        entries = list(MsgInput.read(path, path.parent))
        seconds = time.perf_counter() - began
        print(f"  as a run reads it: {len(entries)} documents in {seconds * 1000:.0f} ms "
              f"({len(msg_attachments(data))} attached files)")
        for entry in entries[:-1]:  # the message comes after its attachments
            said = (f"{len(entry.text or ''):,} characters, {entry.meta}"
                    if entry.status != "error" else entry.error)
            print(f"    {entry.id}: {entry.status}, {said}")


if __name__ == "__main__":
    main()
