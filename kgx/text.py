"""What ends a line in a document's text, for every part of kgx that reads lines.

The layout component (paragraphs, list items, headings) and the splitter of long documents
must agree on it: the breaks ``str.splitlines`` knows. "\\r\\n" and "\\n", a lone "\\r" (classic
Mac files), vertical tab and form feed (pdftotext's page break), the file, group and record
separators, NEL, and Unicode's line and paragraph separators (text from Word, JavaScript).
U+2029 separates paragraphs: it is a blank line on its own.
"""

from __future__ import annotations

LINE_BREAK = "\r\n|\r(?!\n)|[\n\v\f\x1c-\x1e\x85\u2028\u2029]"
PARAGRAPH_SEPARATOR = "\u2029"
