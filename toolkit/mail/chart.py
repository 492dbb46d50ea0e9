"""A small bar chart as PNG bytes, for the digest's denial trend.

Hand-written on purpose: the chart is twelve bars with a number above each and a month under
it, and drawing that with zlib + struct (the PNG format is a zlib stream of scanlines) keeps
matplotlib or Pillow (tens of MB, seconds of import time per Excel click) out of the toolkit.
The 3×5 pixel font covers only what the chart prints: digits and month abbreviations.
"""

from __future__ import annotations

import struct
import zlib

# 3x5 glyphs, rows top to bottom, "#" = ink.
_FONT = {
    "0": ["###", "#.#", "#.#", "#.#", "###"], "1": [".#.", "##.", ".#.", ".#.", "###"],
    "2": ["###", "..#", "###", "#..", "###"], "3": ["###", "..#", ".##", "..#", "###"],
    "4": ["#.#", "#.#", "###", "..#", "..#"], "5": ["###", "#..", "###", "..#", "###"],
    "6": ["###", "#..", "###", "#.#", "###"], "7": ["###", "..#", ".#.", ".#.", ".#."],
    "8": ["###", "#.#", "###", "#.#", "###"], "9": ["###", "#.#", "###", "..#", "###"],
    "A": [".#.", "#.#", "###", "#.#", "#.#"], "B": ["##.", "#.#", "##.", "#.#", "##."],
    "C": [".##", "#..", "#..", "#..", ".##"], "D": ["##.", "#.#", "#.#", "#.#", "##."],
    "E": ["###", "#..", "##.", "#..", "###"], "F": ["###", "#..", "##.", "#..", "#.."],
    "G": [".##", "#..", "#.#", "#.#", ".##"], "J": ["..#", "..#", "..#", "#.#", ".#."],
    "L": ["#..", "#..", "#..", "#..", "###"], "M": ["#.#", "###", "###", "#.#", "#.#"],
    "N": ["##.", "#.#", "#.#", "#.#", "#.#"], "O": [".#.", "#.#", "#.#", "#.#", ".#."],
    "P": ["##.", "#.#", "##.", "#..", "#.."], "R": ["##.", "#.#", "##.", "#.#", "#.#"],
    "S": [".##", "#..", ".#.", "..#", "##."], "T": ["###", ".#.", ".#.", ".#.", ".#."],
    "U": ["#.#", "#.#", "#.#", "#.#", "###"], "V": ["#.#", "#.#", "#.#", "#.#", ".#."],
    "Y": ["#.#", "#.#", ".#.", ".#.", ".#."], " ": ["...", "...", "...", "...", "..."],
}

WHITE, INK, BAR, HIGHLIGHT, AXIS = (255, 255, 255), (60, 60, 60), (120, 160, 205), (200, 70, 60), (170, 170, 170)


class _Canvas:
    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.rows = [bytearray(bytes(WHITE) * width) for _ in range(height)]

    def rect(self, x0: int, y0: int, x1: int, y1: int, color) -> None:
        x0, x1 = max(0, x0), min(self.width, x1)
        for y in range(max(0, y0), min(self.height, y1)):
            self.rows[y][x0 * 3:x1 * 3] = bytes(color) * (x1 - x0)

    def text(self, x: int, y: int, text: str, color=INK, scale: int = 2) -> None:
        for ch in text.upper():
            glyph = _FONT.get(ch, _FONT[" "])
            for r, line in enumerate(glyph):
                for c, px in enumerate(line):
                    if px == "#":
                        self.rect(x + c * scale, y + r * scale, x + (c + 1) * scale, y + (r + 1) * scale, color)
            x += 4 * scale

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(row) for row in self.rows)  # filter type 0 per scanline

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def text_width(text: str, scale: int = 2) -> int:
    return len(text) * 4 * scale - scale


def bar_chart(labels: list[str], values: list[int], *, width: int = 560, height: int = 200,
              highlight_last: bool = True) -> bytes:
    """Bars with their value above and their label below; the last bar (this month) in red."""
    canvas = _Canvas(width, height)
    top, bottom, left = 22, height - 24, 10
    n = max(len(values), 1)
    slot = (width - 2 * left) // n
    peak = max(values, default=0) or 1
    canvas.rect(left, bottom, width - left, bottom + 1, AXIS)
    for i, (label, value) in enumerate(zip(labels, values)):
        x0 = left + i * slot + slot // 6
        x1 = left + (i + 1) * slot - slot // 6
        h = round((bottom - top) * value / peak)
        color = HIGHLIGHT if highlight_last and i == len(values) - 1 else BAR
        canvas.rect(x0, bottom - h, x1, bottom, color)
        centre = (x0 + x1) // 2
        number = str(value)
        canvas.text(centre - text_width(number) // 2, bottom - h - 14, number)
        canvas.text(centre - text_width(label) // 2, bottom + 8, label)
    return canvas.png()
