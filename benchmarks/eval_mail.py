"""E-mail: what reading an .eml file as a mail client shows it gains over reading its bytes
(issue 19: documents as users have them)

This script turns the raw documents of K dev records (``kgx evaluate --as-documents K``) into
e-mail messages: headers, a subject, a body in quoted-printable (lines over 76 characters get
soft line breaks, "=" at a line end, inside words) whose first half of the records is one
paragraph as a mail client sends it, then "On Monday, a colleague wrote:" and the second half
hard-wrapped at 72 columns and quoted ("> "), as in a reply. It runs the pipeline on the same
records as plain text, on the messages as kgx reads an .eml file
(``kgx.batch.mail.read_message``), and on the messages' bytes as text (what a user got before,
passing a message as .txt). NER and relations are scored strictly by character offsets where
the text allows it, and for all three by the mentions' text: P/R/F1.

    python benchmarks/eval_mail.py --model training/conll04/model-last \
        --data corpus/conll04/dev.spacy --documents 5

``--legacy`` sends them as old mail did: typographic quotes and apostrophes (Word's
AutoCorrect: ’ “ ”, one character for one, so offsets stay) in windows-1252, 8-bit, with no
charset label, so that US-ASCII is what the message says. Its "before" row is what kgx read
until it read unlabelled bytes (``kgx.batch.mail.unlabelled``): a message with any such byte
was an error entry and gave nothing, one without was read as now.
"""

from __future__ import annotations

import os
from email.message import EmailMessage

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from eval_html import compared  # noqa: E402
from eval_trailing_period import arguments, facts, pipelines, reading_cost  # noqa: E402

REPLY = "On Monday, a colleague wrote:"


def message(i: int, first: str, quoted: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Maria Lopez <maria@example.org>"
    msg["To"] = "team@example.org"
    msg["Subject"] = f"Document {i}"
    msg["Message-ID"] = f"<{i}@example.org>"
    body = first + "\n\n" + REPLY + "\n" + "\n".join("> " + line for line in quoted.split("\n"))
    msg.set_content(body + "\n", charset="utf-8", cte="quoted-printable")
    return bytes(msg)


def typographic(text: str) -> str:
    """``text`` with Word's AutoCorrect quotes: ' as ’, and " as “ and ” in turn."""
    out, opening = [], True
    for ch in text.replace("'", "\u2019"):
        if ch == '"':
            ch, opening = ("\u201c" if opening else "\u201d"), not opening
        out.append(ch)
    return "".join(out)


def legacy(i: int, first: str, quoted: str) -> bytes:
    """The message as old mail sent it: 8-bit windows-1252 bytes and no charset label."""
    body = first + "\n\n" + REPLY + "\n" + "\n".join("> " + line for line in quoted.split("\n"))
    head = (f"From: Maria Lopez <maria@example.org>\nTo: team@example.org\nSubject: Document "
            f"{i}\nMessage-ID: <{i}@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain"
            "\nContent-Transfer-Encoding: 8bit\n\n")
    return head.encode("ascii") + body.encode("cp1252") + b"\n"


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--legacy", action="store_true", help="old mail: 8-bit windows-1252")
    args = ap.parse_args()

    from kgx.batch.mail import read_message
    from kgx.corpus.documents import wrap_text

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        plain, mails, read, gold = [], [], [], []
        for i, eg in enumerate(examples):
            ref = eg.reference
            sents = list(ref.sents)
            half = sents[max(1, len(sents) // 2)].start_char if len(sents) > 1 else len(ref.text)
            whole = typographic(ref.text) if args.legacy else ref.text
            first, second = whole[:half].rstrip(), whole[half:]
            quoted = wrap_text(second, 72)
            head = f"Document {i}\n\n"
            middle = f"\n\n{REPLY}\n\n"
            expected = head + first + middle + quoted if second else head + first
            send = legacy if args.legacy else message
            mails.append(send(i, first, quoted) if second else send(i, first, ""))
            text, _ = read_message(mails[-1])
            if second and text != expected:
                raise SystemExit(f"document {i}: the message's text is not its records")
            read.append(text)
            ents, rels = facts(ref, False)

            second_at = len(head) + len(first) + len(middle)

            def move(span: tuple[int, int], half: int = half, lead: int = len(head),
                     second_at: int = second_at) -> tuple[int, int]:
                by = lead if span[0] < half else second_at - half
                return span[0] + by, span[1] + by

            plain.append(whole)
            gold.append([(ents, rels),
                         ({(move(s), label) for s, label in ents},
                          {(move(hs), hl, move(ts), tl, label)
                           for hs, hl, ts, tl, label in rels})])
        soft = sum(m.count(b"=\n") for m in mails)
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)} messages, {soft} soft line breaks")
        if args.legacy:
            before = [text if mail.isascii() else "" for text, mail in zip(read, mails,
                                                                             strict=True)]
            print(f"  {sum(not m.isascii() for m in mails)} of {len(mails)} messages hold "
                  "8-bit bytes: error entries before")
            compared(nlp, [("the records as plain text", plain, 0),
                           ("the messages read as mail (now)", read, 1),
                           ("the messages as kgx read them before", before, 1)], plain, gold)
        else:
            raw = [m.decode("utf-8") for m in mails]
            compared(nlp, [("the records as plain text", plain, 0),
                           ("the messages read as mail (now)", read, 1),
                           ("the messages' bytes read as text (before)", raw, None)], plain,
                     gold)
        reading_cost("the messages", read_message, mails)


if __name__ == "__main__":
    main()
