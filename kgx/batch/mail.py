"""An e-mail message (``.eml``) as a document: its subject and the text of its body.

Mail archives (exported mailboxes, the Enron corpus, mailing lists) are raw documents too. As
bytes, a message is headers, MIME parts and a body in quoted-printable or base64 ("Caf=C3=A9",
soft line breaks "=\\n" inside words); read as text, none of it is what its reader saw (issue
19: documents as users have them). ``read_message`` parses it with Python's ``email`` package:
the text is the subject, a blank line, and the body a mail client shows (the text/plain part,
else the text/html one read by ``kgx.batch.html.html_text``), decoded from the charset the
message declares, with the quote markers of a reply ("> ") taken off the lines they open and a
blank line where the quoting starts or ends, so that quoted text reads as the prose it was and
a quoted block is a paragraph of its own. The subject, sender, recipients, date and message id
are the document's metadata. The offsets of a message's records count in this text
(``kgx.batch.read_document`` gives it back); the content hash is the message's bytes.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import re
from typing import Any

from kgx.batch.html import html_text
from kgx.batch.inputs import TextInput

#: the headers kept as a message's metadata
HEADERS = ("subject", "from", "to", "cc", "date", "message-id")
_QUOTE = re.compile(r"[ \t]*((?:>[ \t]?)+)")


class MailError(ValueError):
    """A message whose text cannot be read (an unknown or a wrong charset)."""


def read_message(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the message in ``data`` and its headers (:data:`HEADERS` it has)."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    meta = {name: " ".join(str(msg[name]).split()) for name in HEADERS if msg[name] is not None}
    parts = [meta.get("subject", "")]
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        charset = body.get_content_charset() or "us-ascii"
        try:
            content = body.get_content(errors="strict")
        except LookupError:
            raise MailError(f"its body's charset ({charset}) is unknown") from None
        except UnicodeDecodeError as e:
            raise MailError(f"its body is not valid {charset} (byte 0x{e.object[e.start]:02x} "
                            f"at offset {e.start} of the decoded part)") from None
        content = content.replace("\r\n", "\n")
        parts.append(html_text(content) if body.get_content_subtype() == "html"
                     else unquoted(content).strip("\n"))
    return "\n\n".join(part for part in parts if part.strip()), meta


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


class MailInput(TextInput):
    """An e-mail message (``.eml``): one document, its subject and body as a mail client shows
    them (``read_message``), its headers as metadata."""

    name = "email"
    suffixes = (".eml",)

    @classmethod
    def document(cls, data: bytes, where: str
                 ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        try:
            text, meta = read_message(data)
        except (email.errors.MessageError, ValueError, LookupError) as e:
            return None, None, f"{where}: {e}"
        return text, meta or None, None
