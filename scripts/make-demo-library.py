#!/usr/bin/env python3
"""Builds the demo library shipped in demo/library (run once; the output is committed).

Every track is synthesised here (additive synthesis of short melodies, and one spoken intro by
espeak-ng), so the library is ours to ship: no third-party recordings. ffmpeg encodes and tags.
Needs: python3, ffmpeg, espeak-ng.  Usage: scripts/make-demo-library.py [OUT_DIR]
"""
import math
import os
import struct
import subprocess
import sys
import tempfile
import wave

RATE = 22050
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "demo", "library")

NOTE = {n: i for i, n in enumerate("C C# D D# E F F# G G# A A# B".split())}


def freq(name):
    """'A4' -> 440.0; 'C#5' -> ..."""
    pitch, octave = name[:-1], int(name[-1])
    semis = NOTE[pitch] + 12 * (octave + 1) - 69
    return 440.0 * 2 ** (semis / 12)


def render(melody, bpm, voice, out_wav):
    """melody: list of (note or None, beats). voice: harmonic amplitudes."""
    beat = 60.0 / bpm
    frames = bytearray()
    for note, beats in melody:
        n = int(RATE * beat * beats)
        f = freq(note) if note else 0.0
        for i in range(n):
            t = i / RATE
            env = min(1.0, t / 0.01) * math.exp(-3.0 * t / (beat * beats))
            s = sum(a * math.sin(2 * math.pi * f * (k + 1) * t) for k, a in enumerate(voice)) if f else 0.0
            frames += struct.pack("<h", int(max(-1.0, min(1.0, 0.5 * env * s)) * 32767))
    with wave.open(out_wav, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))


def phrase(notes, beats=1):
    return [(n, beats) for n in notes.split()]


TRACKS = [
    # (artist, album_artist, album, year, genre, track, title, ext, codec args, melody, bpm, voice)
    ("Aurora Sines", None, "First Light", 2024, "Ambient", 1, "Dawn Chorus", "flac", ["-c:a", "flac"],
     phrase("C4 E4 G4 B4 A4 G4 E4 D4", 2) * 2, 70, [1.0, 0.3, 0.1]),
    ("Aurora Sines", None, "First Light", 2024, "Ambient", 2, "Morning Drift", "mp3", ["-c:a", "libmp3lame", "-b:a", "64k"],
     phrase("A3 C4 E4 G4 F4 E4 C4 D4", 2) * 3, 76, [1.0, 0.5, 0.2, 0.1]),
    ("Zoë Lémieux", None, "Éclat", 2023, "Chanson", 1, "Café Noir", "opus", ["-c:a", "libopus", "-b:a", "32k"],
     phrase("D4 F4 A4 D5 C5 A4 F4 E4 D4 A3 D4 F4", 1) * 4, 96, [1.0, 0.6, 0.3]),
    ("Zoë Lémieux", None, "Éclat", 2023, "Chanson", 2, "Bientôt", "ogg", ["-c:a", "libvorbis", "-q:a", "0"],
     phrase("G4 B4 D5 B4 A4 F#4 G4 D4", 1) * 4, 104, [1.0, 0.4]),
    ("The Square Waves", None, "Retro Circuits", 2022, "Chiptune", 1, "Eight Bit Heart", "m4a", ["-c:a", "aac", "-b:a", "64k"],
     phrase("E5 E5 C5 E5 G5 G4 C5 G4 E4 A4 B4 A#4 A4 G4 E5 G5", 0.5) * 6, 132, [1.0, 0.0, 0.33, 0.0, 0.2, 0.0, 0.14]),
    ("The Square Waves", None, "Retro Circuits", 2022, "Chiptune", 2, "Pulse Width", "mp3", ["-c:a", "libmp3lame", "-b:a", "64k"],
     phrase("C5 G4 E4 A4 B4 A4 G#4 A#4 G#4 G4 F4 G4", 0.5) * 5, 120, [1.0, 0.5, 0.33, 0.25, 0.2]),
    ("Beyoncé Tribute Band", "Various Artists", "Demo Sampler", 2025, "Pop", 1, "Halo Tones", "m4a", ["-c:a", "aac", "-b:a", "48k"],
     phrase("E4 G4 A4 B4 A4 G4 E4 D4 E4 G4 A4 G4", 1) * 3, 90, [1.0, 0.4, 0.2]),
    ("Motörhead Strings", "Various Artists", "Demo Sampler", 2025, "Rock", 2, "Åce of Sines", "flac", ["-c:a", "flac"],
     phrase("E3 E3 G3 A3 E3 E3 D3 C3", 0.5) * 4, 140, [1.0, 0.8, 0.6, 0.4, 0.3]),
]


def encode(src, dst, codec, tags):
    meta = []
    for k, v in tags.items():
        if v is not None:
            meta += ["-metadata", f"{k}={v}"]
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", src, "-map_metadata", "-1", *codec, *meta,
                    "-fflags", "+bitexact", "-flags:a", "+bitexact", dst], check=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for (artist, album_artist, album, year, genre, no, title, ext, codec, melody, bpm, voice) in TRACKS:
            folder = os.path.join(OUT, album_artist or artist, album)
            os.makedirs(folder, exist_ok=True)
            wav = os.path.join(tmp, "t.wav")
            render(melody, bpm, voice, wav)
            dst = os.path.join(folder, f"{no:02d} {title}.{ext}")
            encode(wav, dst, codec, {"title": title, "artist": artist, "album_artist": album_artist,
                                     "album": album, "date": year, "genre": genre, "track": no})
            print(dst)
        # A spoken welcome, so the demo has a voice too.
        wav = os.path.join(tmp, "v.wav")
        subprocess.run(["espeak-ng", "-s", "150", "-w", wav,
                        "Welcome to any audio. This is the demo library. Search, play, and seek."], check=True)
        folder = os.path.join(OUT, "anyaudio", "Welcome")
        os.makedirs(folder, exist_ok=True)
        dst = os.path.join(folder, "01 Welcome to anyaudio.mp3")
        encode(wav, dst, ["-c:a", "libmp3lame", "-b:a", "48k"],
               {"title": "Welcome to anyaudio", "artist": "anyaudio", "album": "Welcome", "date": 2026,
                "genre": "Spoken Word", "track": 1})
        print(dst)
    with open(os.path.join(OUT, "Favourites.m3u8"), "w", encoding="utf-8") as m3u:
        m3u.write("#EXTM3U\n#PLAYLIST:Favourites\n")
        for rel in ["Zoë Lémieux/Éclat/01 Café Noir.opus", "The Square Waves/Retro Circuits/01 Eight Bit Heart.m4a",
                    "Aurora Sines/First Light/01 Dawn Chorus.flac", "missing/Not Here.mp3"]:
            m3u.write(rel + "\n")


if __name__ == "__main__":
    main()
