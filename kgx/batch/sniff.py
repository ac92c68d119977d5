"""Files that no suffix names, known by their first bytes.

Mail stores name their messages and mailboxes without suffixes: a Maildir's messages are
``1700000000.M1P2.host:2,S``, the Enron corpus's ``allen-p/inbox/1.``, 20 Newsgroups'
``alt.atheism/49960``, and Thunderbird keeps each folder as an mbox file named ``Inbox``. A web
mirror (``wget --mirror`` without ``--adjust-extension``) saves pages as ``about`` and
``news?id=3``, and web applications hand out PDFs as ``download``. A file whose name has no
input format's suffix was passed over; now its first bytes are looked at, as ``file(1)`` does:
a message (RFC 5322 headers, then a blank line), a mailbox (a "From " postmark line), a page
(``<!DOCTYPE html`` or ``<html``), a PDF (``%PDF-``) or an RTF file (``{\\rtf``) is read as
one. The rules for mail are strict, so that other files stay passed over: no NUL byte, every
line before the first blank one a header field (or a folded continuation), two or more of them
fields every message has, one of which says where or when it came from. Files with a suffix
and a run's ``--format`` are not sniffed.
"""

from __future__ import annotations

import re
from pathlib import Path

#: how much of a file is looked at
HEAD_BYTES = 4096

# an mbox postmark: "From sender Mon Nov  2 10:00:00 2026" (the time zone may come before the
# year; Thunderbird writes "From - Mon ...")
POSTMARK = re.compile(rb"From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d(:\d\d)?"
                      rb"( [+-]\d{4})? \d{4}\s*$")
_FIELD = re.compile(rb"([A-Za-z][A-Za-z0-9-]{0,60})[ \t]*:")
# fields a message or a news article has; at least one of the second kind
_COMMON = frozenset({b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"received",
                     b"return-path", b"delivered-to", b"mime-version", b"content-type",
                     b"reply-to", b"sender", b"in-reply-to", b"references", b"newsgroups",
                     b"path", b"organization", b"lines", b"x-from", b"x-to"})
_ORIGIN = frozenset({b"from", b"date", b"message-id", b"received", b"return-path",
                     b"newsgroups", b"path"})


# a page: "<!DOCTYPE html" or "<html", after spaces and comments (a browser's "saved from")
_PAGE = re.compile(rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])",
                   re.IGNORECASE | re.DOTALL)


def sniffed(head: bytes) -> str | None:
    """The input format (``"email"``, ``"mbox"``, ``"html"``, ``"pdf"``, ``"rtf"``) of a file
    that begins with ``head``, or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if not head or b"\x00" in head:
        return None
    if _PAGE.match(head.removeprefix(b"\xef\xbb\xbf")):
        return "html"
    lines = head.split(b"\n")
    if POSTMARK.match(lines[0].rstrip(b"\r")):
        return "mbox"
    names: list[bytes] = []
    for line in lines[:-1] if len(lines) > 1 else lines:  # the last may be cut short
        line = line.rstrip(b"\r")
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t") and names:
            continue  # a folded field's next line
        found = _FIELD.match(line)
        if found is None:
            return None
        names.append(found.group(1).lower())
    else:
        if len(lines) <= 1 or len(head) < HEAD_BYTES:  # no blank line ends the fields
            return None
    common = {n for n in names if n in _COMMON}
    return "email" if len(common) >= 2 and common & _ORIGIN else None


def sniff_file(path: Path) -> str | None:
    """``sniffed`` for the file at ``path``; None when it cannot be read (the run's reading
    says why, where it is read)."""
    if path.name.startswith(".") or not path.is_file():  # hidden, or a FIFO: never opened
        return None
    try:
        with path.open("rb") as fh:
            return sniffed(fh.read(HEAD_BYTES))
    except OSError:
        return None
