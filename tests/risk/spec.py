"""Table-shaped spec tests (after ehrQL): input and expected tables written as text, parsed into Arrow.

An input table names canonical-model columns in its header; the columns it leaves out are null; each cell is
converted to the model's type (``2020-02-01`` is a date, or midnight of that day for a timestamp; an empty
cell is null). A ``repeat`` column stands for that many rows: ``person_key`` counts up from the given one
and ``{i}`` in a cell becomes the row's number (0, 1, ...)::

    | person_key | county_code | status    | diagnosed_at | repeat |
    | 1          | 330102      | confirmed | 2020-02-01   | 51     |

An expected table is compared row by row with a result: its ``keys`` columns find the result row, its other
columns must match (numbers within 1e-6). Parsing and typing are :mod:`spec_tables`'.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import spec_tables
import yaml

from shuzhi.engine import Engine
from shuzhi.model import TABLES
from shuzhi.policy import edition_dir


def _repeat(row: spec_tables.Row) -> list[spec_tables.Row]:
    """A row with a ``repeat`` column as that many: ``{i}`` is the row's number, ``person_key`` counts up."""
    row = dict(row)
    times = int(row.pop("repeat", "1") or 1)
    out = []
    for i in range(times):
        copy = {name: cell.replace("{i}", str(i)) for name, cell in row.items()}
        if i and copy.get("person_key"):
            copy["person_key"] = str(int(copy["person_key"]) + i)
        out.append(copy)
    return out


def arrow(text: str, schema: pa.Schema) -> pa.Table:
    """Any text table as Arrow with ``schema`` (for inputs that are not canonical tables, e.g. risk lists)."""
    return spec_tables.table(text, schema, expand=_repeat)


def table(name: str, text: str) -> pa.Table:
    """The canonical table ``name`` (see :mod:`shuzhi.model`) from a text table."""
    return arrow(text, TABLES[name].schema)


def register(engine: Engine, **tables: str) -> None:
    """Register each ``name=text`` as the canonical table ``name`` on ``engine``."""
    spec_tables.register(engine, tables, lambda name: TABLES[name].schema, expand=_repeat)


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and got is not None:
        return math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-6)
    return got == want


def assert_rows(result: pa.Table, text: str, keys: tuple[str, ...] = ("county_code", "day")) -> None:
    """Each row of the expected text table is in ``result``: found by ``keys``, equal in the other columns."""
    index = {tuple(r[k] for k in keys): r for r in result.to_pylist()}
    problems = []
    header, _ = spec_tables.parse(text)
    for want in spec_tables.rows(text, pa.schema([result.schema.field(n) for n in header]), _repeat):
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
