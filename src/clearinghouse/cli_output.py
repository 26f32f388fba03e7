"""How every list command prints: ``--format table|json|csv``.

A table never cuts a date, an id or a deadline: those columns do not wrap and are as wide as
their longest value; free text wraps instead. When standard output is not a terminal (a pipe,
a file) the table is as wide as its content, so ``clearinghouse directives list | cat`` shows
every value whole. JSON (a list of objects) and CSV (a header row) are for scripts.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

ColumnKind = Literal["text", "id", "date", "number"]


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="table (for people; never cuts a date or an id), json (a list of objects) or csv.",
    ),
]


@dataclass(frozen=True)
class Column:
    """One output column: ``key`` in each row, its header, and what kind of value it holds
    (``id``, ``date`` and ``number`` are never wrapped or cut)."""

    key: str
    header: str = ""
    kind: ColumnKind = "text"

    @property
    def title(self) -> str:
        return self.header or self.key.replace("_", " ")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def render_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    *,
    title: str | None = None,
    row_style: Callable[[dict[str, Any]], str | None] | None = None,
) -> Table:
    table = Table(title=title)
    for column in columns:
        cells = [_cell(row.get(column.key)) for row in rows]
        longest = max([len(column.title), *(len(c) for c in cells)])
        if column.kind == "text":
            table.add_column(column.title, overflow="fold")
        else:
            table.add_column(
                column.title,
                no_wrap=True,
                min_width=longest,
                justify="right" if column.kind == "number" else "left",
            )
    for row in rows:
        table.add_row(*(_cell(row.get(c.key)) for c in columns), style=row_style(row) if row_style else None)
    return table


def _natural_width(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> int:
    widths = [max([len(c.title), *(len(_cell(row.get(c.key))) for row in rows)]) + 3 for c in columns]
    return sum(widths) + 1


def emit(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[Column],
    fmt: OutputFormat = OutputFormat.TABLE,
    *,
    title: str | None = None,
    footer: str | None = None,
    row_style: Callable[[dict[str, Any]], str | None] | None = None,
    console: Console | None = None,
) -> None:
    """Print ``rows`` (dicts) in ``fmt``. JSON and CSV carry every column's raw value (dates in
    ISO 8601); the table's ``footer`` line is printed only for the table."""
    data = [dict(row) for row in rows]
    if fmt is OutputFormat.JSON:
        out = [{c.key: _plain(row.get(c.key)) for c in columns} for row in data]
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        return
    if fmt is OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c.key for c in columns])
        for row in data:
            writer.writerow(["" if row.get(c.key) is None else _cell(row.get(c.key)) for c in columns])
        sys.stdout.write(buffer.getvalue())
        return
    fixed = _natural_width(data, [c for c in columns if c.kind != "text"])
    texts = sum(1 for c in columns if c.kind == "text")
    if console is None:
        terminal = sys.stdout.isatty()
        # Not a terminal: wide enough for every unwrappable column whole, text wrapping beside them.
        width = None if terminal else min(_natural_width(data, columns), max(160, fixed + 20 * len(columns)))
        console = Console(width=width, soft_wrap=False)
    if console.width < fixed + 12 * texts:
        # Too narrow for a table that keeps every date and id whole: one block per row instead.
        if title:
            console.print(title, style="bold")
        for row in data:
            console.print()
            for column in columns:
                console.print(
                    f"[bold]{column.title}:[/] {_cell(row.get(column.key))}",
                    style=row_style(row) if row_style else None,
                    highlight=False,
                )
    else:
        console.print(render_table(data, columns, title=title, row_style=row_style))
    if footer:
        console.print(footer)
