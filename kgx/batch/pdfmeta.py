"""A PDF's Info dictionary as a document's metadata: title, author, subject and dates (ISO
8601), whatever way the writer spelt them."""

from __future__ import annotations

import re
from typing import Any

_INFO = {"Title": "title", "Author": "author", "Subject": "subject",
         "CreationDate": "created", "ModDate": "modified"}
# "D:YYYYMMDDHHmmSS" and its zone: +01'00', Z, and LibreOffice's Z' or Acrobat's Z00'00'
_DATE = re.compile(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
                   r"(?:(Z)(?:'|00'?(?:00'?)?)?|([+-])(\d{2})'?(\d{2})?'?)?")


def document_meta(document: Any) -> dict[str, str]:
    """Title, author, subject and dates (ISO 8601) of a PDF's Info dictionaries."""
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    meta: dict[str, str] = {}
    for info in document.info:
        for key, field in _INFO.items():
            value = resolve1(info.get(key))
            if isinstance(value, bytes):
                value = decode_text(value)
            if isinstance(value, str) and value.strip():
                value = " ".join(value.replace("\x00", "").split())
                meta[field] = pdf_date(value) if key.endswith("Date") else value
    return meta


def pdf_date(text: str) -> str:
    """A PDF date ("D:20260102153000+01'00'") as ISO 8601 ("2026-01-02T15:30:00+01:00"); text
    that is not one as it is."""
    m = _DATE.fullmatch(text.strip())
    if not m:
        return text
    year, month, day, hour, minute, second, zulu, sign, tz_h, tz_m = m.groups()
    out = "-".join(p for p in (year, month, day) if p)
    if hour and day:
        out += f"T{hour}:{minute or '00'}:{second or '00'}"
        if zulu:
            out += "Z"
        elif sign:
            out += f"{sign}{tz_h}:{tz_m or '00'}"
    return out
