"""The board paper: what it says, that it escapes what people typed, and that Chromium prints it."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from dialogs.boards.model import Board, Plan, Round
from dialogs.boards.papers import paper_html, ratings_csv
from dialogs.rounds import Response, RoundSettings, RoundSummary, summarise
from dialogs.state import Answer
from frameworks import load_all

FRAMEWORK = load_all()["cst-trust-governance"]
BOARD = Board("t", "b", "Oak <Learning> Trust board", "https://x/", "c", "2026-11-01T00:00:00Z")


def sample(seed: int = 3, trustees: int = 7) -> tuple[Round, RoundSummary]:
    rng = random.Random(seed)
    responses = []
    for i in range(trustees):
        answers = {
            n: Answer(
                rng.choice(("R", "AR", "AG", "G")),
                f"Note {i}/{n}: minutes show few questions on <script>alert(1)</script> & risk.",
                "2026-11-20T10:00:00Z",
            )
            for n in range(1, 17)
        }
        responses.append(Response(f"k{i}", f"Trustee Name{i}", answers, True))
    summary = summarise(FRAMEWORK, range(1, 17), responses, trustees + 1, RoundSettings(True))
    first = summary.priorities[0].summary.element.number if summary.priorities else 1
    rnd = Round(
        id="0123456789ab",
        framework=FRAMEWORK.id,
        version=FRAMEWORK.version,
        elements=tuple(range(1, 17)),
        deadline="2026-12-05T23:59:59Z",
        attributed=True,
        min_responses=3,
        message="",
        status="closed",
        opened="2026-11-20T00:00:00Z",
        opened_by="k",
        invited=(),
        closed="2026-12-01T10:00:00Z",
        plan={first: Plan("An external review of risk by March.", "A risk register each term.")},
        published="2026-12-02T10:00:00Z",
    )
    return rnd, summary


def test_the_paper_holds_the_heat_map_priorities_and_agreed_plan_and_names_nobody() -> None:
    rnd, summary = sample()
    html = paper_html(BOARD, rnd, summary)
    assert "Board self-assessment: Oak &lt;Learning&gt; Trust board" in html
    assert "Response rate: 7 of 8 trustees (88%)." in html
    for element in FRAMEWORK.elements:
        assert f"{element.number}. {element.title}" in html.replace("&#39;", "'")
    assert "An external review of risk by March." in html
    assert "Agreed by the chair on 2 December 2026." in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Name0" not in html  # the round is attributed; a paper still names nobody


def test_the_csv_has_one_row_per_rating_of_shown_elements_only() -> None:
    rnd, summary = sample(trustees=2)  # below the minimum of 3: nothing shown
    assert ratings_csv(rnd, summary, [(1, "R"), (2, "G")]).strip().splitlines() == [
        "round,framework,element,title,rating,rating_name"
    ]
    rnd, summary = sample()
    rows = ratings_csv(rnd, summary, [(1, "R"), (1, "G"), (3, "AR")]).strip().splitlines()
    assert rows[1:] == [
        f"0123456789ab,{FRAMEWORK.id},1,{FRAMEWORK.element(1).title},R,Red",
        f"0123456789ab,{FRAMEWORK.id},1,{FRAMEWORK.element(1).title},G,Green",
        f"0123456789ab,{FRAMEWORK.id},3,{FRAMEWORK.element(3).title},AR,Amber Red",
    ]


def test_the_paper_draws_each_rating_as_the_cards_do() -> None:
    """One scheme in every view: the paper's cells take the cards' fill, letter colour and
    weight (dialogs/cards/scheme.py), and the letters are always in the cell."""
    rnd, summary = sample()
    html = paper_html(BOARD, rnd, summary)
    assert ".R { background: #FDE7E9; color: #A4262C; font-weight: 700; }" in html
    assert ".AR { background: #FFF4CE; color: #242424; font-weight: 700; }" in html
    assert ".AG { background: #FFF4CE; color: #0B5A08; font-weight: 400; }" in html
    assert ".G { background: #DFF6DD; color: #242424; font-weight: 400; }" in html
    for code in ("R", "AR", "AG", "G"):
        if f'class="code {code}"' in html:
            assert f'<td class="code {code}">{code}</td>' in html
    assert "white-space: nowrap" in html  # the letters never wrap


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_chromium_prints_the_paper_to_pdf(tmp_path: Path) -> None:
    rnd, summary = sample()
    page = tmp_path / "paper.html"
    page.write_text(paper_html(BOARD, rnd, summary), encoding="utf-8")
    pdf = tmp_path / "paper.pdf"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 2  # A4, several pages


def test_the_paper_has_the_round_for_the_minutes_and_names_nobody() -> None:
    rnd, summary = sample()
    html = paper_html(BOARD, rnd, summary)
    assert "<h2>For the minutes</h2>" in html
    assert "Seven of the eight trustees invited completed it (88%)." in html
    assert "The draft priorities for improvement are" in html
    minutes = html.split("<h2>For the minutes</h2>", 1)[1].split("<h2>", 1)[0]
    assert "Name" not in minutes and "Note " not in minutes
