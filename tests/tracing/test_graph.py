"""The transmission graph: nodes with status, one edge per pair of people, string ids, ECharts shape."""

from __future__ import annotations

import json

from shuzhi.tracing.graph import to_json
from tracing.spec import trace_with
from tracing.test_secondary import _given_the_town


def test_graph_of_cases_close_contacts_and_contacts_of_contacts(given, engine):
    _given_the_town(given)
    result = trace_with(engine, "2022-9th")
    graph = json.loads(to_json(result.graph()))
    assert [c["name"] for c in graph["categories"]] == ["case", "close", "secondary", "companion"]
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert {k: n["status"] for k, n in nodes.items()} == {
        "1": "confirmed",
        "2": "close",
        "3": "close",
        "5": "secondary",
        "6": "secondary",
        "7": "secondary",
    }
    assert nodes["1"]["category"] == 0 and nodes["1"]["diagnosed_at"] == "2022-03-06 10:00:00"
    edges = {(e["source"], e["target"]): e for e in graph["edges"]}
    assert set(edges) == {("1", "2"), ("1", "3"), ("2", "5"), ("2", "6"), ("2", "7")}
    assert edges[("2", "7")]["case"] == "1" and edges[("2", "7")]["rule"] == "shared_table"
    assert edges[("2", "7")]["evidence"][0].startswith("via close contact 2: meal at R2")


def test_one_edge_lists_every_rule_linking_two_people(given, engine):
    _given_the_town(given)
    given("residents", "| person_key | household_id |\n| 1 | H1 |\n| 2 | H1 |")
    edges = trace_with(engine, "2022-9th").graph()["edges"]
    both = [e for e in edges if (e["source"], e["target"]) == ("1", "2")]
    assert len(both) == 1 and sorted(both[0]["rules"]) == ["household", "shared_table", "small_restaurant"]
