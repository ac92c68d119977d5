"""Transcripts and subtitles (``.vtt``: WebVTT, what Teams, Zoom and YouTube export; ``.srt``:
SubRip) as the text that was said.

Read as plain text, a transcript is cue numbers and timings around every line, and a sentence
is cut wherever a cue ends. ``transcript_text`` keeps what was said: each cue's lines joined
by spaces (a cue's line breaks are the screen's, not the speaker's), the cues of one speaker
joined into one paragraph, a new paragraph at each change of speaker (WebVTT's ``<v Name>``
voice tag), written ``Name: what they said``. Cue numbers and identifiers, timings and their
settings, ``NOTE``, ``STYLE`` and ``REGION`` blocks, tags (``<i>``, ``<c.loud>``, inline
timestamps) are not text; character references (``&amp;``) are decoded.
"""

from __future__ import annotations

import html
import re

from kgx.batch.inputs import TextInput

_TIMING = re.compile(r"^\s*(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}\s+-->\s+"
                     r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}", re.MULTILINE)
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]*)>")
_TAG = re.compile(r"</?[^>]*>")


def transcript_text(content: str) -> str:
    """What was said in a WebVTT or SubRip file (module docstring)."""
    turns: list[tuple[str | None, list[str]]] = []
    for block in re.split(r"\n[ \t]*\n", content.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line for line in block.split("\n") if line.strip()]
        timing = next((k for k, line in enumerate(lines) if _TIMING.match(line)), None)
        if timing is None:  # the header, a NOTE, STYLE or REGION block, or no cue
            continue
        for line in lines[timing + 1:]:
            voice = _VOICE.search(line)
            speaker = voice.group(1).strip() if voice else None
            said = " ".join(html.unescape(_TAG.sub("", line)).split())
            if not said:
                continue
            if turns and (speaker is None or speaker == turns[-1][0]):
                turns[-1][1].append(said)  # the same speaker goes on (or none is named)
            else:
                turns.append((speaker, [said]))
    return "\n\n".join((f"{speaker}: " if speaker else "") + " ".join(said)
                       for speaker, said in turns)


class TranscriptInput(TextInput):
    """A transcript or subtitles (``.vtt``, ``.srt``): one document, what was said
    (``transcript_text``)."""

    name = "transcript"
    suffixes = (".vtt", ".srt")

    @staticmethod
    def decode(data: bytes, where: str, encoding: str | None = None
               ) -> tuple[str | None, str | None]:
        """As every text file (UTF-8, else the run's ``encoding``); and a transcript: a WebVTT
        header or a cue's timing."""
        content, problem = TextInput.decode(data, where, encoding)
        if content is not None and content.strip() and not content.lstrip().startswith(
                "WEBVTT") and _TIMING.search(content) is None:
            return None, (f"{where}: no cue timing (00:00:01,000 --> 00:00:04,000): not a "
                          "transcript")
        return content, problem

    text_of = staticmethod(transcript_text)
