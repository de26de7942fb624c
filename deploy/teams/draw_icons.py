"""Draws the Teams app icons, color.png and outline.png, with the standard library only.

    python3 deploy/teams/draw_icons.py      # rewrites both files beside this script

The motif is a small heat map, the picture a board gets at the end of a self-assessment:
- color.png, 192 x 192: a 4 x 4 grid of rounded cells in the four rating colours (Red, Amber
  Red, Amber Green, Green) on the accent colour, the grid within the central 96 x 96 as Teams'
  icon guidance asks, so it survives Teams' own rounding of the corners;
- outline.png, 32 x 32: the same idea in white on a transparent background, as Teams requires
  of an outline icon: a 3 x 3 grid of filled and hollow cells, pixel-aligned (every pixel is
  either white and opaque or fully transparent) with 2 pixels of clear space around it.

The output is deterministic: running it again writes the same bytes.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

ACCENT = (0x1E, 0x3A, 0x5F)  # the manifest's accentColor, #1E3A5F
RATING = {
    "R": (0xE0, 0x5A, 0x4F),
    "AR": (0xF0, 0x91, 0x3A),
    "AG": (0xE8, 0xC5, 0x47),
    "G": (0x4C, 0xB0, 0x7A),
}
HEAT_MAP = [
    ["G", "G", "AG", "G"],
    ["AG", "G", "AR", "AG"],
    ["G", "AR", "R", "AG"],
    ["G", "AG", "AG", "G"],
]
OUTLINE = ["F.F", ".FF", "FF."]  # F: a filled cell, .: a hollow one

Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixels: list[list[Pixel]]) -> bytes:
    """An 8-bit RGBA PNG (colour type 6), each scanline unfiltered."""
    raw = b"".join(b"\x00" + b"".join(bytes(p) for p in row) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _inside_rounded(x: float, y: float, left: int, top: int, size: int, radius: float) -> bool:
    """Whether the point (x, y) is inside the square [left, left + size) with rounded corners."""
    right, bottom = left + size, top + size
    if not (left <= x < right and top <= y < bottom):
        return False
    cx = min(max(x, left + radius), right - radius)
    cy = min(max(y, top + radius), bottom - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def color_icon() -> list[list[Pixel]]:
    size, cell, gap, radius, samples = 192, 21, 4, 4.0, 4
    grid = 4 * cell + 3 * gap  # 96
    origin = (size - grid) // 2  # 48
    cells = [
        (origin + col * (cell + gap), origin + row * (cell + gap), RATING[rating])
        for row, ratings in enumerate(HEAT_MAP)
        for col, rating in enumerate(ratings)
    ]
    rows = []
    for y in range(size):
        row = []
        for x in range(size):
            colour = ACCENT
            for left, top, fill in cells:
                if not (left - 1 <= x <= left + cell and top - 1 <= y <= top + cell):
                    continue
                # Anti-aliased edge: the share of sub-pixel samples inside the rounded cell.
                hits = sum(
                    _inside_rounded(
                        x + (i + 0.5) / samples, y + (j + 0.5) / samples, left, top, cell, radius
                    )
                    for i in range(samples)
                    for j in range(samples)
                )
                share = hits / samples**2
                colour = tuple(
                    round(a * (1 - share) + b * share) for a, b in zip(ACCENT, fill, strict=True)
                )
                break
            row.append((*colour, 255))
        rows.append(row)
    return rows


def outline_icon() -> list[list[Pixel]]:
    size, cell, gap, stroke = 32, 8, 2, 2
    origin = (size - (3 * cell + 2 * gap)) // 2  # 2
    white, clear = (255, 255, 255, 255), (255, 255, 255, 0)
    rows = [[clear] * size for _ in range(size)]
    for r, pattern in enumerate(OUTLINE):
        for c, kind in enumerate(pattern):
            left, top = origin + c * (cell + gap), origin + r * (cell + gap)
            for y in range(top, top + cell):
                for x in range(left, left + cell):
                    edge = min(x - left, y - top, left + cell - 1 - x, top + cell - 1 - y)
                    if kind == "F" or edge < stroke:
                        rows[y][x] = white
    return rows


def main() -> None:
    (HERE / "color.png").write_bytes(png(192, 192, color_icon()))
    (HERE / "outline.png").write_bytes(png(32, 32, outline_icon()))
    print(f"wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")


if __name__ == "__main__":
    main()
