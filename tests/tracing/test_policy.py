"""Spec: the contact policy is data — every shipped edition loads, an edited number changes the trace, and a
malformed file fails with a message naming the key."""

from __future__ import annotations

import shutil

import pytest
import yaml

from shuzhi.policy import PolicyError, edition_dir, editions
from shuzhi.tracing import load_policy
from tracing.spec import trace_with

CASE = """
| person_key | status    | onset_date | diagnosed_at        |
| 1          | confirmed | 2022-03-05 | 2022-03-06 10:00:00 |
"""

VENUES = """
| venue_code | category   | capacity | lon    | lat   |
| R1         | restaurant | 40       | 120.10 | 30.20 |
"""

# 12 minutes together at a small restaurant, 3 days before onset.
STAYS = """
| person_key | venue_code | time_in             | time_out            |
| 1          | R1         | 2022-03-02 12:00:00 | 2022-03-02 12:30:00 |
| 2          | R1         | 2022-03-02 12:18:00 | 2022-03-02 13:00:00 |
"""


def _edition_copy(tmp_path, edition: str = "2022-9th"):
    folder = tmp_path / edition
    shutil.copytree(edition_dir(edition), folder)
    return folder


def _rule(data: dict, section: str, name: str) -> dict:
    return next(rule for rule in data[section] if rule["name"] == name)


def _edit(folder, change) -> None:
    path = folder / "contact.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_every_shipped_edition_has_a_valid_contact_section():
    shipped = [e for e in editions() if (edition_dir(e) / "contact.yaml").exists()]
    assert {"2020-5th", "2022-9th", "2022-11th"} <= set(shipped)
    for edition in shipped:
        assert load_policy(edition).edition == edition


def test_editing_a_number_in_the_policy_file_changes_the_result(given, engine, tmp_path):
    given("diagnoses", CASE)
    given("venues", VENUES)
    given("venue_stays", STAYS)
    folder = _edition_copy(tmp_path)
    assert trace_with(engine, folder).close.num_rows == 0

    _edit(folder, lambda d: _rule(d, "venues", "small_restaurant").update(min_overlap_minutes=10))
    assert trace_with(engine, folder).close["contact_key"].to_pylist() == [2]

    _edit(folder, lambda d: d["window"].update(days_before_onset=2))
    assert trace_with(engine, folder).close.num_rows == 0

    _edit(folder, lambda d: d["window"].update(days_before_onset=3))
    _edit(folder, lambda d: _rule(d, "venues", "small_restaurant").update(max_capacity=39))
    assert trace_with(engine, folder).close.num_rows == 0


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d["window"].pop("days_before_onset"), "window.days_before_onset"),
        (lambda d: d["window"].update(days_before_onset="four"), "window.days_before_onset"),
        (lambda d: d["venues"][0].update(min_overlap_minutes=-1), "venues.0.min_overlap_minutes"),
        (lambda d: d["venues"][1].update(categories=["disco"]), "venues.1.categories"),
        (lambda d: d["vehicles"][0].pop("rows_apart"), "rows_apart"),
        (lambda d: d["vehicles"][1].pop("rows_apart"), "key 'rows_apart' is required when match is 'crew'"),
        (lambda d: d["vehicles"][0].update(mode="rocket"), "vehicles.0.mode"),
        (lambda d: d["companions"].update(cell_metres=0), "companions.cell_metres"),
        (lambda d: d["secondary"].update(via_rules=["household", "aircraft_rows"]), "secondary.via_rules"),
        (lambda d: d["household"].update(radius_metres=1), "household.radius_metres"),
        (lambda d: d["index_cases"].update(statuses=["recovered"]), "index_cases.statuses.0"),
        (lambda d: d["vehicles"].append(dict(d["vehicles"][0])), "unique"),
    ],
)
def test_a_malformed_policy_fails_naming_the_key(tmp_path, change, key):
    folder = _edition_copy(tmp_path)
    _edit(folder, change)
    with pytest.raises(PolicyError, match="contact.yaml") as failure:
        load_policy(folder)
    assert key in str(failure.value)


def test_a_policy_that_is_not_yaml_fails_naming_the_file(tmp_path):
    folder = _edition_copy(tmp_path)
    (folder / "contact.yaml").write_text("window: [unclosed", encoding="utf-8")
    with pytest.raises(PolicyError, match="contact.yaml: not valid YAML"):
        load_policy(folder)
