"""Typed text, for hosts where cards render poorly: a small, forgiving command language."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from frameworks import Framework

from .payloads import whole_number

_RATING = re.compile(
    r"^\s*(amber[\s_-]*red|amber[\s_-]*green|red|green|ar|ag|r|g)(?=$|[\s:,.;!–—-])[\s:,.;!–—-]*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_RATING_CODES = {
    "r": "R",
    "red": "R",
    "ar": "AR",
    "amberred": "AR",
    "ag": "AG",
    "ambergreen": "AG",
    "g": "G",
    "green": "G",
}
_GOTO = re.compile(r"^(?:go\s*to|goto|element|show|open|change)?\s*#?([0-9]{1,3})$")
_WORDS = {
    "help": ("help", "?", "hi", "hello", "hey", "menu", "commands", "what can you do"),
    "start": ("start", "begin", "new", "start again", "self-assessment", "self assessment"),
    "resume": ("resume", "continue", "carry on", "unpause"),
    "status": ("status", "progress", "where am i"),
    "review": ("review", "my answers", "answers", "check"),
    "finish": ("finish", "done", "submit", "complete"),
    "back": ("back", "previous", "prev"),
    "skip": ("skip", "next", "later"),
    "pause": ("pause", "stop", "break"),
    "results": ("results", "heat map", "heatmap", "priorities", "my heat map", "summary"),
    "mydata": ("my data", "what do you know about me", "what do you keep", "privacy"),
    "forget": ("forget me", "delete my data", "forget", "delete me"),
}
_FRAMEWORK_STOPWORDS = {"the", "for", "framework", "of", "a", "an", "and", "cst", "start", "begin"}


@dataclass(frozen=True)
class Command:
    verb: str  # one of the engine's verbs, or "unknown"
    framework: str | None = None
    rating: str | None = None
    evidence: str | None = None  # None: keep what is saved
    number: int | None = None


def parse(text: str, frameworks: Sequence[Framework]) -> Command:
    plain = " ".join(text.split()).strip(" .!")
    lowered = plain.lower()
    rating = _RATING.match(text.strip())
    if rating:
        code = _RATING_CODES[re.sub(r"[\s_-]", "", rating.group(1).lower())]
        return Command("rate", rating=code, evidence=rating.group(2).strip() or None)
    goto = _GOTO.match(lowered)
    if goto:
        return Command("goto", number=whole_number(goto.group(1), 0, 999))
    for verb, words in _WORDS.items():
        if lowered in words:
            return Command(verb)
    first, _, rest = lowered.partition(" ")
    if first in ("start", "begin", "new") and rest:
        return Command("start", framework=match_framework(rest, frameworks) or "?")
    return Command("unknown")


def match_framework(words: str, frameworks: Sequence[Framework]) -> str | None:
    """A framework named by its number in the list, its id, or words of its title."""
    words = words.strip().lower()
    try:
        return frameworks[whole_number(words, 1, len(frameworks)) - 1].id
    except ValueError:
        pass  # not its number in the list ("start ²" included): perhaps its name
    wanted = set(re.findall(r"[a-z]+", words)) - _FRAMEWORK_STOPWORDS
    scores = []
    for framework in frameworks:
        if words == framework.id:
            return framework.id
        title = set(re.findall(r"[a-z]+", f"{framework.title} {framework.short_title}".lower()))
        scores.append((len(wanted & title), framework.id))
    scores.sort(reverse=True)
    if scores and scores[0][0] > 0 and (len(scores) == 1 or scores[0][0] > scores[1][0]):
        return scores[0][1]
    return None
