#!/usr/bin/env python3
"""Draws the web player's PNG icons (192 and 512 px) as src/web/assets/icon.svg shows them:
a violet rounded square with four white bars. Pure Python (zlib), so it needs nothing installed.
Usage: scripts/make-icons.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png import encode  # noqa: E402

ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src", "web", "assets")
BARS = [(112, 216, 80), (184, 160, 192), (256, 112, 288), (328, 184, 144)]  # x, y, height on 512; width 40


def inside_round_rect(x, y, x0, y0, w, h, r):
    cx = min(max(x, x0 + r), x0 + w - r)
    cy = min(max(y, y0 + r), y0 + h - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def pixel(x, y, maskable):
    """RGBA at (x, y) in 512-unit space."""
    if not maskable and not inside_round_rect(x, y, 0, 0, 512, 512, 112):
        return (0, 0, 0, 0)
    for bx, by, bh in BARS:
        if inside_round_rect(x, y, bx, by, 40, bh, 20):
            return (255, 255, 255, 255)
    t = (x + y) / 1024
    return (int(0x7a + (0x3d - 0x7a) * t), int(0x5c + (0x1f - 0x5c) * t), int(0xff + (0xc2 - 0xff) * t), 255)


def png(size, maskable=False):
    scale = 512 / size
    return encode(size, lambda x, y: pixel(x * scale, y * scale, maskable))


for size in (192, 512):
    with open(os.path.join(ASSETS, f"icon-{size}.png"), "wb") as f:
        f.write(png(size))
with open(os.path.join(ASSETS, "icon-maskable-512.png"), "wb") as f:
    f.write(png(512, maskable=True))
