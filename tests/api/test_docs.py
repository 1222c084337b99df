"""docs/platform.md's roles × purposes and endpoint tables say what the code does."""

from __future__ import annotations

from pathlib import Path

from shuzhi.accounts import Purpose, Role, may_serve

from .conftest import Instance

DOC = Path(__file__).parents[2] / "docs" / "platform.md"


def _table(header_start: str) -> list[list[str]]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return [rows[0], *rows[2:]]


def test_the_roles_by_purposes_table_matches_the_code() -> None:
    header, *rows = _table("| role | authentication")
    assert header[1:] == [p.value for p in Purpose]
    table = {row[0]: row[1:] for row in rows}
    assert set(table) == {r.value for r in Role}
    for role in Role:
        ticked = {Purpose(p) for p, cell in zip(header[1:], table[role.value], strict=True) if cell == "✓"}
        assert ticked == {p for p in Purpose if may_serve(role, p)}, role


def test_the_endpoint_table_matches_the_app(instance: Instance) -> None:
    _header, *rows = _table("| method | path | roles | purpose |")
    documented = {(m, p): (roles, purpose) for m, p, roles, purpose in rows}
    actual = {
        key: ("anyone" if r.roles is None else ", ".join(sorted(r.roles)), r.purpose.value)
        for key, r in instance.app.state.access.items()
    }
    assert documented == actual
