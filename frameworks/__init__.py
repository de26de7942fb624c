"""CST framework data and its loader."""

from .loader import FrameworkError, load_all, load_framework, parse_framework
from .model import RATING_CODES, Domain, Element, Framework, Line, Question, Rating

__all__ = [
    "RATING_CODES",
    "Domain",
    "Element",
    "Framework",
    "FrameworkError",
    "Line",
    "Question",
    "Rating",
    "load_all",
    "load_framework",
    "parse_framework",
]
