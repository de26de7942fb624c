"""`./scripts/playground answer` writes trustees' evidence that reads like a board's: varied by
trustee and by answer, each note backing the rating it comes with (no Node.js needed)."""

from __future__ import annotations

from itertools import pairwise

from tests.support.playground import DEFAULT_RATINGS, EVIDENCE, evidence_for

MEMBERS = ("Adele Vance", "Alex Wilber", "Diego Siciliani", "Grady Archie", "Isaiah Langer")


def test_no_two_trustees_write_the_same_evidence_and_none_repeats_itself() -> None:
    written = {}
    for index, member in enumerate(MEMBERS):
        turn = index % len(DEFAULT_RATINGS)
        codes = [*DEFAULT_RATINGS[turn:], *DEFAULT_RATINGS[:turn]] * 3
        written[member] = [evidence_for(member, n, code) for n, code in enumerate(codes[:16])]
    every = [note for notes in written.values() for note in notes]
    assert len(set(every)) >= 15  # most of the bank is used across a board
    sequences = {tuple(notes) for notes in written.values()}
    assert len(sequences) == len(MEMBERS)
    for notes in written.values():  # one trustee's consecutive answers never say the same
        assert all(a != b for a, b in pairwise(notes))
    assert not any("machine" in n.lower() or "{" in n for n in every)


def test_each_note_backs_its_rating() -> None:
    for code, notes in EVIDENCE.items():
        for n in range(10):
            assert evidence_for("Adele Vance", n, code) in notes
