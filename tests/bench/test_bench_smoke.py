"""The delivery, summary and footprint benchmarks run end to end at tiny sizes and write the JSON
the README's figures come from. Nothing here is timed: only the shape of the results (and, for
delivery, that nothing was lost or sent twice) is checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import delivery, footprint, opening, summary, turns

pytestmark = pytest.mark.benchmark


def written(path: Path) -> dict:
    data = json.loads(path.read_text())
    assert data["machine"]["python"]
    return data


def test_delivery_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "delivery.json"
    argv = ["--trustees", "12", "--boards", "4", "--tenants", "2", "--processes", "2"]
    delivery.cli([*argv, "--out", str(out)])
    data = written(out)
    assert data["setup"]["trustees"] == 12
    (run,) = data["runs"]
    for key in (
        "time_to_last_delivery_s",
        "send_rate_per_s",
        "allowed_rate_per_s",
        "rate_ratio",
        "throttled_429",
        "injected_503",
        "accepted_each_second",
        "per_tenant_ratio",
        "cpu",
        "redis_commands_per_message",
    ):
        assert key in run, key
    assert (run["processes"], run["tenants"], run["trustees"]) == (2, 2, 12)
    assert (run["delivered"], run["lost"], run["duplicated"]) == (12, 0, 0)
    assert run["states"] == {"delivered": 12}
    assert run["allowed_rate_per_s"] == 100
    assert len(run["cpu"]["bot_processes_s"]) == 2


def test_opening_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "opening.json"
    opening.cli(["--trustees", "30", "--repeat", "2", "--out", str(out)])
    data = written(out)
    assert data["setup"] == {"trustees": 30, "repeat": 2, "target_s": opening.TARGET_S}
    assert [r["queued"] for r in data["runs"]] == [30, 30]  # every trustee's invitation
    assert data["jobs_queued"] == 30 and data["redis_commands_per_click"] > 0
    assert data["click_s"]["median"] >= data["queue_s"]["median"] > 0


def test_summary_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    summary.cli(["--repeat", "1", "--echo-turns", "2", "--out", str(out)])
    data = written(out)
    assert data["echo_turn_ms"]["median"] > 0
    paths = {(r["path"], r["view"], r["attributed"]) for r in data["runs"]}
    assert ("compute", "1 board, 20 trustees", False) in paths
    assert ("redis", "5 boards, 100 trustees", False) in paths
    for run in data["runs"]:
        assert {"median_ms", "max_ms", "ratio_to_echo_turn", "card_bytes"} <= run.keys()
        assert 0 < run["card_bytes"] < summary.CARD_BUDGET
    assert data["worst_ratio_to_echo_turn"] == max(r["ratio_to_echo_turn"] for r in data["runs"])
    assert data["largest_card_bytes"] == max(r["card_bytes"] for r in data["runs"])


def test_footprint_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "footprint.json"
    footprint.cli(["--rounds", "3", "--turn-rounds", "1", "--starts", "1", "--out", str(out)])
    data = written(out)
    assert data["redis"]["open_rounds"] == 3
    bot = data["memory_mb"]["bot"]
    assert bot["after_turns"]["VmRSS"] > 0 and bot["turns"] >= 3  # round card, board card, a start
    assert data["memory_mb"]["echo_bot"]["turns"] == bot["turns"]
    start = data["start_up"]
    for name in (footprint.BOT, footprint.BARE, footprint.ECHO):
        assert start[name]["median_s"] > 0
    assert start[footprint.BARE]["ratio_to_bare_aiohttp"] == 1.0


def test_turns_runs_every_bot_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "turns.json"
    turns.cli(["--users", "2", "--repeat", "2", "--out", str(out)])
    data = written(out)
    assert [sorted(r["order"]) for r in data["repetitions"]] == [sorted(turns.BOTS)] * 2
    assert data["repetitions"][0]["order"] != data["repetitions"][1]["order"]  # interleaved
    for rep in data["repetitions"]:
        for name, figures in rep["bots"].items():
            assert figures["turns"] == 2 * turns.TURNS_PER_USER, name
            assert figures["errors"] == 0, name
            # The floor's 34 turns can take less than one clock tick of CPU (10 ms) in all.
            assert figures["cpu_ms_per_turn"] > 0 or name == "floor", name
    ratios = data["summary"]["trustboard_vs"]
    assert set(ratios) == set(turns.BOTS) - {"trustboard"}
    assert {"median", "min", "max"} <= ratios["agents"]["p99_ms"].keys()
    assert set(data["summary"]["targets"]) == {
        "throughput >= 2x agents",
        "p99 <= 0.5x agents",
        "cpu per turn <= 2x floor",
    }


def test_a_bot_that_used_no_clock_tick_has_no_cpu_ratio_in_that_repetition() -> None:
    def repetition(floor_cpu: float) -> dict[str, Any]:
        figures = {"turns_per_s": 100.0, "p50_ms": 10.0, "p99_ms": 20.0, "cpu_ms_per_turn": 0.6}
        return {
            "bots": {
                "trustboard": figures,
                "floor": {**figures, "cpu_ms_per_turn": floor_cpu},
            }
        }

    summary = turns.summarise([repetition(0.3), repetition(0.0), repetition(0.2)], BOTH)
    cpu = summary["trustboard_vs"]["floor"]["cpu_ms_per_turn"]
    assert (cpu["min"], cpu["median"], cpu["max"]) == (2.0, 2.5, 3.0)
    assert summary["targets"]["cpu per turn <= 2x floor"] == 2.5

    nothing = turns.summarise([repetition(0.0)], BOTH)
    assert nothing["trustboard_vs"]["floor"]["cpu_ms_per_turn"] is None
    assert nothing["targets"]["cpu per turn <= 2x floor"] is None
    assert nothing["trustboard_vs"]["floor"]["p99_ms"]["median"] == 1.0


BOTH = ["trustboard", "floor"]
