"""kgx.batch.transcripts: a WebVTT (Teams, Zoom, YouTube) or SubRip file is one document, what
was said: no cue numbers, timings, notes or tags; a cue's lines and one speaker's cues joined
into one paragraph, each change of speaker a new one (``Name: ...``)."""

from __future__ import annotations

from kgx.batch.inputs import INPUT_FORMATS
from kgx.batch.reading import read_inputs
from kgx.batch.transcripts import TranscriptInput, transcript_text

TEAMS = """WEBVTT

NOTE exported by a meeting tool, 2026-11-02

STYLE
::cue { color: white }

a1b2c3d4/12-0
00:00:01.000 --> 00:00:04.500 align:start
<v Ana Diaz>Thanks for joining. Wei Chen works for</v>

a1b2c3d4/13-0
00:00:04.500 --> 00:00:07.000
<v Ana Diaz>Globex in Osaka &amp; leads <i>the</i> team.</v>

a1b2c3d4/14-0
00:00:07.200 --> 00:00:09.000
<v Wei Chen><c.loud>Yes,</c> <00:00:08.000>since 2019.</v>

00:01:10.000 --> 00:01:12.000
<v Ana Diaz>Maria Lopez of Acme
joins us from Paris.</v>
"""

SUBRIP = ("\ufeff1\r\n00:00:01,000 --> 00:00:04,000\r\nWei Chen works for Globex\r\n"
          "in Osaka.\r\n\r\n"
          "2\r\n00:00:04,500 --> 00:00:06,000\r\n<i>Ana Diaz lives in Lima.</i>\r\n\r\n"
          "3\r\n00:00:06,000 --> 00:00:07,000\r\n\r\n")


def test_what_was_said_by_whom():
    assert transcript_text(TEAMS) == (
        "Ana Diaz: Thanks for joining. Wei Chen works for Globex in Osaka & leads the team."
        "\n\nWei Chen: Yes, since 2019.\n\nAna Diaz: Maria Lopez of Acme joins us from Paris.")


def test_transcripts_in_a_run(tmp_path):
    assert INPUT_FORMATS["transcript"] is TranscriptInput
    (tmp_path / "meeting.vtt").write_text(TEAMS, encoding="utf-8")
    (tmp_path / "film.SRT").write_bytes(SUBRIP.encode("utf-8"))
    (tmp_path / "notes.srt").write_text("Just some notes, no cues.", encoding="utf-8")
    (tmp_path / "empty.vtt").write_text("WEBVTT\n\nNOTE nothing said\n", encoding="utf-8")
    entries = {e.id: e for e in read_inputs([tmp_path])}
    assert entries["film.SRT"].text == "Wei Chen works for Globex in Osaka. Ana Diaz lives in Lima."
    assert entries["meeting.vtt"].text.startswith("Ana Diaz: Thanks for joining.")
    assert entries["notes.srt"].error == (f"{tmp_path / 'notes.srt'}: no cue timing (00:00:01,000"
                                          " --> 00:00:04,000): not a transcript")
    assert entries["empty.vtt"].status == "skipped"
