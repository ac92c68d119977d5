"""Text for a terminal: the characters a name or a message may hold that a terminal would act on
(escape sequences, bell, bidirectional overrides, line separators) are shown as escapes.

Names, sentences and ids come from documents and from stores: ``\\x1b]0;…`` retitles the window,
``\\x1b[2J`` clears it, U+202E reverses what follows. Every human-readable output of kgx goes
through :func:`printable` (a table cell, a name) or :func:`safe_output` (a whole text, whose
newlines and tabs are kept); JSON output through :func:`safe_json`, which keeps it JSON.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, lone surrogates, and the invisible format characters that change
# how text around them is shown (bidi controls and isolates, zero width space, word joiners,
# BOM, interlinear annotations, line and paragraph separators); ZWJ/ZWNJ (emoji, Indic
# scripts) are kept
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on shown as an escape (``\\x1b``,
    ``\\u202e``, ``\\n``): for one cell, name or value."""
    return _UNSAFE.sub(lambda m: _escape(m.group()), text)


def safe_output(text: str) -> str:
    """A whole text for the terminal: as :func:`printable`, but its newlines and tabs kept."""
    return _UNSAFE.sub(lambda m: m.group() if m.group() in "\n\t" else _escape(m.group()), text)


def safe_json(text: str) -> str:
    """JSON text for the terminal: the characters ``json.dumps(ensure_ascii=False)`` leaves raw
    (DEL, C1 controls, bidi controls, ...) as ``\\uXXXX`` escapes; newlines between values kept,
    so it stays the same JSON."""
    return _UNSAFE.sub(lambda m: m.group() if m.group() in "\n\t " else
                       f"\\u{ord(m.group()):04x}", text)
