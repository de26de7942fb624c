"""One look for each rating, in every view: the cards, the board paper and the CSV's legend.

Teams allows no colours of a card's own, only its six container styles (the fill) and its text
colours, so a rating is told apart by four things at once:

| Rating | Letters | Fill (container style) | Letter colour | Weight |
|---|---|---|---|---|
| Red | R | attention (red) | attention (red) | bold |
| Amber Red | AR | warning (amber) | default (black) | bold |
| Amber Green | AG | warning (amber) | good (green) | regular |
| Green | G | good (green) | default (black) | regular |

- **Never colour alone.** The letters are always there, and one letter or two says an end of the
  scale or its middle; the weaker half (R, AR) is bold, the stronger (AG, G) regular. Those two
  need no colour at all, and between them tell the four apart.
- **Colour as a second cue, for every reader.** Where two ratings share the count of letters or
  the weight, their colours differ in a way the common colour-vision deficiencies keep: next to
  each other on the scale, one has coloured letters and the other black ones, a difference of
  lightness, which protanopia, deuteranopia and tritanopia leave, where red against green or pink
  against amber would not be (tests/cards/test_card_layout.py checks the rendered cards under
  all three simulations: every two ratings differ in at least two of letter count, weight, fill
  and letter colour).
- **Contrast.** Each letter colour is at least WCAG AA (4.5:1) on its fill in Teams' light theme
  (the hex values below, as Teams draws them and as the board paper prints them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Look:
    code: str  # the letters shown in the cell
    name: str
    style: str  # the Adaptive Cards container style: the fill
    color: str  # the Adaptive Cards text colour of the letters
    weight: str  # the Adaptive Cards text weight of the letters
    fill: str  # the fill and letter colours in Teams' light theme, for the board paper
    ink: str

    @property
    def bold(self) -> bool:
        return self.weight == "Bolder"


LOOKS: dict[str | None, Look] = {
    "R": Look("R", "Red", "attention", "Attention", "Bolder", "#FDE7E9", "#A4262C"),
    "AR": Look("AR", "Amber Red", "warning", "Default", "Bolder", "#FFF4CE", "#242424"),
    "AG": Look("AG", "Amber Green", "warning", "Good", "Default", "#FFF4CE", "#0B5A08"),
    "G": Look("G", "Green", "good", "Default", "Default", "#DFF6DD", "#242424"),
    None: Look("—", "Not rated", "emphasis", "Default", "Default", "#F5F5F5", "#242424"),
}
NOT_SHOWN = Look("", "Not shown", "default", "Default", "Default", "#FFFFFF", "#242424")


def look(code: str | None) -> Look:
    return LOOKS.get(code, LOOKS[None])


# The key to the letters, the same words in every view.
LEGEND = "R Red · AR Amber Red · AG Amber Green · G Green"

__all__ = ["LEGEND", "LOOKS", "NOT_SHOWN", "Look", "look"]
