"""A date the calendar cannot carry through a query (`until=9999-12-31`: its end is in year
10000; `since=0001-01-01`: UTC is in year 0 in Paris) is a 400 that says why, on the API
and on the evidence export, never a 500 (issue 24 item 10)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from test_security import web_context

from creneau.web.app import create_app

OUT_OF_RANGE = "is out of range: the year must be from 0002 to 9998"
PATHS = ("/api/v1/releases", "/targets/t/evidence.zip")


def client(tmp_path: Path) -> TestClient:
    app = create_app(web_context(tmp_path))
    return TestClient(app, base_url="http://127.0.0.1:8765", raise_server_exceptions=False)


def said(answer_text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", answer_text).split())


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("since=2026-01-01&until=9999-12-31", f"until: 9999-12-31 {OUT_OF_RANGE}"),
        ("since=2026-01-01&until=9999-12-31T23:59", f"until: 9999-12-31T23:59 {OUT_OF_RANGE}"),
        ("since=0001-01-01", f"since: 0001-01-01 {OUT_OF_RANGE}"),
        ("since=0001-01-01T00:30", f"since: 0001-01-01T00:30 {OUT_OF_RANGE}"),
        ("since=9999-12-31", f"since: 9999-12-31 {OUT_OF_RANGE}"),
        ("since=2026-01-01&until=0001-01-01", f"until: 0001-01-01 {OUT_OF_RANGE}"),
    ],
)
def test_a_date_out_of_range_is_a_400_with_the_reason(
    tmp_path: Path, path: str, query: str, reason: str
) -> None:
    answer = client(tmp_path).get(f"{path}?{query}")
    assert answer.status_code == 400
    assert reason in said(answer.text)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("year", ["0002", "9998"])
def test_the_first_and_last_years_in_range_are_answered(
    tmp_path: Path, path: str, year: str
) -> None:
    answer = client(tmp_path).get(f"{path}?since={year}-01-01&until={year}-12-31")
    assert answer.status_code == 200


def test_the_api_answers_the_whole_range(tmp_path: Path) -> None:
    answer = client(tmp_path).get("/api/v1/releases?since=0002-01-01&until=9998-12-31")
    assert answer.status_code == 200


def test_an_evidence_period_of_centuries_is_a_400_with_the_reason(tmp_path: Path) -> None:
    answer = client(tmp_path).get("/targets/t/evidence.zip?since=0002-01-01&until=9998-12-31")
    assert answer.status_code == 400
    assert "an export covers at most 1098 days (about three years)" in said(answer.text)
