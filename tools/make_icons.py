#!/usr/bin/env python3
"""Draws the app icons (a yellow shield with a check mark on the night background) as PNGs.

Run `python3 tools/make_icons.py`; it writes assets/web/icons/icon-192.png and icon-512.png.
Pure standard library, so it runs on any machine with Python 3.
"""
import os, struct, zlib

BG, FG, MARK = (11, 15, 20), (245, 184, 46), (17, 17, 17)

def inside_shield(x, y):
    # Unit square coordinates: a shield with a flat top and a pointed bottom, within the maskable safe zone.
    if not (0.28 <= x <= 0.72 and 0.24 <= y <= 0.80):
        return False
    if y <= 0.55:
        return True
    half = 0.22 * (0.80 - y) / 0.25
    return abs(x - 0.5) <= half

def on_check(x, y):
    # Two strokes of a check mark.
    def near(ax, ay, bx, by, w=0.035):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        px, py = ax + t * dx, ay + t * dy
        return (x - px) ** 2 + (y - py) ** 2 <= w * w
    return near(0.39, 0.50, 0.47, 0.59) or near(0.47, 0.59, 0.62, 0.40)

def png(size, path):
    rows = []
    for j in range(size):
        row = bytearray([0])
        for i in range(size):
            x, y = (i + 0.5) / size, (j + 0.5) / size
            c = BG
            if inside_shield(x, y):
                c = MARK if on_check(x, y) else FG
            row += bytes(c)
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", raw) + chunk(b"IEND", b""))

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "assets", "web", "icons")
    os.makedirs(out, exist_ok=True)
    for s in (192, 512):
        png(s, os.path.join(out, f"icon-{s}.png"))
