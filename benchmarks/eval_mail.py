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

``--outlook`` sends each as the quoted part of an Outlook reply: a line of reply, then
"-----Original Message-----" and its From/Sent/To/Cc/Subject lines, then the records as
Outlook leaves them (unquoted). Its "before" row reads the header lines as one block, as kgx
did until it read them as the quoted message's headers (``kgx.batch.mail.fields_apart``: the
subject a paragraph, the other fields left out); it also counts the entities that cross a
line and the relations that touch what lies between the reply and the records.

``--legacy`` sends them as old mail did: typographic quotes and apostrophes (Word's
AutoCorrect: ’ “ ”, one character for one, so offsets stay) in windows-1252, 8-bit, with no
charset label, so that US-ASCII is what the message says. Its "before" row is what kgx read
until it read unlabelled bytes (``kgx.batch.mail.unlabelled``): a message with any such byte
was an error entry and gave nothing, one without was read as now.
"""

from __future__ import annotations

import os
from email.message import EmailMessage
from typing import Any

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


REPLY_LINE = "Thanks, see below."
NAMES = ["Lopez, Maria", "Smith, John", "Diaz, Ana", "Novak, Peter", "Chen, Wei", "Tanaka, Aiko"]


def outlook(nlp: Any, examples: list) -> None:
    """The ``--outlook`` rows: the records under an Outlook reply's header lines."""
    from kgx.batch.mail import read_message

    plain, now, before, gold, blocks, mails = [], [], [], [], [], []
    for i, eg in enumerate(examples):
        ref = eg.reference
        a, b, c = (NAMES[(i + k) % len(NAMES)] for k in range(3))
        body = (f"{REPLY_LINE}\n\n{b.split(', ')[1]}\n\n -----Original Message-----\n"
                f"From: \t{a}\nSent:\tMonday, May 14, 2001 4:39 PM\nTo:\t{b}\nCc:\t{c}\n"
                f"Subject:\tDocument {i}\n\n{ref.text}\n")
        msg = EmailMessage()
        msg["From"], msg["Subject"] = f"{b.split(', ')[1]} <b@example.org>", f"RE: Document {i}"
        msg.set_content(body, charset="utf-8")
        mails.append(bytes(msg))
        text, _ = read_message(mails[-1])
        old = f"RE: Document {i}\n\n" + body.strip("\n")  # the header lines as one block
        ents, rels = facts(ref, False)
        row = [(ents, rels)]
        for t in (text, old):
            by = t.index(ref.text)
            if t[by:] != ref.text:
                raise SystemExit(f"document {i}: the message's text does not end in its records")
            row.append(({((s + by, e + by), label) for (s, e), label in ents},
                        {((hs + by, he + by), hl, (ts + by, te + by), tl, label)
                         for (hs, he), hl, (ts, te), tl, label in rels}))
        plain.append(ref.text)
        now.append(text)
        before.append(old)
        gold.append(row)
        blocks.append([(t.index(REPLY_LINE) + len(REPLY_LINE), t.index(ref.text))
                       for t in (text, old)])
    print(f"  {len(examples)} Outlook replies")
    for name, texts, k in (("now", now, 0), ("before", before, 1)):
        crossing = touching = relations = 0
        for doc, spans in zip(nlp.pipe(texts), blocks, strict=True):
            start, end = spans[k]
            ents = list(doc.ents)
            crossing += sum(1 for e in ents if "\n" in e.text)
            for r in doc._.kgx_relations:
                relations += 1
                touching += any(start <= ents[r[x]].start_char < end for x in ("head", "tail"))
        print(f"  {name}: {crossing} entities cross a line break, {touching} of {relations} "
              "relations touch what lies between the reply and the records")
    compared(nlp, [("the records as plain text", plain, 0),
                   ("the replies read as mail (now)", now, 1),
                   ("the header lines as one block (before)", before, 2)], plain, gold)
    reading_cost("the messages", read_message, mails)


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--legacy", action="store_true", help="old mail: 8-bit windows-1252")
    ap.add_argument("--outlook", action="store_true", help="Outlook replies' header lines")
    args = ap.parse_args()

    from kgx.batch.mail import read_message
    from kgx.corpus.documents import wrap_text

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        if args.outlook:
            print(f"model: {model}  data: {args.data}  documents of {args.documents}")
            outlook(nlp, examples)
            continue
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
