"""Writes tests/fixtures/lyrics/Timed Lyrics.mp3: the mp3 format fixture with timed lyrics in
ID3v2 SYLT frames, written by mutagen 1.48.1 (`python3 -m pip install mutagen`, then
`python3 scripts/make-lyrics-fixture.py`; `bench/catalog.py` makes a venv with it)."""

import shutil
from pathlib import Path

from mutagen.id3 import ID3, SYLT, TIT2

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests/fixtures/formats/Format mp3.mp3"
TARGET = ROOT / "tests/fixtures/lyrics/Timed Lyrics.mp3"

shutil.copyfile(SOURCE, TARGET)
tags = ID3(TARGET)
tags.add(TIT2(encoding=3, text="Timed Lyrics"))
# Lyrics timed in milliseconds (format 2), listed out of order as a tagger may write them.
tags.add(SYLT(encoding=3, lang="deu", format=2, type=1, desc="",
              text=[("Zweite Zeile", 2500), ("Erste Zeile", 800), ("Dritte Zeile", 4100)]))
# Timed in MPEG frames (format 1): not milliseconds, so not read.
tags.add(SYLT(encoding=1, lang="eng", format=1, type=1, desc="frames",
              text=[("Frame-timed", 10)]))
# Timed in milliseconds but not lyrics (type 4: events): not read.
tags.add(SYLT(encoding=3, lang="eng", format=2, type=4, desc="events", text=[("Drop", 3000)]))
tags.save(TARGET, v2_version=4)
