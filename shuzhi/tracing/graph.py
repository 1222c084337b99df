"""The transmission graph: cases and their contacts as nodes, who exposed whom as edges, for the dashboard.

The JSON is shaped for an ECharts ``graph`` series (``nodes``, ``edges``, ``categories``; a node's
``category`` indexes ``categories``). Person keys are int64 pseudonyms, beyond JavaScript's exact
integers, so every id is a string. A degree-1 edge runs from the case to the contact; a degree-2 edge from
the close contact (``via``) to their contact, carrying the index case. Several rules linking the same two
people make one edge listing them all, the strongest classification first. Companions (same time-and-
place) can be numerous: leave them out of the picture unless asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyarrow as pa

from shuzhi.tracing.contacts import CLOSE, COMPANION, SECONDARY

if TYPE_CHECKING:
    from shuzhi.tracing.trace import TraceResult

CASE = "case"
CATEGORIES = (CASE, CLOSE, SECONDARY, COMPANION)
STRENGTH = {CLOSE: 0, SECONDARY: 1, COMPANION: 2}
SYMBOL_SIZE = {CASE: 18, CLOSE: 10, SECONDARY: 7, COMPANION: 5}


def transmission_graph(result: TraceResult, companions: bool = False) -> dict:
    """Nodes, edges and categories of a :class:`~shuzhi.tracing.trace.TraceResult` (companions if asked)."""
    contacts = result.contacts if companions else _without_companions(result.contacts)
    rows = sorted(contacts.to_pylist(), key=lambda r: STRENGTH[r["classification"]])
    cases = {r["case_key"]: r for r in result.cases.to_pylist()}
    return {
        "edition": result.edition,
        "categories": [{"name": name} for name in CATEGORIES],
        "nodes": _nodes(cases, rows),
        "edges": _edges(rows),
    }


def to_json(graph: dict) -> str:
    return json.dumps(graph, ensure_ascii=False, default=str)


def _without_companions(contacts: pa.Table) -> pa.Table:
    keep = [c != COMPANION for c in contacts["classification"].to_pylist()]
    return contacts.filter(pa.array(keep, pa.bool_()))


def _nodes(cases: dict[int, dict], rows: list[dict]) -> list[dict]:
    status: dict[int, str] = {}
    for row in rows:  # strongest classification first: the first one seen wins
        status.setdefault(row["contact_key"], row["classification"])
        if row["via_key"] is not None:
            status.setdefault(row["via_key"], CLOSE)
    nodes = [_node(key, CASE, case["status"], case["diagnosed_at"]) for key, case in cases.items()]
    nodes += [_node(key, kind, kind, None) for key, kind in status.items() if key not in cases]
    return nodes


def _node(key: int, category: str, status: str, diagnosed_at) -> dict:
    node = {
        "id": str(key),
        "name": str(key),
        "category": CATEGORIES.index(category),
        "status": status,
        "symbolSize": SYMBOL_SIZE[category],
    }
    if diagnosed_at is not None:
        node["diagnosed_at"] = diagnosed_at.isoformat(sep=" ")
    return node


def _edges(rows: Iterable[dict]) -> list[dict]:
    edges: dict[tuple[int, int], dict] = {}
    for row in rows:
        source = row["via_key"] if row["via_key"] is not None else row["case_key"]
        edge = edges.setdefault((source, row["contact_key"]), _edge(source, row))
        if row["rule"] not in edge["rules"]:
            edge["rules"].append(row["rule"])
            edge["evidence"].append(row["evidence"])
    return list(edges.values())


def _edge(source: int, row: dict) -> dict:
    return {
        "source": str(source),
        "target": str(row["contact_key"]),
        "case": str(row["case_key"]),
        "degree": row["degree"],
        "classification": row["classification"],
        "rule": row["rule"],
        "rules": [],
        "evidence": [],
        "first_contact_at": row["first_contact_at"].isoformat(sep=" ") if row["first_contact_at"] else None,
    }
