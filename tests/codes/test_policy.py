"""The codes policy is data: editions load, a changed number changes colours, a bad file names its key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from shuzhi.codes import load_policy
from shuzhi.policy import PolicyError, edition_dir, editions

from .spec import colours_on, expect, register

RESIDENTS = "person_key | county_code\n1 | 330102"
CONTACT = """
case_key | contact_key | degree | classification | setting   | last_contact_at
9        | 1           | 1      | close          | household | 2020-01-23 19:30
"""


def _edition_copy(tmp_path: Path, edition: str, edit) -> Path:
    """A copy of a shipped edition in ``tmp_path`` whose codes.yaml is passed through ``edit``."""
    folder = tmp_path / edition
    shutil.copytree(edition_dir(edition), folder)
    path = folder / "codes.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def _rule(data: dict, rule_id: str) -> dict:
    return next(r for r in data["rules"] if r["id"] == rule_id)


@pytest.mark.parametrize("edition", editions())
def test_shipped_editions_load(edition):
    policy = load_policy(edition)
    assert policy.edition == edition
    assert policy.default.id == "default_green"
    assert {"case", "close_contact", "companion"} <= {r.id for r in policy.rules}
    assert ("secondary_contact" in {r.id for r in policy.rules}) == (edition != "2022-11th")


def test_changing_the_observation_period_changes_colours(engine, tmp_path):
    def shorter(data: dict) -> None:
        _rule(data, "close_contact")["phases"][0]["days"] = 10

    register(engine, residents=RESIDENTS, contacts=CONTACT)
    days = ["2020-02-02", "2020-02-03", "2020-02-06"]
    expect(
        colours_on(engine, "2020-5th", days),
        """
        day        | colour | valid_until
        2020-02-02 | red    | 2020-02-06
        2020-02-03 | red    | 2020-02-06
        2020-02-06 | red    | 2020-02-06
        """,
    )
    expect(
        colours_on(engine, _edition_copy(tmp_path, "2020-5th", shorter), days),
        """
        day        | colour | valid_until
        2020-02-02 | red    | 2020-02-02
        2020-02-03 | yellow | 2020-02-09
        2020-02-06 | yellow | 2020-02-09
        """,
    )


def test_changing_the_checkin_days_changes_colours(engine, tmp_path):
    def fewer(data: dict) -> None:
        data["clearing"]["checkin"]["days"]["red"] = 5

    checkins = "\n".join(f"1 | 2020-01-{day} 08:00 | 36.4 | []" for day in range(24, 29))
    register(
        engine,
        residents=RESIDENTS,
        contacts=CONTACT,
        declarations="person_key | declared_at | temperature | symptoms\n" + checkins,
    )
    assert colours_on(engine, "2020-5th", ["2020-01-28"]).column("colour").to_pylist() == ["red"]
    edited = _edition_copy(tmp_path, "2020-5th", fewer)
    assert colours_on(engine, edited, ["2020-01-28"]).column("colour").to_pylist() == ["green"]


def test_changing_a_reason_text_changes_the_reason(engine, tmp_path):
    def reworded(data: dict) -> None:
        _rule(data, "close_contact")["reason"]["en"] = "close contact at {place} on {date}"

    contacts = """
    case_key | contact_key | degree | classification | setting | place | last_contact_at
    9        | 1           | 1      | close          | meal    | 餐馆A | 2020-01-23 19:30
    """
    register(engine, residents=RESIDENTS, contacts=contacts)
    [reason] = colours_on(engine, _edition_copy(tmp_path, "2020-5th", reworded), ["2020-01-24"])["reason"]
    assert reason.as_py() == "密切接触者（与病例同桌就餐 2020-01-23） / close contact at 餐馆A on 2020-01-23"


def _set(path: str, value):
    """An edit that sets the key at dotted ``path`` (list indices as numbers), or deletes it if ``value`` is
    :data:`DELETE`."""

    def edit(data: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = data
        for part in parents:
            node = node[part]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value

    return edit


DELETE = object()


@pytest.mark.parametrize(
    ("edition", "path", "value", "key"),
    [
        ("2020-5th", "declaration.fever_celsius", DELETE, "declaration.fever_celsius"),
        ("2020-5th", "declaration.fever_celsius", "hot", "declaration.fever_celsius"),
        ("2020-5th", "rules.1.phases.0.days", "fourteen", "rules.1.phases.0.days"),
        ("2020-5th", "rules.1.phases.0.days", 0, "rules.1.phases.0.days"),
        ("2020-5th", "rules.1.phases.0.colour", "purple", "rules.1.phases.0.colour"),
        ("2020-5th", "rules.1.phases.0.days", None, "rules.1.phases.0.days"),
        ("2020-5th", "rules.0.release", DELETE, "rules.0.release"),
        ("2020-5th", "rules.1.cleared_by", ["negative_tests"], "rules.1.cleared_by"),
        ("2020-5th", "rules.1.cleared_by", ["prayer"], "rules.1.cleared_by.0"),
        ("2020-5th", "rules.1.when.classifications", ["closeish"], "rules.1.when.contacts.classifications"),
        ("2020-5th", "rules.3.when.levels", ["extreme"], "rules.3.when.arrivals.levels"),
        ("2020-5th", "rules.3.when.source", "rumours", "rules.3.when"),
        ("2020-5th", "rules.2.id", "close_contact", "rules.2.id"),
        ("2020-5th", "rules.0.reason.en", "{label} since {when}", "rules.0.reason"),
        ("2020-5th", "rules.0.colour", "red", "rules.0.colour"),
        ("2020-5th", "clearing.checkin.days.blue", 3, "clearing.checkin.days.blue"),
        ("2022-9th", "clearing.negative_tests.count", 0, "clearing.negative_tests.count"),
        ("2022-9th", "clearing.negative_tests.colours", ["amber"], "clearing.negative_tests.colours"),
        ("2022-9th", "arrivals.match_digits", 5, "arrivals.match_digits"),
        ("2022-9th", "default.colour", "white", "default.colour"),
        ("2022-9th", "rules.1.phases.0.measure", "hotel", "rules.1.phases.0.measure"),
        ("2022-9th", "rules.1.tests.days", [1, 11], "rules.1.tests.days"),
        ("2022-9th", "rules.1.tests.days", [3, 1], "rules.1.tests.days"),
        ("2022-9th", "rules.1.tests.days", [0, 1], "rules.1.tests.days"),
        ("2022-9th", "rules.1.tests.methods", [], "rules.1.tests.methods"),
        ("2022-9th", "rules.0.tests", {"days": [1], "methods": ["pcr"]}, "rules.0.tests"),
        ("2022-9th", "rules.0.checks", {"per_day": 2}, "rules.0.checks"),
        ("2022-9th", "rules.1.checks.per_day", 0, "rules.1.checks.per_day"),
        ("2022-9th", "followup.lost_after_failed_visits", 0, "followup.lost_after_failed_visits"),
        ("2022-9th", "followup.lost_after_visits", 2, "followup.lost_after_visits"),
    ],
)
def test_a_malformed_policy_names_the_key(tmp_path, edition, path, value, key):
    folder = _edition_copy(tmp_path, edition, _set(path, value))
    with pytest.raises(PolicyError) as raised:
        load_policy(folder)
    assert key in str(raised.value)
    assert "codes.yaml" in str(raised.value)


def test_a_missing_codes_section_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PolicyError, match="codes"):
        load_policy(tmp_path / "empty")
