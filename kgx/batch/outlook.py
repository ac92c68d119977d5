"""Outlook messages (``.msg``) as documents: the subject and the body, as ``.eml`` files are
read.

E-discovery productions and company archives hold the messages people saved from Outlook, one
``.msg`` file each: an OLE compound file (``kgx.batch.cfb``) of MAPI properties [MS-OXMSG].
Read as bytes one is binary, an error entry. ``msg_text`` reads the root's properties: the
subject, then the body a mail client shows (the plain text body, else the HTML one read by
``kgx.batch.html.html_text``, else the compressed RTF one [MS-OXRTFCP] read by
``kgx.batch.rtf``), quote markers taken off as for ``.eml`` (``kgx.batch.mail.unquoted``).
The subject, sender, recipients, date and message id are the document's metadata, under the
names the ``.eml`` reader gives them. Attached files (each a storage of its own) are documents
of their own format just before the message, as an ``.eml`` file's are (``msg_attachments``,
``kgx.batch.archives.attached``); an embedded message (a forwarded one) is an ``.eml`` file of
its own, with its attachments; OLE objects are not read. Offsets of a message's records count
in this text (``kgx.batch.read_document`` gives it back).
"""

from __future__ import annotations

import codecs
import email.errors
import email.utils
import struct
from email.message import EmailMessage
from typing import Any

from kgx.batch.archives import AttachingInput
from kgx.batch.cfb import ENCRYPTED, CfbError, CompoundFile, Storage, filetime
from kgx.batch.html import html_text
from kgx.batch.mail import eml_name, fields_apart, unquoted
from kgx.batch.office import OfficeError, _OfficeInput
from kgx.batch.rtf import rtf_text

_SUBJECT, _BODY, _HTML, _RTF = 0x0037, 0x1000, 0x1013, 0x1009
_SENDER_NAME, _SENDER_SMTP, _SENDER_ADDRESS = 0x0C1A, 0x5D01, 0x0C1F
_TO, _CC, _MESSAGE_ID = 0x0E04, 0x0E03, 0x1035
_SUBMITTED, _DELIVERED = 0x0039, 0x0E06  # PT_SYSTIME, in the properties stream
_ATTACHMENT, _ATTACH_DATA = "__attach_version1.0_#", 0x3701  # a storage; PidTagAttachDataBinary
_ATTACH_NAMES = (0x3707, 0x3704, 0x3001)  # the long file name, the 8.3 one, the display name
_MAX_DEPTH = 8  # messages embedded in embedded messages: read this deep
_MAX_EMBEDDED = 1000  # embedded messages read from one file at most
_CODEPAGES = (0x3FFD, 0x3FDE)  # PR_MESSAGE_CODEPAGE, PR_INTERNET_CPID (PT_LONG)
#: [MS-OXRTFCP]: the dictionary's first 207 bytes
_PREBUFFER = (b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss "
              b"\\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier"
              b"{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab"
              b"\\tx")


class MsgError(OfficeError):
    """A file that is not a readable Outlook message."""


def _message(data: bytes) -> _Message:
    """The message of the Outlook file in ``data`` (its container's errors as ``CfbError``)."""
    cf = CompoundFile(data)
    if cf.encrypted():
        raise MsgError(ENCRYPTED)
    fixed = cf.stream("__properties_version1.0")
    if fixed is None:
        raise MsgError("no __properties_version1.0 stream inside: not an Outlook message")
    return _Message(cf, fixed)


def msg_attachments(data: bytes) -> list[tuple[str, bytes]]:
    """``(file name, bytes)`` of the files attached to the Outlook message in ``data``."""
    try:
        return _message(data).attachments()
    except CfbError as e:
        raise MsgError(str(e)) from None


def msg_text(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of the Outlook message in ``data`` (subject, blank line, body) and its
    metadata."""
    try:
        message = _message(data)
        body = message.body()
        meta = message.meta()
    except CfbError as e:
        raise MsgError(str(e)) from None
    parts = [meta.get("subject", ""), body]
    return "\n\n".join(part for part in parts if part.strip()), meta


class _Message:
    """A message's properties: the file's root, or an embedded message's storage (whose
    properties stream has a 24-byte header, not 32)."""

    def __init__(self, cf: CompoundFile | Storage, fixed: bytes, header: int = 32,
                 budget: list[int] | None = None) -> None:
        self.cf = cf
        # embedded messages left to read in this file: storages that name each other over
        # and over (a hostile file) cost this many, not a number that grows with each level
        self.budget = budget if budget is not None else [_MAX_EMBEDDED]
        self.fixed: dict[int, bytes] = {}  # property id → its 8 bytes
        for at in range(header, len(fixed) - 15, 16):
            tag = struct.unpack_from("<I", fixed, at)[0]
            self.fixed[tag >> 16] = fixed[at + 8:at + 16]
        page = next((struct.unpack_from("<I", self.fixed[p])[0] for p in _CODEPAGES
                     if p in self.fixed), 1252)
        self.codepage = "utf-8" if page == 65001 else f"cp{page}"

    def string(self, prop: int, within: CompoundFile | Storage | None = None) -> str | None:
        """A string property (of the message, or of a storage ``within`` it): UTF-16
        (``001F``) or in the message's code page (``001E``)."""
        where = within or self.cf
        raw = where.stream(f"__substg1.0_{prop:04X}001F")
        if raw is not None:
            return raw.decode("utf-16-le", "replace").split("\0")[0]
        raw = where.stream(f"__substg1.0_{prop:04X}001E")
        if raw is not None:
            return raw.split(b"\0")[0].decode(self._codec(), "replace")
        return None

    def _codec(self) -> str:
        return _known(self.codepage) or "cp1252"

    def body(self) -> str:
        """The body's text, its reply headers apart (``mail.fields_apart``)."""
        return fields_apart(self._body())

    def _body(self) -> str:
        text = self.string(_BODY)
        if text is not None and text.strip():
            return unquoted(text.replace("\r\n", "\n")).strip("\n")
        html = self.cf.stream(f"__substg1.0_{_HTML:04X}0102")
        if html is None:
            as_text = self.string(_HTML)
            html = None if as_text is None else as_text.encode("utf-8")
        html = html.rstrip(b"\0") if html else html  # a C string's end, kept by some writers
        if html:
            return html_text(html.decode(_html_charset(html) or self._codec(), "replace"))
        rtf = self.cf.stream(f"__substg1.0_{_RTF:04X}0102")
        if rtf:
            return rtf_text(decompressed_rtf(rtf))[0]
        return ""

    def attachments(self, depth: int = 0) -> list[tuple[str, bytes]]:
        """``(file name, bytes)`` of each attached file, in order; an embedded message (a
        forwarded one) as an ``.eml`` file of its headers, body and own attachments, down to
        :data:`_MAX_DEPTH`; an OLE object (no file's bytes) is passed over."""
        found = []
        for name in self.cf.storages():
            store = self.cf.storage(name) if name.lower().startswith(_ATTACHMENT) else None
            if store is None:
                continue
            file = next((n for p in _ATTACH_NAMES if (n := self.string(p, store))), "")
            data = store.stream(f"__substg1.0_{_ATTACH_DATA:04X}0102")
            inner = store.storage(f"__substg1.0_{_ATTACH_DATA:04X}000D")
            fixed = None if inner is None else inner.stream("__properties_version1.0")
            if data is not None:
                found.append((file, data))
            elif inner is not None and fixed is not None and depth < _MAX_DEPTH \
                    and self.budget[0] > 0:
                self.budget[0] -= 1
                embedded = _Message(inner, fixed, header=24, budget=self.budget)
                found.append((eml_name(file, embedded.string(_SUBJECT)),
                              embedded.as_email(depth + 1)))
        return found

    def as_email(self, depth: int) -> bytes:
        """The message as an ``.eml`` file: its metadata as headers, its body as plain text,
        its attachments (``kgx.batch.mail`` reads it as it reads the ``.msg``)."""
        mail = EmailMessage()
        for header, value in self.meta().items():
            try:
                mail[header] = value
            except (ValueError, TypeError, email.errors.HeaderParseError):
                continue  # a header the e-mail package will not write: the text is kept
        mail.set_content(self.body() or "")
        for file, data in self.attachments(depth):
            mail.add_attachment(data, maintype="application", subtype="octet-stream",
                                filename=file)
        return bytes(mail)

    def meta(self) -> dict[str, str]:
        meta: dict[str, Any] = {"subject": self.string(_SUBJECT)}
        name, address = self.string(_SENDER_NAME), self.string(_SENDER_SMTP)
        if not address or "@" not in address:
            address = self.string(_SENDER_ADDRESS)
            address = address if address and "@" in address else None
        meta["from"] = (f"{name} <{address}>" if name else address) if address else name
        meta["to"], meta["cc"] = self.string(_TO), self.string(_CC)
        when = self.fixed.get(_SUBMITTED) or self.fixed.get(_DELIVERED)
        ticks = struct.unpack("<Q", when)[0] if when else 0
        if ticks:
            meta["date"] = email.utils.format_datetime(filetime(ticks))
        meta["message-id"] = self.string(_MESSAGE_ID)
        return {k: " ".join(v.split()) for k, v in meta.items() if v and v.strip()}


def _html_charset(html: bytes) -> str | None:
    """The charset an HTML body declares in its first kilobytes, when Python knows it."""
    head = html[:4096].lower()
    at = head.find(b"charset=")
    if at < 0:
        return None
    name = head[at + 8:at + 48].strip(b"\"' ").split(b'"')[0].split(b";")[0].split(b" ")[0]
    return _known(name.decode("ascii", "replace"))


def _known(codec: str) -> str | None:
    try:
        return codecs.lookup(codec).name
    except LookupError:
        return None


def decompressed_rtf(data: bytes) -> bytes:
    """The RTF of a message's compressed RTF body ([MS-OXRTFCP]: LZ77 over a 4,096-byte ring
    seeded with common RTF; "MELA" marks one stored as it is)."""
    if len(data) < 16:
        raise MsgError("its compressed RTF body is cut short")
    size, raw_size, kind = struct.unpack_from("<III", data)
    if kind == 0x414C454D:  # "MELA": not compressed
        return data[16:16 + raw_size]
    if kind != 0x75465A4C:  # "LZFu"
        raise MsgError("its RTF body is compressed in a way kgx does not know")
    ring = bytearray(4096)
    ring[:len(_PREBUFFER)] = _PREBUFFER
    write = len(_PREBUFFER)
    out = bytearray()
    at, end = 16, min(len(data), 4 + size)
    while at < end:
        control = data[at]
        at += 1
        for bit in range(8):
            if at >= end:
                break
            if control >> bit & 1:
                if at + 1 >= end:
                    return bytes(out)
                token = data[at] << 8 | data[at + 1]
                at += 2
                offset, length = token >> 4, (token & 0xF) + 2
                if offset == write:
                    return bytes(out)
                for k in range(length):
                    byte = ring[(offset + k) % 4096]
                    out.append(byte)
                    ring[write] = byte
                    write = (write + 1) % 4096
            else:
                out.append(data[at])
                ring[write] = data[at]
                write = (write + 1) % 4096
                at += 1
            if len(out) > raw_size + 4096:
                raise MsgError("its compressed RTF body unpacks past its stated size")
    return bytes(out)


class MsgInput(AttachingInput, _OfficeInput):
    """An Outlook message (``.msg``): one document, its subject and body (``msg_text``), its
    sender, recipients, date and message id as metadata; then its attached files, each a
    document of its own format."""

    name = "msg"
    suffixes = (".msg",)

    @staticmethod
    def read_text(data: bytes) -> tuple[str, dict[str, str]]:
        return msg_text(data)

    files = staticmethod(msg_attachments)
