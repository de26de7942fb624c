"""What the chair is told about their plan when they publish it (round_steps.py's plan verbs)."""

from __future__ import annotations

from ..cards import Notice
from ..cards.build import count
from ..rounds.summary import RoundSummary
from .model import Plan, Round


def unplanned(plan: dict[int, Plan], summary: RoundSummary) -> list[str]:
    """The priorities with either box empty, in order, as "5. Risk management"."""
    found = []
    for p in summary.priorities:
        element = p.summary.element
        saved = plan.get(element.number) or Plan()
        if not saved.actions.strip() or not saved.progress.strip():
            found.append(f"{element.number}. {element.title}")
    return found


def confirm_notice(empty: list[str]) -> Notice:
    """Publishing with priorities not yet planned: asked first, nothing saved or published."""
    names = "; ".join(empty[:4]) + (f"; and {len(empty) - 4} more" if len(empty) > 4 else "")
    return Notice(
        f"{count(len(empty), 'priority has', 'priorities have')} no plan yet ({names}): "
        f'published now, {"it shows" if len(empty) == 1 else "they show"} "Not yet agreed" '
        "in the channel. Publish anyway, or fill them in first. Nothing was published or saved "
        "yet.",
        "warning",
    )


def saved_notice(rnd: Round, publish: bool, saved: bool | None) -> Notice:
    """After the plan was saved (or not: changed meanwhile) and perhaps published."""
    if saved is None:
        return Notice(
            "These priorities were changed since this card was sent (perhaps on another "
            "device), so nothing was saved. Here they are as they are now.",
            "warning",
        )
    if not publish:
        return Notice("Draft saved.")
    if saved and rnd.published:
        return Notice(
            "Published again: the priorities already in the board's channel are brought up to "
            "date with this version, rather than posted a second time."
        )
    if saved:
        return Notice(
            "Published to the board's channel. It is on its way, and appears there as soon as "
            "Teams takes it."
        )
    return Notice(
        "Saved, but I'm no longer in the board's team, so nothing was posted to its channel.",
        "warning",
    )
