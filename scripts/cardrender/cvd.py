"""How the rendered cards look to readers with the common colour-vision deficiencies.

    .venv/bin/python scripts/cardrender/cvd.py PICTURE.png [...]

writes PICTURE-protanopia.png, -deuteranopia.png and -tritanopia.png beside each picture, to look
at. tests/cards/test_card_layout.py uses the same functions on the pictures scripts/card-pictures
draws: it reads each rating cell's fill and letters from the picture and checks that no two
ratings look alike under any of the simulations.

The simulations are Machado, Oliveira and Fernandes (2009) at full severity, applied to linear
RGB; colour differences are CIE76 ΔE in CIELAB (D65).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

RGB = tuple[float, float, float]

MATRICES: dict[str, tuple[RGB, RGB, RGB]] = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}
VISIONS = ("normal", *MATRICES)


def _linear(c: float) -> float:
    c /= 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _encoded(c: float) -> float:
    c = min(1.0, max(0.0, c))
    c = 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
    return c * 255


def simulate(rgb: RGB, vision: str) -> RGB:
    """The colour as a reader with `vision` sees it (sRGB, 0-255)."""
    if vision == "normal":
        return rgb
    lin = [_linear(c) for c in rgb]
    row = MATRICES[vision]
    out = [sum(m * c for m, c in zip(r, lin, strict=True)) for r in row]
    return (_encoded(out[0]), _encoded(out[1]), _encoded(out[2]))


def lab(rgb: RGB) -> RGB:
    r, g, b = (_linear(c) for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))


def delta_e(a: RGB, b: RGB) -> float:
    return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b), strict=True)) ** 0.5


def luminance(rgb: RGB) -> float:
    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def hex_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def cell_colours(
    picture: Image.Image, fill: dict[str, float], box: dict[str, float]
) -> tuple[RGB, RGB]:
    """A rating cell's fill (a pixel just inside its box) and its letters (the pixel of the
    letters' box furthest from the fill: the core of a stroke, not its anti-aliased edge)."""
    image = picture.convert("RGB")
    background = image.getpixel((int(fill["x"]) + 3, int(fill["y"]) + 3))
    inside = image.crop(
        (int(box["x"]), int(box["y"]), int(box["x"] + box["w"]) + 1, int(box["y"] + box["h"]) + 1)
    )
    pixels = list(inside.get_flattened_data())
    ink = max(pixels, key=lambda p: delta_e(p, background))
    return tuple(map(float, background)), tuple(map(float, ink))  # type: ignore[return-value]


def simulated_picture(path: Path, vision: str) -> Path:
    image = Image.open(path).convert("RGB")
    cache: dict[tuple[int, int, int], tuple[int, int, int]] = {}

    def pixel(p: tuple[int, int, int]) -> tuple[int, int, int]:
        if p not in cache:
            s = simulate(p, vision)
            cache[p] = (round(s[0]), round(s[1]), round(s[2]))
        return cache[p]

    image.putdata([pixel(p) for p in image.get_flattened_data()])
    out = path.with_name(f"{path.stem}-{vision}{path.suffix}")
    image.save(out)
    return out


def main(paths: list[str]) -> None:
    for name in paths:
        for vision in MATRICES:
            print(simulated_picture(Path(name), vision))


if __name__ == "__main__":
    main(sys.argv[1:])
