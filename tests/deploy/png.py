"""Reads a PNG into RGBA pixels with the standard library (zlib), for checking the app icons.

Handles what a designer's tool or Pillow might write for an icon: 8-bit greyscale, grey with
alpha, RGB, RGBA and palette images (with tRNS transparency), every scanline filter, no
interlacing. Anything else is refused with a reason rather than misread.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel


class PngError(ValueError):
    """Not a PNG this reader understands."""


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    colour_type: int
    pixels: list[list[tuple[int, int, int, int]]]  # rows of (r, g, b, a)
    transparent_palette: bool = False  # a palette image with a tRNS chunk

    @property
    def has_alpha_channel(self) -> bool:
        return self.colour_type in (4, 6) or self.transparent_palette


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(SIGNATURE):
        raise PngError("not a PNG file (bad signature)")
    chunks, at = [], len(SIGNATURE)
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise PngError(f"chunk {kind!r} has a bad CRC")
        chunks.append((kind, body))
        at += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read(data: bytes) -> Image:
    chunks = _chunks(data)
    if not chunks or chunks[0][0] != b"IHDR":
        raise PngError("no IHDR chunk first")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if depth != 8 or colour not in CHANNELS or interlace:
        raise PngError(f"unsupported PNG: bit depth {depth}, colour type {colour}, {interlace=}")
    palette = b"".join(body for kind, body in chunks if kind == b"PLTE")
    trns = b"".join(body for kind, body in chunks if kind == b"tRNS")
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    bpp = CHANNELS[colour]
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise PngError("image data has the wrong length")

    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            up_left = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                line[i] = (line[i] + _paeth(left, up, up_left)) & 0xFF
            elif kind != 0:
                raise PngError(f"unknown filter type {kind} on row {y}")
        rows.append(line)
        previous = line

    def pixel(row: bytearray, x: int) -> tuple[int, int, int, int]:
        s = row[x * bpp : (x + 1) * bpp]
        if colour == 0:
            return (s[0], s[0], s[0], 255)
        if colour == 4:
            return (s[0], s[0], s[0], s[1])
        if colour == 2:
            return (s[0], s[1], s[2], 255)
        if colour == 6:
            return (s[0], s[1], s[2], s[3])
        index = s[0]
        r, g, b = palette[3 * index : 3 * index + 3]
        return (r, g, b, trns[index] if index < len(trns) else 255)

    pixels = [[pixel(row, x) for x in range(width)] for row in rows]
    return Image(width, height, colour, pixels, transparent_palette=colour == 3 and bool(trns))
