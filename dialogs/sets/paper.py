"""The set's comparison as a printable page, for a member board's papers, reached by a signed
link given only in the 1:1 chat of that board's chair or clerks.

It says what the comparison card says to that board: each member's board rating on the focus
elements as its chair last shared it, and the change since the share before; members named only
if the set shows names, the viewer's own board marked. No evidence, no trustee, no person.
"""

from __future__ import annotations

from datetime import UTC, datetime

from frameworks import Framework

from ..boards.papers import CSS, page
from ..cards.build import day
from .cards import RATING_WORDS, Viewer, member_name
from .compare import Row
from .model import LearningSet


def comparison_html(
    learning_set: LearningSet, framework: Framework, viewer: Viewer, rows: list[Row]
) -> str:
    members = [member_name(learning_set, m, viewer) for m in learning_set.members]
    return page(
        "set_comparison.html.j2",
        title=f"Learning set comparison: {learning_set.name or 'a learning set'}",
        subtitle=f"{framework.title} · {len(members)} member boards",
        named=learning_set.named,
        members=members,
        rows=[
            {
                "title": f"{row.element.number}. {row.element.title}",
                "cells": [
                    {
                        "member": member_name(learning_set, cell.member, viewer),
                        "code": cell.rating or "–",
                        "css": CSS.get(cell.rating or "", "none"),
                        "rating": RATING_WORDS.get(cell.rating or "", "not shared"),
                        "change": cell.change or "",
                    }
                    for cell in row.cells
                ],
            }
            for row in rows
        ],
        prepared=day(datetime.now(UTC).isoformat()),
    )
