"""bench/results.json keeps every section's latest figures: a run of some sections replaces
theirs and keeps the others, each with the day it was measured."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from bench import run
from bench.figures import Figure


def test_a_run_replaces_its_sections_and_keeps_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "results.json"
    monkeypatch.setattr(run, "RESULTS", results)
    earlier = {
        "footprint": {"date": "2026-01-05", "seconds": 180.0, "figures": [{"name": "rss"}]},
        "history": {"date": "2026-01-05", "seconds": 60.0, "figures": [{"name": "old"}]},
    }
    results.write_text(json.dumps({"sections": earlier}))
    store_figure = Figure("store", "bytes per check", 128, "B")  # a section's other heading
    day = datetime(2031, 2, 3, 12, tzinfo=UTC)
    with time_machine.travel(day, tick=False):
        merged = run.merged_results({"cores": 2}, {"history": 42.0}, {"history": [store_figure]})
    assert list(merged["sections"]) == ["footprint", "history"]  # in SECTIONS' order
    assert merged["sections"]["footprint"] == earlier["footprint"]
    assert merged["sections"]["history"] == {
        "date": day.date().isoformat(),
        "seconds": 42.0,
        "figures": [store_figure.to_json()],
    }
    assert merged["machine"] == {"cores": 2}


def test_an_unreadable_results_file_starts_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "results.json"
    results.write_text("{not json")
    monkeypatch.setattr(run, "RESULTS", results)
    figure = Figure("parse", "pages per second", 4000, "/s")
    merged = run.merged_results({}, {"parse": 1.0}, {"parse": [figure]})
    assert list(merged["sections"]) == ["parse"]
    assert merged["sections"]["parse"]["figures"] == [figure.to_json()]
