"""An e-mail message (``.eml``) as a document: its subject and the text of its body.

Mail archives (exported mailboxes, the Enron corpus, mailing lists) are raw documents too. As
bytes, a message is headers, MIME parts and a body in quoted-printable or base64 ("Caf=C3=A9",
soft line breaks "=\\n" inside words); read as text, none of it is what its reader saw (issue
19: documents as users have them). ``read_message`` parses it with Python's ``email`` package:
the text is the subject, a blank line, and the body a mail client shows (the text/plain part,
else the text/html one read by ``kgx.batch.html.html_text``), decoded from the charset the
message declares (as mail clients read it: ``body_text``), with the quote markers of a reply
("> ") taken off the lines they open and a blank line where the quoting starts or ends, so that
quoted text reads as the prose it was and a quoted block is a paragraph of its own. The
subject, sender, recipients, date and message id are the document's metadata. The offsets of a
message's records count in this text (``kgx.batch.read_document`` gives it back); the content
hash is the message's bytes.

A message's attachments are documents of their own, read by their own formats just before it
(``attachments``; ``kgx.batch.archives.attached``), a forwarded message as an ``.eml`` of its
own.

A mailbox (``.mbox``: Gmail's Takeout, Thunderbird, mutt) holds many messages, each opened by a
"From " line; ``MboxInput`` reads it as a stream, a message at a time, each a document whose id
is its Message-ID (stable when the mailbox grows, so ``--resume`` skips what was read), else
``<file>:<n>``.
"""

from __future__ import annotations

import codecs
import email
import email.errors
import email.policy
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kgx.batch import limits
from kgx.batch.archives import AttachingInput, attachments_of, readable
from kgx.batch.encodings import utf8_else
from kgx.batch.html import html_text, web_charset
from kgx.batch.inputs import (
    Entry,
    InputFormat,
    open_input,
    open_many,
    sha256,
)
from kgx.batch.sniff import POSTMARK

#: the headers kept as a message's metadata
HEADERS = ("subject", "from", "to", "cc", "date", "message-id")
_QUOTE = re.compile(r"[ \t]*((?:>[ \t]?)+)")


class MailError(ValueError):
    """A message whose text cannot be read (an unknown or a wrong charset)."""


def read_message(data: bytes, encoding: str | None = None) -> tuple[str, dict[str, str]]:
    """The text of the message in ``data`` and its headers (:data:`HEADERS` it has); a body
    or header in bytes it does not label read in ``encoding`` where they are not UTF-8
    (``unlabelled``)."""
    nul = data.find(b"\x00")
    if nul >= 0:  # no message holds one (RFC 5322): a binary file named or forced as one
        raise MailError(f"binary content (NUL byte at offset {nul}): not an e-mail message")
    msg = email.message_from_bytes(data, policy=email.policy.default)
    found = {name: _header(msg, name, encoding) for name in HEADERS}
    meta = {name: text for name, text in found.items() if text is not None}
    parts = [meta.get("subject", "")]
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        content = body_text(body, encoding).replace("\r\n", "\n")
        parts.append(fields_apart(html_text(content) if body.get_content_subtype() == "html"
                                  else unquoted(content).strip("\n")))
    return "\n\n".join(part for part in parts if part.strip()), meta


def body_text(part: Any, encoding: str | None = None) -> str:
    """The text of a message's text part, from the bytes its transfer encoding gives: in the
    charset it declares, read as mail clients read it (``web_charset``: "iso-8859-1" is
    windows-1252); a part that declares none, or US-ASCII while its bytes are not, as
    ``unlabelled`` bytes. MailError naming the problem otherwise."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    label = (part.get_content_charset() or "us-ascii").lower()
    try:
        if _is_ascii(label):  # "us-ascii", and the Enron corpus's "ANSI_X3.4-1968"
            return unlabelled(data, encoding)
        return data.decode(web_charset(label))
    except LookupError:
        raise MailError(f"its body's charset ({label}) is unknown") from None
    except UnicodeDecodeError as e:
        raise MailError(f"its body is not valid {label} (byte 0x{data[e.start]:02x} at offset "
                        f"{e.start} of the decoded part)") from None


def _is_ascii(label: str) -> bool:
    try:
        return codecs.lookup(label).name == "ascii"
    except LookupError:
        return False


def unlabelled(data: bytes, encoding: str | None = None) -> str:
    """Bytes that mail did not label (8-bit bytes under the default US-ASCII, as old mail
    sends them, in a body or a header): UTF-8 where they are, else the run's ``encoding``,
    else windows-1252, which is how mail clients read "us-ascii" (UnicodeDecodeError from it
    for its five unused bytes)."""
    try:
        return utf8_else(data, encoding)
    except UnicodeDecodeError:
        return data.decode("windows-1252")


def _header(msg: Any, name: str, encoding: str | None) -> str | None:
    """A header's text, spaces collapsed; raw 8-bit bytes in it (which the email package
    shows as U+FFFD) read as ``unlabelled`` bytes."""
    value = msg[name]
    if value is None:
        return None
    text = str(value)
    if "\ufffd" in text:
        raw = next((v for k, v in msg.raw_items() if k.lower() == name), None)
        if isinstance(raw, str) and not raw.isascii():
            try:
                data = raw.encode("ascii", "surrogateescape")
                text = str(email.policy.default.header_fetch_parse(
                    name, unlabelled(data, encoding)))
            except UnicodeError:
                pass
    return " ".join(text.split())


def attachments(data: bytes) -> list[tuple[str, bytes]]:
    """``(file name, bytes)`` of each attachment of the message in ``data`` that names a
    file: the parts beside its body, in multiparts at any depth; a forwarded message
    (``message/rfc822``) as an ``.eml`` file, its own attachments its own."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain", "html"))
    found: list[tuple[str, bytes]] = []
    todo: list[Any] = [msg]
    while todo:
        part = todo.pop(0)
        if part.get_content_maintype() == "multipart":
            todo[:0] = list(part.iter_parts())
            continue
        if part.get_content_type() == "message/rfc822" and part.is_multipart():
            inner = part.get_payload(0)
            try:
                raw = inner.as_bytes(policy=email.policy.SMTP)
            except Exception:  # a header the modern policy will not write: as it came
                raw = inner.as_bytes(policy=email.policy.compat32)
            found.append((eml_name(part.get_filename(), str(inner.get("subject") or "")), raw))
            continue
        name = part.get_filename()
        payload = part.get_payload(decode=True) if name and part is not body else None
        if name and isinstance(payload, bytes):
            found.append((name, payload))
    return found


def eml_name(*titles: str | None) -> str:
    """The file name of a forwarded message: its first title given (a file name, a subject),
    else "message", a path's slashes made dashes, ``.eml`` added where it lacks it."""
    title = next((t.strip() for t in titles if t and t.strip()), "message")
    title = title.replace("/", "-").replace("\\", "-")
    return title if title.lower().endswith(".eml") else f"{title}.eml"


# the header lines a mail client writes into a reply's or a forward's body, under Outlook's
# "-----Original Message-----" or Gmail's "---------- Forwarded message ---------": English
# names and the commonest German, French, Spanish and Italian ones
_FIELD = re.compile(r"[ \t]*(?:from|sent|date|to|cc|bcc|subject|reply-to|importance|von|gesendet|"
                    r"an|betreff|datum|de|envoy[ée]|[àa]|objet|para|asunto|enviado|fecha|da|"
                    r"inviato|oggetto)[ \t]*:", re.IGNORECASE)
_RULE = re.compile(r"[ \t]*(?:-{3,}|_{10,})")  # a separator line: dashes or Outlook's rule
_SUBJECT = re.compile(r"[ \t]*(?:subject|betreff|objet|asunto|oggetto)[ \t]*:", re.IGNORECASE)


# the line above a forward's fields that names its sender (Lotus Notes: '"Buckner, Buck"
# <buck@x.example> on 10/12/2000 01:12:21 PM'), or says who wrote it
_SENDER = re.compile(r".*(?:@|\bwrote:\s*$|\b\d{1,2}:\d\d(?::\d\d)?\s*(?:[AaPp][Mm])?\s*$)")


def _drop_rule_above(out: list[str]) -> None:
    """Drops the separator line above a run of quoted header fields (Outlook's "-----Original
    Message-----", Lotus Notes' "----- Forwarded by Phillip K Allen/HOU/ECT on 05/14/2001
    04:39 PM -----") with the blank lines and the one sender line between them."""
    k = len(out)
    while k and not out[k - 1].strip():
        k -= 1
    if k and not _RULE.match(out[k - 1]) and _SENDER.match(out[k - 1]):
        k -= 1
        while k and not out[k - 1].strip():
            k -= 1
    if k and _RULE.match(out[k - 1]):
        del out[k - 1:]


def fields_apart(text: str) -> str:
    """``text`` with each run of two or more header lines that a reply or a forward quotes
    ("From: ...", "Sent: ...", a wrapped value's indented lines with its own) and the
    separator line above it read as the quoted message is read: its subject a paragraph of
    its own, as the message's own subject is, its other fields left out, as the message's own
    are (they are no prose). Read as one block, the fields ran into each other: a name took the
    next line's field name ("John\\nCc"), and relations joined the quoted sender to the quoted
    text."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and (_FIELD.match(lines[j]) or (
                j > i and lines[j][:1] in " \t" and lines[j].strip())):
            j += 1
        fields = [k for k in range(i, j) if _FIELD.match(lines[k])]
        if len(fields) < 2:
            out.append(lines[i])
            i += 1
            continue
        _drop_rule_above(out)
        subject = [_SUBJECT.sub("", lines[k], count=1).strip() for k in fields
                   if _SUBJECT.match(lines[k])]
        if subject and subject[0]:
            if out and out[-1].strip():
                out.append("")
            out.append(subject[0])
            if j < len(lines) and lines[j].strip():
                out.append("")
        elif out and not out[-1].strip() and j < len(lines) and not lines[j].strip():
            j += 1  # one blank line where the block was, not two
        i = j
    return "\n".join(out)


def unquoted(text: str) -> str:
    """``text`` with the quote markers ("> ", ">> ") off its lines, and a blank line where the
    quoting depth changes between two lines of text."""
    lines: list[str] = []
    depth_before = 0
    for line in text.split("\n"):
        marker = _QUOTE.match(line)
        depth = marker.group(1).count(">") if marker else 0
        rest = line[marker.end():] if marker else line
        if rest.strip():
            if depth != depth_before and lines and lines[-1].strip():
                lines.append("")
            depth_before = depth
        lines.append(rest)
    return "\n".join(lines)


class MailInput(AttachingInput):
    """An e-mail message (``.eml``): one document, its subject and body as a mail client shows
    them (``read_message``), its headers as metadata; before it, its attachments, each a
    document of its own format (``kgx.batch.archives.attached``)."""

    name = "email"
    suffixes = (".eml",)
    files = staticmethod(attachments)

    @classmethod
    def document(cls, data: bytes, where: str, *, encoding: str | None = None
                 ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        try:
            text, meta = read_message(data, encoding)
        except (email.errors.MessageError, ValueError, LookupError) as e:
            return None, None, f"{where}: {e}"
        return text, meta or None, None


def apple_message(data: bytes) -> bytes:
    """The message in an Apple Mail ``.emlx`` file: its first line is the message's length in
    bytes, then comes the message, then a property list (flags, dates) that is no part of it.
    MailError when the first line is no length."""
    first, _, rest = data.partition(b"\n")
    if not first.strip().isdigit():
        raise MailError("not an Apple Mail message (.emlx): its first line is not the "
                        "message's length")
    return rest[:int(first)]


class EmlxInput(MailInput):
    """An Apple Mail message (``.emlx``, ``.partial.emlx``: Mail's own store, one file a
    message): read as an ``.eml`` file, from the message it wraps (``apple_message``)."""

    name = "emlx"
    suffixes = (".emlx",)

    @staticmethod
    def files(data: bytes) -> list[tuple[str, bytes]]:
        return attachments(apple_message(data))

    @classmethod
    def document(cls, data: bytes, where: str, *, encoding: str | None = None
                 ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        try:
            message = apple_message(data)
        except MailError as e:
            return None, None, f"{where}: {e}"
        return MailInput.document(message, where, encoding=encoding)


def _messages(lines: Iterable[bytes | None]) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` of each message of an mbox: a "From " line opening the file,
    following a blank line or reading as a postmark (sender and date: exporters that leave no
    blank line) starts one; ">From " lines inside lose one ">" (mboxrd's escape). A message
    over the limit (``limits.document_bytes()``) is ``(line number, None)``: its lines are let
    go."""
    start, blank, size, limit = 0, True, 0, limits.document_bytes()
    lines_of: list[bytes] | None = []
    for number, line in enumerate(lines, 1):
        if line is not None and line.startswith(b"From ") and (blank or POSTMARK.match(line)):
            if start:
                yield start, None if lines_of is None else b"".join(lines_of)
            start, lines_of, size = number, [], 0
        elif start:
            size += limit + 1 if line is None else len(line)
            if line is None or size > limit:
                lines_of = None
            elif lines_of is not None:
                lines_of.append(line[1:] if line.lstrip(b">").startswith(b"From ")
                                and line.startswith(b">") else line)
        elif line is None or line.strip():
            raise ValueError(f"line {number} is not a \"From \" line: not an mbox file")
        blank = line is not None and not line.strip()
    if start:
        yield start, None if lines_of is None else b"".join(lines_of)


class MboxInput(InputFormat):
    """A mailbox (``.mbox``): one document per message, read as ``MailInput`` reads an
    ``.eml`` file; its id the Message-ID, else ``<file>:<n>``."""

    name = "mbox"
    suffixes = (".mbox",)

    @classmethod
    def read(cls, path: Path, root: Path | None, *, id_field: str = "id",
             text_field: str = "text", encoding: str | None = None) -> Iterator[Entry]:
        where, rel, fh = open_many(path, root)
        if isinstance(fh, Entry):
            yield fh
            return
        n = 0
        with fh:
            try:
                for n, (line, data) in enumerate(_messages(limits.lines_within(fh)), 1):
                    if data is None:
                        yield Entry(f"{rel}:{n}", where, line, sha256(b""), status="error",
                                    error=f"{where}:{line}: "
                                          f"{limits.over_limit('the message holds')}")
                    else:
                        yield from cls._entries(data, f"{rel}:{n}", where, line, id_field,
                                                text_field, encoding)
            except (OSError, EOFError, zlib.error, ValueError) as e:
                error = (f"{where}: unreadable after message {n} ({e}); the {n} messages "
                         "before it were kept") if n else f"{where}: {e}"
                yield Entry(f"{rel}:{n + 1}", where, None, sha256(b""), status="error",
                            error=error)

    @staticmethod
    def _entries(data: bytes, loc: str, where: str, line: int, id_field: str,
                 text_field: str, encoding: str | None) -> Iterator[Entry]:
        text, meta, problem = MailInput.guarded_document(data, f"{where}:{line}", encoding)
        message_id = (meta or {}).get("message-id", "").strip("<> ")
        doc_id = message_id or loc
        entry = (Entry(doc_id, where, line, sha256(data), status="error", error=problem, loc=loc)
                 if text is None else
                 Entry(doc_id, where, line, sha256(data), text=text, meta=meta, loc=loc,
                       status="ok" if text.strip() else "skipped"))
        yield from attachments_of(entry, data, attachments, id_field, text_field, encoding)
        yield entry  # after its attachments, as a message file's

    @classmethod
    def count(cls, path: Path) -> int | None:
        """Its messages and their attachments of a readable format."""
        try:
            with open_input(path) as fh:
                return sum(1 + readable(attachments, data) if data is not None else 1
                           for _, data in _messages(limits.lines_within(fh)))
        except (OSError, EOFError, zlib.error, ValueError):
            return None
