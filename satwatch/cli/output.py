"""Rendering for every command: ``--format table|json|csv``, Rich tables and
progress bars.  Commands build plain rows (dicts) and hand them here."""
from __future__ import annotations

import csv
import json
import math
import sys
from contextlib import contextmanager
from enum import Enum

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


_PLAIN_TYPES = (str, int, bool, type(None))


def _plain(value):
    if isinstance(value, _PLAIN_TYPES):
        return value
    if isinstance(value, (np.floating,)):
        value = float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_json(data) -> str:
    return json.dumps(_plain(data), indent=1, ensure_ascii=False)


# Into a file or a pipe a table keeps its natural width (up to this many
# characters) rather than folding cells: a time cut into '...00:02:28.96' and
# '6Z' on the next line can be neither read nor grepped.
PIPE_WIDTH = 1000


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, soft_wrap=False,
                   width=None if sys.stdout.isatty() else PIPE_WIDTH)


# A table is for reading: past this many rows it shows the first ones and
# says how to get all (JSON and CSV always carry every row).  Rendering a
# Rich table costs ~3 ms a row, so a whole-catalog answer would take minutes.
MAX_TABLE_ROWS = 500


def emit(rows, fmt: Format, *, columns=None, title: str | None = None, out=None,
         document=None, footer: str | None = None, max_table_rows: int = MAX_TABLE_ROWS,
         plain: bool = False):
    """Print rows as a Rich table, a JSON array (or ``document`` when given)
    or CSV.  ``columns``: keys to show in table and CSV (all by default).
    ``plain``: the rows hold only str/int/float/bool/None (finite floats) and
    lists of those, so the conversion of numpy values is skipped."""
    out = out or sys.stdout
    if not plain:
        rows = [_plain(r) for r in rows]
    if fmt == Format.json:
        if document is None:
            # one row per line, each by json's C encoder (an indented dump of
            # a whole-catalog answer takes the pure-Python encoder: ~10 s)
            out.write("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
                      + "\n]\n" if rows else "[]\n")
        else:
            out.write(to_json(document) + "\n")
        return
    cols = columns or (list(rows[0].keys()) if rows else [])
    if fmt == Format.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(cols)
        for r in rows:
            writer.writerow(["" if r.get(c) is None else
                             (json.dumps(r[c]) if isinstance(r.get(c), (list, dict)) else r[c])
                             for c in cols])
        return
    if len(rows) > max_table_rows:
        more = (f"{len(rows) - max_table_rows} more rows not shown (of {len(rows)}): "
                "use --format json or --format csv for all")
        footer = f"{footer}\n{more}" if footer else more
        rows = rows[:max_table_rows]
    # Cells, title and footer are data, shown as written: never read as Rich
    # markup (a unit "[rad]" in a rejection's reason, or a name "X [b]",
    # would vanish, and "[/]" would raise MarkupError).
    table = Table(title=None if title is None else Text(title), show_lines=False,
                  header_style="bold")
    for c in cols:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*[Text(_cell(r.get(c))) for c in cols])
    con = Console(file=out,
                  width=PIPE_WIDTH if not getattr(out, "isatty", lambda: False)() else None)
    con.print(table)
    if footer:
        con.print(footer, markup=False)


# Three decimals suit degrees, km and seconds; a smaller magnitude (a
# probability of collision of 1.2e-05, an eccentricity of 0.0005, a coverage
# fraction) keeps three significant digits instead of reading as 0.000.
SMALL_CELL = 0.1


def _float_cell(value: float) -> str:
    if value != 0.0 and abs(value) < SMALL_CELL:
        return f"{value:.3g}"
    return f"{value:.3f}"


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return _float_cell(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return str(value)


@contextmanager
def progress(description: str, total: int | None = None, *, enabled: bool = True):
    """A Rich progress bar on stderr; yields ``advance(n=1)``."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n=1: None
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn(
            "{task.completed}/{task.total}"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


@contextmanager
def spinner(description: str):
    """A spinner on stderr (a terminal only) for a wait of unknown length,
    such as reading a whole store."""
    if not sys.stderr.isatty():
        yield
        return
    with Console(stderr=True).status(description):
        yield
