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


def main() -> None:
    args = arguments(__doc__).parse_args()

    from kgx.batch.mail import read_message
    from kgx.corpus.documents import wrap_text

    for model, (nlp, examples) in zip(args.model, pipelines(args), strict=True):
        plain, mails, read, gold = [], [], [], []
        for i, eg in enumerate(examples):
            ref = eg.reference
            sents = list(ref.sents)
            half = sents[max(1, len(sents) // 2)].start_char if len(sents) > 1 else len(ref.text)
            first, second = ref.text[:half].rstrip(), ref.text[half:]
            quoted = wrap_text(second, 72)
            head = f"Document {i}\n\n"
            middle = f"\n\n{REPLY}\n\n"
            expected = head + first + middle + quoted if second else head + first
            mails.append(message(i, first, quoted) if second else message(i, first, ""))
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

            plain.append(ref.text)
            gold.append([(ents, rels),
                         ({(move(s), label) for s, label in ents},
                          {(move(hs), hl, move(ts), tl, label)
                           for hs, hl, ts, tl, label in rels})])
        soft = sum(m.count(b"=\n") for m in mails)
        print(f"model: {model}  data: {args.data}  documents of {args.documents}: "
              f"{len(examples)} messages, {soft} soft line breaks")
        raw = [m.decode("utf-8") for m in mails]
        compared(nlp, [("the records as plain text", plain, 0),
                       ("the messages read as mail (now)", read, 1),
                       ("the messages' bytes read as text (before)", raw, None)], plain, gold)
        reading_cost("the messages", read_message, mails)


if __name__ == "__main__":
    main()
