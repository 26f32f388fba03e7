"""``--format table|json|csv``: tables never cut a date or an id, in a terminal or a pipe."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from rich.console import Console

from clearinghouse.cli_output import Column, OutputFormat, emit, render_table

ROWS = [
    {
        "id": "0f5e2c1a-7d3b-4c2e-9a61-5b8f0d2e4c11",
        "title": "A long title that a narrow terminal has to wrap over several lines to show",
        "due": dt.date(2026, 7, 2),
        "count": 12,
        "tags": ["a", "b"],
        "done": False,
    },
    {"id": "b", "title": "short", "due": None, "count": 3, "tags": [], "done": True},
]
COLUMNS = [
    Column("id", kind="id"),
    Column("title"),
    Column("due", kind="date"),
    Column("count", kind="number"),
    Column("tags"),
    Column("done"),
]


@pytest.mark.parametrize("width", [40, 60, 120, 200])
def test_a_terminal_at_any_width_shows_dates_and_ids_whole(width: int) -> None:
    console = Console(width=width, record=True, force_terminal=True)
    emit(ROWS, COLUMNS, OutputFormat.TABLE, title="t", console=console)
    text = console.export_text()
    assert "2026-07-02" in text
    assert "0f5e2c1a-7d3b-4c2e-9a61-5b8f0d2e4c11" in text
    assert ("┃" in text) == (width >= 120)  # a table where it fits, one block per row where not


def test_a_table_wraps_text_not_dates() -> None:
    console = Console(width=100, record=True, force_terminal=True)
    console.print(render_table(ROWS, COLUMNS))
    text = console.export_text()
    assert "2026-07-02" in text and "0f5e2c1a-7d3b-4c2e-9a61-5b8f0d2e4c11" in text


def test_a_pipe_gets_a_table_as_wide_as_its_content(capsys: pytest.CaptureFixture[str]) -> None:
    emit(ROWS, COLUMNS, OutputFormat.TABLE, title="t", footer="2 shown")
    out = capsys.readouterr().out
    assert "0f5e2c1a-7d3b-4c2e-9a61-5b8f0d2e4c11" in out and "2026-07-02" in out
    assert out.rstrip().endswith("2 shown")
    assert "yes" in out and "a, b" in out


def test_json_and_csv_carry_raw_values(capsys: pytest.CaptureFixture[str]) -> None:
    emit(ROWS, COLUMNS, OutputFormat.JSON)
    data = json.loads(capsys.readouterr().out)
    assert data[0]["due"] == "2026-07-02" and data[0]["tags"] == ["a", "b"] and data[1]["due"] is None
    assert data[0]["done"] is False and data[0]["count"] == 12
    emit(ROWS, COLUMNS, OutputFormat.CSV)
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["id", "title", "due", "count", "tags", "done"]
    assert rows[1][2] == "2026-07-02" and rows[2][2] == ""
