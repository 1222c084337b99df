"""Table-shaped spec tests (after ehrQL): input and expected tables written as text, parsed into Arrow.

An input table names canonical-model columns in its header; the columns it leaves out are null; each cell is
converted to the model's type (``2020-02-01`` is a date, or midnight of that day for a timestamp; an empty
cell is null). A ``repeat`` column stands for that many rows: ``person_key`` counts up from the given one
and ``{i}`` in a cell becomes the row's number (0, 1, ...)::

    | person_key | county_code | status    | diagnosed_at | repeat |
    | 1          | 330102      | confirmed | 2020-02-01   | 51     |

An expected table is compared row by row with a result: its ``keys`` columns find the result row, its other
columns must match (numbers within 1e-6).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from shuzhi.engine import Engine
from shuzhi.model import TABLES
from shuzhi.policy import edition_dir


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(text: str) -> list[dict[str, str]]:
    """Rows of a ``| a | b |`` text table as dicts of strings (separator lines like ``|---|`` are skipped)."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    header = _cells(lines[0])
    rows = [_cells(ln) for ln in lines[1:] if set(ln.strip()) - set("|-: ")]
    for row in rows:
        assert len(row) == len(header), f"row {row} has {len(row)} cells, header has {len(header)}"
    return [dict(zip(header, row, strict=True)) for row in rows]


def value(cell: str, kind: pa.DataType) -> Any:
    """A text cell as a Python value of Arrow type ``kind``; an empty cell is None."""
    if cell == "":
        return None
    if pa.types.is_integer(kind):
        return int(cell)
    if pa.types.is_floating(kind):
        return float(cell)
    if pa.types.is_boolean(kind):
        return cell.lower() in ("true", "yes", "1")
    if pa.types.is_date(kind):
        return dt.date.fromisoformat(cell)
    if pa.types.is_timestamp(kind):
        return dt.datetime.fromisoformat(cell)
    return cell


def rows_of(text: str, schema: pa.Schema) -> list[dict[str, Any]]:
    """Typed rows of a text table, with ``repeat`` expanded and missing columns null."""
    out = []
    for row in parse(text):
        times = int(row.pop("repeat", "1") or 1)
        unknown = set(row) - set(schema.names)
        assert not unknown, f"columns {sorted(unknown)} are not in the schema {schema.names}"
        for i in range(times):
            typed = {
                n: value(row.get(n, "").replace("{i}", str(i)), schema.field(n).type) for n in schema.names
            }
            if i and typed.get("person_key") is not None:
                typed["person_key"] += i
            out.append(typed)
    return out


def table(name: str, text: str) -> pa.Table:
    """The canonical table ``name`` (see :mod:`shuzhi.model`) from a text table."""
    schema = TABLES[name].schema
    return pa.Table.from_pylist(rows_of(text, schema), schema=schema)


def register(engine: Engine, **tables: str) -> None:
    """Register each ``name=text`` as the canonical table ``name`` on ``engine``."""
    for name, text in tables.items():
        engine.register(name, table(name, text))


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and got is not None:
        return math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-6)
    return got == want


def assert_rows(result: pa.Table, text: str, keys: tuple[str, ...] = ("county_code", "day")) -> None:
    """Each row of the expected text table is in ``result``: found by ``keys``, equal in the other columns."""
    index = {tuple(r[k] for k in keys): r for r in result.to_pylist()}
    problems = []
    for want in rows_of(text, pa.schema([result.schema.field(n) for n in parse(text)[0]])):
        key = tuple(want[k] for k in keys)
        got = index.get(key)
        if got is None:
            problems.append(f"{key}: no such row")
            continue
        diff = {c: (got[c], v) for c, v in want.items() if not _same(got[c], v)}
        if diff:
            problems.append(
                f"{key}: " + ", ".join(f"{c} is {g!r}, expected {w!r}" for c, (g, w) in diff.items())
            )
    assert not problems, "\n".join(problems)


DELETE = object()  # a change that removes the key


def edited(folder: Path, name: str, section: str, changes: dict[str, Any]) -> Path:
    """Copy the shipped edition ``name`` to ``folder`` (once) and set each dotted key of ``section``."""
    if not folder.exists():
        shutil.copytree(edition_dir(name), folder)
    path = folder / f"{section}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, new in changes.items():
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        slot = int(last) if isinstance(node, list) else last
        if new is DELETE:
            del node[slot]
        else:
            node[slot] = new
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def arrow(text: str, schema: pa.Schema) -> pa.Table:
    """Any text table as Arrow with ``schema`` (for inputs that are not canonical tables, e.g. risk lists)."""
    return pa.Table.from_pylist(rows_of(text, schema), schema=schema)
