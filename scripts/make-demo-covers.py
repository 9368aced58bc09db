#!/usr/bin/env python3
"""Draws the album covers of the demo library (cover.png beside the tracks, as many real
libraries keep them), so the web player shows artwork on a fresh machine. Ours, procedural.
Usage: scripts/make-demo-covers.py"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png import encode  # noqa: E402

LIBRARY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo", "library")
SIZE = 240


def mix(a, b, t):
    return tuple(int(x + (y - x) * max(0.0, min(1.0, t))) for x, y in zip(a, b)) + (255,)


def first_light(x, y):
    """A sun rising over a dark hill, in a dawn sky."""
    if (x - 120) ** 2 + (y - 150) ** 2 < 42 ** 2 and y < 170:
        return (255, 214, 120, 255)
    if y > 170 + 12 * math.sin(x / 30):
        return (40, 30, 70, 255)
    return mix((70, 60, 160), (255, 140, 110), y / 170)


def retro_circuits(x, y):
    """Green circuit traces on a dark board."""
    on_trace = (int(x) % 40 < 4 and int(y // 40) % 2 == 0) or (int(y) % 40 < 4 and int(x // 40) % 3 != 1)
    pad = (int(x) % 40 - 20) ** 2 + (int(y) % 40 - 20) ** 2 < 36
    return (120, 255, 140, 255) if on_trace or pad else mix((10, 40, 30), (20, 70, 50), (x + y) / 480)


def eclat(x, y):
    """Concentric rings, like a splash."""
    r = math.hypot(x - 120, y - 120)
    return mix((250, 230, 200), (200, 60, 90), 0.5 + 0.5 * math.sin(r / 9))


COVERS = {
    "Aurora Sines/First Light": first_light,
    "The Square Waves/Retro Circuits": retro_circuits,
    "Zoë Lémieux/Éclat": eclat,
}

for folder, draw in COVERS.items():
    with open(os.path.join(LIBRARY, folder, "cover.png"), "wb") as f:
        f.write(encode(SIZE, draw))
